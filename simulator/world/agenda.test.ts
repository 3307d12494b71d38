// The agenda lets every promise reaction an event set off run before the next event (the real log
// store's continuations happen at their event's virtual time): a chain of awaits of any depth, started
// from an event or from plain synchronous code before the run, has finished when the next event runs.

import { describe, expect, it } from 'vitest';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';

const depth = 1000;

function agendaWithChains() {
  const seen: string[] = [];
  const agenda: Agenda = new Agenda((event: SimEvent) => {
    if (event.kind === EventKind.callback) (event.data as () => void)();
  });
  /** A promise chain `depth` awaits long, as a store operation's continuations are, marked as pending. */
  const chain = (name: string): void => {
    agenda.markAsync();
    void (async () => {
      for (let i = 0; i < depth; i++) await null;
      seen.push(`${name} done at ${agenda.now}`);
    })();
  };
  return { agenda, seen, chain };
}

describe('the agenda between events', () => {
  it("runs an event's promise reactions to the end before the next event, at that event's time", async () => {
    const { agenda, seen, chain } = agendaWithChains();
    agenda.at(1, () => chain('first'));
    agenda.at(2, () => seen.push('next event'));
    agenda.at(2, () => chain('second'));
    agenda.at(3, () => seen.push('last event'));
    await agenda.runUntil(10);
    expect(seen).toEqual(['first done at 1', 'next event', 'second done at 2', 'last event']);
  });

  it('lets reactions set off before the run (outside any microtask) finish before its first event', async () => {
    const { agenda, seen, chain } = agendaWithChains();
    agenda.at(1, () => seen.push('first event'));
    // From a macrotask's synchronous code, as a run started by a message is: no microtask is running.
    const run = await new Promise<Promise<boolean>>((resolve) =>
      setImmediate(() => {
        chain('before');
        resolve(agenda.runUntil(10));
      }),
    );
    await run;
    expect(seen).toEqual(['before done at 0', 'first event']);
  });

  it('waits again while the reactions it let run set off more', async () => {
    const { agenda, seen, chain } = agendaWithChains();
    agenda.at(1, () => {
      agenda.markAsync();
      void (async () => {
        for (let i = 0; i < depth; i++) await null;
        chain('inner');
      })();
    });
    agenda.at(2, () => seen.push('next event'));
    await agenda.runUntil(10);
    expect(seen).toEqual(['inner done at 1', 'next event']);
  });
});
