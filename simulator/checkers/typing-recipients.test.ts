import { describe, expect, it } from 'vitest';
import type { DeviceRef, HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { createTypingRecipientsChecker } from './typing-recipients.ts';

const ann = device('ann');
const bob = device('bob');
const bob2 = device('bob', 'd2');
const cat = device('cat');
const judge = (events: HistoryEvent[]) =>
  checkHistory([createTypingRecipientsChecker()], events, finalStateFixture())[0]!;

const session = history.session;
const typed = (at: number, by: DeviceRef): HistoryEvent => ({
  k: 'typing-sent',
  at,
  conv: 'g',
  on: true,
  ...by,
});
const typing = (at: number, to: DeviceRef, of: string): HistoryEvent => ({
  k: 'conv-frame',
  at,
  conv: 'g',
  t: 'typing',
  of,
  ...to,
});
const m1 = message('g', 1, 'ann');
/** ann types, then sends m1 at once; both bob devices online from the start. */
const story = (after: HistoryEvent[]): HistoryEvent[] => [
  history.conv(0, 'g', ['ann', 'bob', 'cat']),
  session(10, ann),
  session(10, bob),
  session(10, bob2),
  typed(1000, ann),
  history.send(1000, ann, m1),
  ...after,
];

describe('typing-recipients', () => {
  it('passes when every other member device got the typing before the message pushed after it', () => {
    const result = judge(
      story([
        typing(1010, bob, 'ann'),
        typing(1011, bob2, 'ann'),
        history.display(1020, bob, m1, 'push'),
        history.display(1021, bob2, m1, 'push'),
      ]),
    );
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/2 typing frames judged; 2 pushes/);
  });

  it('fails a member device pushed the message without the typing sent before it', () => {
    const result = judge(
      story([
        typing(1010, bob, 'ann'),
        history.display(1020, bob, m1, 'push'),
        history.display(1021, bob2, m1, 'push'),
      ]),
    );
    expect(result.details).toMatch(/1 missed/);
  });

  it('does not judge a device whose session changed, a message it pulled, or a run with a fault between', () => {
    const lost: HistoryEvent[] = [
      typing(1003, cat, 'ann'),
      { k: 'session-lost', at: 1005, reason: 'reset', ...bob },
      session(1006, bob),
      history.display(1020, bob, m1, 'push'),
      history.display(1021, bob2, m1, 'sync'),
    ];
    expect(judge(story(lost)).verdict).toBe('pass');
    const fault: HistoryEvent[] = [
      typing(1003, cat, 'ann'),
      { k: 'fault', at: 1005, type: 'partition', phase: 'start' },
      history.display(1020, bob, m1, 'push'),
    ];
    expect(judge(story(fault)).verdict).toBe('pass');
  });

  it('does not judge a typing within a throttle interval of a heal when the one before it was typed under the fault', () => {
    // ann types during a node pause: the paused node handles it at the resume (2000), so its throttle
    // runs until about 4000 and the typing at 3300 is rightly not relayed.
    const held: HistoryEvent[] = [
      history.conv(0, 'g', ['ann', 'bob', 'cat']),
      session(10, ann),
      session(10, bob),
      { k: 'fault', at: 500, type: 'node-pause', phase: 'start', nodes: ['n1'] },
      typed(600, ann),
      { k: 'fault', at: 2000, type: 'node-pause', phase: 'heal', nodes: ['n1'] },
      typing(2010, bob, 'ann'),
      typed(3300, ann),
      history.send(3300, ann, m1),
      history.display(3320, bob, m1, 'push'),
    ];
    expect(judge(held).verdict).toBe('pass');
    // The same typing long after the heal is judged again, and missing it fails.
    const later = held.map((e) => (e.at >= 3300 ? { ...e, at: e.at + 6000 } : e));
    expect(judge(later).details).toMatch(/1 missed/);
  });

  it('does not judge a typing sent just after a fault healed (a fleet node may still be resubscribing)', () => {
    const outage = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type: 'store-outage',
      phase,
    });
    // Redis came back at 900; ann's typing at 1000 was lost with the bus resubscribing.
    expect(judge(story([]).toSpliced(4, 0, outage(500, 'start'), outage(900, 'heal'))).verdict).not.toBe(
      'fail',
    );
    // Long after the heal it is due again, and missing it fails.
    const long = story([]).toSpliced(1, 0, outage(-9000, 'start'), outage(-6000, 'heal'));
    expect(judge([...long, history.display(1020, bob, m1, 'push')]).details).toMatch(/1 missed/);
  });

  it('judges a typing again soon after a clock set back: the throttle must start over, not wait for the clock', () => {
    // The node's clock ran 30 s ahead from -9000 to -6000 and was set back at the heal; ann's typing at
    // 1000 is 7 s after it, far less than the 30 s a throttle stamped ahead would stay shut.
    const clock = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type: 'clock-offset',
      phase,
      nodes: ['n1'],
    });
    const stepped = story([]).toSpliced(1, 0, clock(-9000, 'start'), typed(-8000, ann), clock(-6000, 'heal'));
    expect(judge([...stepped, history.display(1020, bob, m1, 'push')]).details).toMatch(/1 missed/);
    const relayed = [
      ...stepped,
      typing(1010, bob, 'ann'),
      typing(1011, bob2, 'ann'),
      history.display(1020, bob, m1, 'push'),
      history.display(1021, bob2, m1, 'push'),
    ];
    expect(judge(relayed).verdict).toBe('pass');
  });

  describe('under queueing: when the server handled a typing is bounded by the answer to the send after it', () => {
    const m2 = message('g', 2, 'ann');
    /** ann types and sends m1 at 1000 (acked at `ackAt`), bob gets both; ann types and sends m2 at 3300. */
    const queued = (ackAt: number, after: HistoryEvent[] = []): HistoryEvent[] =>
      story([
        typing(1010, bob, 'ann'),
        typing(1011, bob2, 'ann'),
        history.display(1020, bob, m1, 'push'),
        history.display(1021, bob2, m1, 'push'),
        history.ack(ackAt, ann, m1, 1000),
        typed(3300, ann),
        history.send(3300, ann, m2),
        ...after,
        history.display(3900, bob, m2, 'push'),
      ]);

    it('does not expect a typing within a throttle interval of the last answer (the server throttled it)', () => {
      // m1 acked 700 ms after it was sent: the typing before it may have been handled at 1690, so the
      // one at 3300 (2300 after the last one was sent) may reach the server within 2000 of it.
      const result = judge(queued(1700));
      expect(result.verdict).toBe('pass');
      expect(result.details).toMatch(/2 pushes after a typing judged/);
    });

    it('still expects it once the answer came a throttle interval before, and fails when it is missing', () => {
      expect(judge(queued(1200)).details).toMatch(/1 missed/);
    });

    it('does not expect a typing while the send after the previous one is unanswered on its session', () => {
      const unanswered = queued(1700).filter((e) => e.k !== 'ack');
      expect(judge(unanswered).verdict).toBe('pass');
      // Answered after a reconnect (the send resent): the answer bounds nothing, the send time rules.
      const resent: HistoryEvent[] = queued(1700).filter((e) => e.k !== 'ack');
      resent.splice(
        resent.length - 3,
        0,
        { k: 'session-lost', at: 1500, reason: 'reset', ...ann },
        session(1600, ann),
        history.ack(1700, ann, m1, 1000),
      );
      expect(judge(resent).details).toMatch(/1 missed/);
    });
  });

  describe("the throttle's ceiling: a fast typist's relays at most one per interval", () => {
    /** ann types every 250 ms from 2000 on one session; bob is told at each of `relayedAt`. */
    const fast = (relayedAt: number[], extra: HistoryEvent[] = []): HistoryEvent[] =>
      [
        history.conv(0, 'g', ['ann', 'bob', 'cat']),
        session(10, ann),
        session(10, bob),
        ...[2000, 2250, 2500, 2750, 3000, 3250, 3500].map((at) => typed(at, ann)),
        ...relayedAt.map((at) => typing(at, bob, 'ann')),
        ...extra,
      ].sort((a, b) => a.at - b.at);

    it('fails a device told twice within half an interval, and passes one relay per interval', () => {
      // A node with no throttle relays every one.
      const every = judge(fast([2010, 2260, 2510, 2760, 3010, 3260, 3510]));
      expect(every.details).toMatch(/6 past the throttle/);
      const once = judge(fast([2010, 4010]));
      expect(once.verdict).not.toBe('fail');
    });

    it('does not judge relays that may come from two sessions (two nodes), or near a fault, or when the speed is part of the run', () => {
      // ann's second device types in between: it may sit on another node, with a throttle of its own.
      const ann2 = device('ann', 'd2');
      const two = fast(
        [2010, 2260, 2510, 2760, 3010, 3260, 3510],
        [session(10, ann2), ...[2100, 2600, 3100].map((at) => typed(at, ann2))],
      );
      expect(judge(two).details).not.toMatch(/past the throttle/);
      // A reconnect of bob's is a new path: the pair across it is not judged, the pair after it is.
      expect(judge(fast([2010, 2760, 3010, 3260])).details).toMatch(/3 past the throttle/);
      const reconnected = fast(
        [2010, 2760, 3010, 3260],
        [{ k: 'session-lost', at: 2850, reason: 'reset', ...bob }, session(2900, bob)],
      );
      expect(judge(reconnected).details).toMatch(/2 past the throttle/);
      const paused = fast(
        [2010, 2260, 2510, 2760, 3010, 3260, 3510],
        [
          { k: 'fault', at: 1500, type: 'node-pause', phase: 'start', nodes: ['n1'] },
          { k: 'fault', at: 1900, type: 'node-pause', phase: 'heal', nodes: ['n1'] },
        ],
      );
      expect(judge(paused).details).not.toMatch(/past the throttle/);
      const costed = checkHistory(
        [createTypingRecipientsChecker({ judgeSilence: false })],
        fast([2010, 2260, 2510, 2760, 3010, 3260, 3510]),
        finalStateFixture(),
      )[0]!;
      expect(costed.details).not.toMatch(/past the throttle/);
      expect(costed.details).toMatch(/ceiling not judged/);
    });
  });

  describe('the exact boundaries (a steady-link typist: the node got each typing 5 ms after it was sent)', () => {
    const exactJudge = (events: HistoryEvent[], options = {}) =>
      checkHistory(
        [createTypingRecipientsChecker({ relayDelayMs: { min: 5, max: 11 }, ...options })],
        events,
        finalStateFixture(),
      )[0]!;
    /** ann (steady) types twice at 2000, at 3999, at 4000 and at 4250; bob gets `frames`. */
    const boundary = (frames: number[], more: HistoryEvent[] = []): HistoryEvent[] => [
      history.conv(0, 'g', ['ann', 'bob']),
      { k: 'steady-link', at: 0, latencyMs: 5, ...ann },
      session(10, ann),
      session(10, bob),
      ...more,
      ...[2000, 2000, 3999, 4000, 4250].map((at) => typed(at, ann)),
      ...frames.map((at) => typing(at, bob, 'ann')),
    ];

    it('passes the relays the throttle makes: the first of two at one instant, and one exactly an interval later', () => {
      const result = exactJudge(boundary([2012, 4013]));
      expect(result.details).not.toMatch(/violation/);
      expect(result.details).toMatch(
        /2 typing frames judged against the exact relays of steady-link typists \(2 typings the node had to relay, 3 to hold back\)/,
      );
    });

    it('fails both typings of one instant relayed (mutant 647: `now > last`)', () => {
      const result = exactJudge(boundary([2012, 2013, 4013]));
      expect(result.verdict).toBe('fail');
      expect(result.details).toMatch(/1 relayed twice at once/);
    });

    it('fails the typing exactly an interval after the last relayed held back, the next relayed instead (mutant 650: `<=`)', () => {
      const result = exactJudge(boundary([2012, 4262]));
      expect(result.verdict).toBe('fail');
      expect(result.details).toMatch(/1 relayed off the throttle/);
    });

    it('judges nothing exact live or with a cost model, after a fault, or once another device typed there', () => {
      const late = [2012, 4262];
      expect(
        checkHistory([createTypingRecipientsChecker()], boundary(late), finalStateFixture())[0]!.details,
      ).toMatch(/exact throttle boundaries not judged/);
      expect(exactJudge(boundary(late), { judgeSilence: false }).details).toMatch(
        /exact throttle boundaries not judged/,
      );
      const fault: HistoryEvent = { k: 'fault', at: 1000, type: 'partition', phase: 'start' };
      expect(exactJudge(boundary(late, [fault])).details).not.toMatch(/off the throttle/);
      const other = boundary(late, [session(10, device('ann', 'd2')), typed(3000, device('ann', 'd2'))]);
      expect(exactJudge(other).details).not.toMatch(/off the throttle/);
    });
  });

  it("fails typing sent to the typist's own devices, or about a user who never typed there", () => {
    expect(judge(story([typing(1010, device('ann', 'd2'), 'ann')])).details).toMatch(/1 to the typist/);
    expect(judge(story([typing(1010, bob, 'cat')])).details).toMatch(/1 made up/);
  });

  it('cannot pass when nobody typed, and fails when typing was due but nothing came back', () => {
    expect(judge([]).verdict).toBe('unknown');
    expect(judge(story([])).verdict).toBe('fail');
    // Nobody else online when ann typed: nothing was due, so silence proves nothing either way.
    const alone = story([]).filter((e) => !(e.k === 'session' && e.user === 'bob'));
    expect(judge(alone).verdict).toBe('unknown');
  });
});
