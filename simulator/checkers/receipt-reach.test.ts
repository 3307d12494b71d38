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

  it('takes no wait in an offline outbox for a queue: a send acked after a reconnect stretches nothing', () => {
    const carol = device('carol');
    // carol's send, issued at 2500, waited out her reconnect and was acked 4 s later on her next session.
    const events = (heardAt: number): HistoryEvent[] => [
      history.conv(0, 'small', ['ann', 'bob']),
      history.session(10, ann),
      history.session(10, bob),
      history.session(10, carol),
      { k: 'session-lost', at: 2600, user: 'carol', device: 'd1', reason: 'reset' } as HistoryEvent,
      history.session(6400, carol),
      history.ack(6500, carol, message('other', 1, 'carol'), 2500),
      history.cursorSent(3000, bob, 'small', 'delivered', 1),
      history.convFrame(heardAt, ann, 'small', 'msg', [9]),
      history.convFrame(heardAt, bob, 'small', 'msg', [9]),
    ];
    // Due 3 s after the cursor, by 6000, as with no send at all (the old rule waited to 10000).
    const found = problems(events(6600).sort((a, b) => a.at - b.at));
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/due by 6000/);
  });

  it("starts the quiet due time once the queue's wait is over, not a wait's length after the faults", () => {
    // A fault open from 2000 to 5000 while bob's cursor is sent at 3000, the sends before it acked in
    // 4 s: the queue ahead of the cursor is through by 7000 and nothing is open then, so it is due
    // by 10000. Counting the 4 s as quiet time after the fault made it 12000.
    const fault = (at: number, phase: 'start' | 'heal'): HistoryEvent =>
      ({ k: 'fault', at, type: 'node-pause', phase, nodes: ['n2'] }) as HistoryEvent;
    const events = (heardAt: number): HistoryEvent[] =>
      [fault(2000, 'start'), fault(5000, 'heal'), ...cursorNeverTold(heardAt, 4000)].sort(
        (a, b) => a.at - b.at,
      );
    expect(problems(events(9500))).toEqual([]);
    const late = problems(events(10_500));
    expect(late).toHaveLength(1);
    expect(late[0]).toMatch(/due by 10000/);
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

// Told and owed are kept per (device, cursor) in rows stamped with the device's session: a session's
// end forgets them at once, and a receipt owed, settled and owed again is judged where it was owed last.
describe('receipt reach across sessions', () => {
  const receiptTo = (at: number, to: typeof ann, seq: number) =>
    history.cursorSeen(at, to, { conv: 'small', of: 'bob', kind: 'delivered', seq, lastSeq: seq });
  const lost = (at: number) =>
    ({ k: 'session-lost', at, user: 'ann', device: 'd1', reason: 'reset' }) as HistoryEvent;
  const bothHeard = (at: number) => [
    history.convFrame(at, ann, 'small', 'msg', [9]),
    history.convFrame(at, bob, 'small', 'msg', [9]),
  ];

  it('does not count a receipt heard in an earlier session for a cursor sent in the next', () => {
    const owedAgain = [
      history.conv(0, 'small', ['ann', 'bob']),
      history.session(10, ann),
      history.session(10, bob),
      receiptTo(150, ann, 5),
      lost(200),
      history.session(300, ann),
      history.cursorSent(400, bob, 'small', 'delivered', 3),
      ...bothHeard(5000),
    ];
    // The receipt at 5 from the first session covers nothing of the second: 3 is owed and missed.
    const found = problems(owedAgain);
    expect(found).toHaveLength(1);
    expect(found[0]).toMatch(/held one session from 300 .* cursor at 3 /);
    // Heard in the same session, a receipt past it settles it.
    expect(problems([...owedAgain.slice(0, -2), receiptTo(450, ann, 5), ...bothHeard(5000)])).toEqual([]);
  });

  it("judges a session's misses in the order they were last owed", () => {
    const found = problems([
      history.conv(0, 'small', ['ann', 'bob']),
      history.session(10, ann),
      history.session(10, bob),
      history.cursorSent(100, bob, 'small', 'delivered', 1),
      history.cursorSent(110, bob, 'small', 'read', 1),
      // The delivered cursor is told, then moves again and is owed again: now after the read one.
      receiptTo(150, ann, 1),
      history.cursorSent(200, bob, 'small', 'delivered', 2),
      ...bothHeard(5000),
    ]);
    expect(found).toHaveLength(2);
    expect(found[0]).toMatch(/read cursor at 1 /);
    expect(found[1]).toMatch(/delivered cursor at 2 /);
  });
});
