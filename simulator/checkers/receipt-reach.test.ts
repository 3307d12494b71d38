// Receipt reach's due time on a busy server (the rest of receipt reach is judged in
// delivery-mode.test.ts, through the checker it is part of): a cursor frame waits in the node's queue
// with everything before it, so its receipt is due later by the longest ack latency of sends issued in
// the 10 s before it. A server that is slow is not taken for one that is silent; one that is silent
// still fails, once that longer due time has passed.

import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { createDeliveryModeChecker } from './delivery-mode.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';

const ann = device('ann');
const bob = device('bob');
const problems = (events: HistoryEvent[]) =>
  checkHistory(
    [createDeliveryModeChecker({ largeGroupThreshold: 2 })],
    events,
    finalStateFixture(),
  )[0]!.witness.map((w) => (w as { problem: string }).problem);

/** ann and bob online in `small`; bob sends a delivered cursor at 3000 that ann is never told of. */
const cursorNeverTold = (heardAt: number, ackLatencyMs: number): HistoryEvent[] => [
  history.conv(0, 'small', ['ann', 'bob']),
  history.session(10, ann),
  history.session(10, bob),
  // A send bob issued at 2500, acked `ackLatencyMs` later: the node's queue as the harness saw it.
  history.ack(2500 + ackLatencyMs, bob, message('small', 1, 'bob'), 2500),
  history.convFrame(2501 + ackLatencyMs, ann, 'small', 'msg', [1]),
  history.cursorSent(3000, bob, 'small', 'delivered', 1),
  history.convFrame(heardAt, ann, 'small', 'msg', [9]),
  history.convFrame(heardAt, bob, 'small', 'msg', [9]),
];

describe('receipt reach on a busy server', () => {
  it('waits the ack latency of the sends before the cursor longer before it judges the receipt', () => {
    // Acks in 10 ms: due 3 s after the cursor, by 6000.
    expect(problems(cursorNeverTold(6500, 10))).toHaveLength(1);
    // Acks in 4 s: the cursor waited in the same queue, so it is due by 10000, and 6500 is too soon.
    expect(problems(cursorNeverTold(6500, 4000))).toEqual([]);
    const late = problems(cursorNeverTold(10_500, 4000));
    expect(late).toHaveLength(1);
    expect(late[0]).toMatch(/cursor at 1 .* sent at 3000 and due by 10000/);
  });

  it('names the conversation, whose cursor and its kind in the witness, whatever their names hold', () => {
    const spaced = (events: HistoryEvent[]) =>
      events.map((event) =>
        'conv' in event && event.conv === 'small' ? { ...event, conv: 'the small one' } : event,
      );
    const [problem] = problems(spaced(cursorNeverTold(6500, 10)));
    expect(problem).toMatch(
      /never got a receipt of bob's delivered cursor at 1 or past it in the small one,/,
    );
  });
});

describe('receipt reach in a conversation whose membership the harness changed', () => {
  const carol = device('carol');
  const dan = device('dan');
  const judged = (events: HistoryEvent[], threshold = 4) =>
    checkHistory(
      [createDeliveryModeChecker({ largeGroupThreshold: threshold })],
      events,
      finalStateFixture(),
    )[0]!.witness.map((w) => (w as { problem: string }).problem);
  /** ann, bob and carol in `g`; a change naming carol (and adding dan) at 1000; then bob's cursor at 3000. */
  const changed = (events: HistoryEvent[]): HistoryEvent[] => [
    history.conv(0, 'g', ['ann', 'bob', 'carol']),
    history.session(10, ann),
    history.session(10, bob),
    history.session(10, carol),
    history.session(10, dan),
    history.cursorSent(500, carol, 'g', 'read', 1),
    history.membersSent(1000, 1, 'g', { add: ['dan'], remove: ['carol'] }),
    history.membersAnswered(1100, 1),
    history.ack(2500, bob, message('g', 1, 'bob'), 2490),
    history.convFrame(2600, ann, 'g', 'msg', [1]),
    history.cursorSent(3000, bob, 'g', 'delivered', 1),
    ...events,
    // Everyone hears the server after bob's receipt was due.
    ...[ann, bob, carol, dan].map((d) => history.convFrame(7000, d, 'g', 'msg', [9])),
  ];

  it('owes the members no change named a receipt, as in a conversation never changed', () => {
    const [problem, ...rest] = judged(changed([]));
    expect(rest).toEqual([]);
    expect(problem).toMatch(/^ann\/.* never got a receipt of bob's delivered cursor at 1 or past it in g,/);
    expect(
      judged(
        changed([
          history.cursorSeen(3100, ann, { conv: 'g', of: 'bob', kind: 'delivered', seq: 1, lastSeq: 1 }),
        ]),
      ),
    ).toEqual([]);
  });

  it("owes nothing to or about a user a change named: carol's cursor before her removal, dan added after creation", () => {
    const problems = judged(changed([]));
    expect(
      problems.some((p) => p.startsWith('carol/') || p.startsWith('dan/') || p.includes("carol's")),
    ).toBe(false);
  });

  it('judges no receipt once the adds asked for could make the group large', () => {
    expect(judged(changed([]), 3)).toEqual([]);
  });
});
