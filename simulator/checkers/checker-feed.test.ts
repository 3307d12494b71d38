// The feed gives each event to exactly the checkers that declare its kind, in the checkers' order; a
// checker declaring 'all' gets everything; a declaration naming no kind of history is refused.

import { describe, expect, it } from 'vitest';
import type { Checker, HistoryEvent, HistoryKind } from '../history.ts';
import { CheckerFeed } from './checker-feed.ts';
import { history } from './history-fixture.ts';
import { ann, smallRun } from './small-run-fixture.ts';

/** A checker that notes, under its name, the kind of each event it is given. */
function noting(name: string, kinds: 'all' | readonly HistoryKind[], seen: string[]): Checker {
  return {
    property: name,
    kinds,
    observe: (event: HistoryEvent) => {
      seen.push(`${name}:${event.k}`);
    },
    finish: () => ({ property: name, verdict: 'pass', details: '', witness: [] }),
  };
}

describe('CheckerFeed', () => {
  it("gives each event to the checkers that declare its kind, in the checkers' order, and every event to 'all'", () => {
    const seen: string[] = [];
    const feed = new CheckerFeed([
      noting('acks', ['ack'], seen),
      noting('everything', 'all', seen),
      noting('sessions', ['session', 'ack'], seen),
    ]);
    for (const event of [history.session(0, ann), history.phase(1, 'warmup')]) feed.observe(event);
    feed.observe(smallRun.find((event) => event.k === 'ack')!);
    expect(seen).toEqual([
      'everything:session',
      'sessions:session',
      'everything:phase',
      'acks:ack',
      'everything:ack',
      'sessions:ack',
    ]);
  });

  it('refuses a checker that declares a kind no history event has', () => {
    expect(() => new CheckerFeed([noting('typo', ['acks' as HistoryKind], [])])).toThrow(
      "checker typo declares an unknown history kind 'acks'",
    );
  });
});
