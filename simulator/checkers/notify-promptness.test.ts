// Notify promptness (notify-promptness.ts), judged through the checker it is part of, delivery-mode:
// a notify in a large group that first names a seq more than the due time after its ack is late.

import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { createDeliveryModeChecker } from './delivery-mode.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';

const ann = device('ann');
const bob = device('bob');
const judge = (events: HistoryEvent[]) =>
  checkHistory([createDeliveryModeChecker({ largeGroupThreshold: 2 })], events, finalStateFixture())[0]!;

describe('delivery-mode: notify promptness', () => {
  const cy = device('cy');
  const online: HistoryEvent[] = [
    history.conv(0, 'big', ['ann', 'bob', 'cy']),
    history.session(10, ann),
    history.cursorSeen(10, ann, { conv: 'big', of: 'ann', kind: 'delivered', seq: 0, lastSeq: 0 }, 'welcome'),
    history.session(10, bob),
  ];
  const acked = (seq: number, at: number, sentAt = at - 5) =>
    history.ack(at, bob, message('big', seq, 'bob'), sentAt);
  const notify = (at: number, lastSeq: number, to = ann): HistoryEvent => ({
    k: 'conv-frame',
    at,
    ...to,
    conv: 'big',
    t: 'notify',
    lastSeq,
  });
  /** The witness cases of late notifies, by their text. */
  const late = (events: HistoryEvent[]): string[] =>
    judge(events)
      .witness.map((w) => (w as { problem: string }).problem)
      .filter((problem) => problem.includes('was first told of'));

  it('fails a notify that names a seq more than the due time after its ack, on a session open since before the send', () => {
    // Seq 1 acked at 100, named at 120: in time; seq 2 acked at 200 and first named at 3300 (due by 3200).
    const events = [
      ...online,
      acked(1, 100),
      notify(120, 1),
      acked(2, 200),
      acked(3, 3_250),
      notify(3_300, 3),
    ];
    const result = judge(events);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 notify late/);
    expect(result.details).toMatch(/3 seqs judged for how soon a notify named them/);
    expect(late(events)[0]).toContain(
      'big seq 2 by a notify at 3300, though it was acked at 200 and due by 3200',
    );
    // Where the server's speed is part of the run (a cost model, live), lateness is not judged.
    const unjudged = checkHistory(
      [createDeliveryModeChecker({ largeGroupThreshold: 2, judgeSilence: false })],
      events,
      finalStateFixture(),
    )[0]!;
    expect(unjudged.verdict).toBe('pass');
    // Named in time (each by its own notify, or coalesced), nothing is late.
    expect(
      late([...online, acked(1, 100), acked(2, 200), notify(220, 2), acked(3, 3_250), notify(3_300, 3)]),
    ).toEqual([]);
  });

  it('excuses faults, sends from before the session, seqs the session already knew, and changed groups', () => {
    const base = [...online, acked(1, 100), notify(120, 1), acked(2, 200)];
    // A fault open at the ack: due 3 s after the faults are over.
    const start: HistoryEvent = { k: 'fault', at: 150, type: 'latency', phase: 'start' };
    const heal: HistoryEvent = { k: 'fault', at: 2_000, type: 'latency', phase: 'heal' };
    expect(late([...online, start, acked(1, 100), acked(2, 200), heal, notify(4_900, 2)])).toEqual([]);
    // (Seq 1 too: acked before the fault, but the fault came before it was due.)
    expect(late([...online, start, acked(1, 100), acked(2, 200), heal, notify(5_100, 2)])).toHaveLength(2);
    // cy's session opened after the send was issued: not owed a notify of it.
    const cyLate = [...base, history.session(198, cy), notify(3_300, 2, cy)];
    expect(late(cyLate)).toEqual([]);
    // ...but owed one of a send issued after its welcome.
    expect(late([...cyLate, acked(3, 3_400), notify(6_500, 3, cy)])).toHaveLength(1);
    // A new session whose welcome already named seq 2 owes no notify of it.
    const again = [
      ...base,
      { k: 'session-lost', at: 300, reason: 'reset', ...ann } as HistoryEvent,
      history.session(400, ann),
      history.cursorSeen(
        400,
        ann,
        { conv: 'big', of: 'ann', kind: 'delivered', seq: 2, lastSeq: 2 },
        'welcome',
      ),
      notify(5_000, 2),
    ];
    expect(late(again)).toEqual([]);
    // A group whose membership the harness changed is not judged.
    const changed = history.membersSent(150, 7, 'big', { remove: ['cy'] });
    expect(late([...online, acked(1, 100), changed, acked(2, 200), notify(3_300, 2)])).toEqual([]);
  });
});
