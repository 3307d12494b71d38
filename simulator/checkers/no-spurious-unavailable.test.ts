import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history } from './history-fixture.ts';
import { createNoSpuriousUnavailableChecker } from './no-spurious-unavailable.ts';

const judge = (events: HistoryEvent[]) =>
  checkHistory([createNoSpuriousUnavailableChecker()], events, finalStateFixture())[0]!;

const bob = device('bob');
/** bob's connection began at `from` and was welcomed 10 ms later (by `node`, when named). */
const session = (from: number, node?: string): HistoryEvent => ({
  k: 'session',
  at: from + 10,
  connectMs: 10,
  first: true,
  ...(node ? { node } : {}),
  ...bob,
});
const fault = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
  k: 'fault',
  at,
  type: 'store-outage',
  phase,
});
const unavailable = (at: number, node?: string): HistoryEvent => ({
  k: 'unavailable',
  at,
  ref: 'read',
  conv: 'g1',
  ...(node ? { node } : {}),
  ...bob,
});
/** A fault of `type` touching `nodes` (none: every node, or clients' links). */
const faultOn = (at: number, phase: 'start' | 'heal', type: string, nodes?: string[]): HistoryEvent => ({
  k: 'fault',
  at,
  type,
  phase,
  ...(nodes ? { nodes } : {}),
});
const cursor = (at: number): HistoryEvent => ({
  k: 'cursor-sent',
  at,
  conv: 'g1',
  kind: 'read',
  seq: 1,
  ...bob,
});
const read = (at: number): HistoryEvent => ({
  k: 'http-read-sent',
  at,
  id: 1,
  conv: 'g1',
  user: 'bob',
  after: 0,
  limit: 1,
});
const answer = (at: number, status: number): HistoryEvent => ({ k: 'http-read', at, id: 1, status });
const run = (...events: HistoryEvent[]) => [history.conv(0, 'g1', ['ann', 'bob']), ...events];

describe('no-spurious-unavailable', () => {
  it('fails an err unavailable on a connection no fault touched (mut18 35, 37: a cursor refused so)', () => {
    const result = judge(run(session(0), cursor(90), unavailable(100)));
    expect(result.verdict).toBe('fail');
    expect(JSON.stringify(result.witness)).toContain('got err unavailable to its read (g1) at 100');
    // Sent on a connection that began after a store outage healed: still judged.
    expect(judge(run(fault(5, 'start'), fault(50, 'heal'), session(60), unavailable(100))).verdict).toBe(
      'fail',
    );
  });

  it('excuses it while a fault is open, or on a connection from before the last fault event', () => {
    expect(judge(run(session(0), cursor(20), fault(50, 'start'), unavailable(100))).verdict).toBe('pass');
    // The connection began before the fault: its request may have met the outage.
    expect(
      judge(run(session(0), cursor(20), fault(30, 'start'), fault(50, 'heal'), unavailable(100))).verdict,
    ).toBe('pass');
    // An err before any welcome (a hello's) is not judged: when its connection began is not known.
    expect(judge(run(unavailable(100), session(200), cursor(210))).verdict).toBe('pass');
  });

  it('fails an HTTP read answered 503 with no fault open from the request to the answer (mutant 1801)', () => {
    const result = judge(run(read(100), answer(101, 503)));
    expect(result.verdict).toBe('fail');
    expect(JSON.stringify(result.witness)).toContain('got 503 at 101');
    // Excused by a fault open at the request or coming before the answer (then nothing else was judged).
    expect(judge(run(fault(50, 'start'), read(100), answer(101, 503))).verdict).toBe('unknown');
    expect(judge(run(read(100), fault(100.5, 'start'), answer(101, 503))).verdict).toBe('unknown');
    // Once healed, a fresh request is judged again.
    expect(judge(run(fault(50, 'start'), fault(60, 'heal'), read(100), answer(101, 503))).verdict).toBe(
      'fail',
    );
    expect(judge(run(read(100), answer(101, 200))).verdict).toBe('pass');
  });

  it('could not judge a run with no request made while no fault was open', () => {
    const result = judge(run(fault(0, 'start'), session(10), cursor(30), read(40), answer(50, 503)));
    expect(result.verdict).toBe('unknown');
    expect(result.details).toContain('0 sends, syncs and cursor moves');
  });

  it("judges an err by its node's dependencies: a fault elsewhere, or one that only cuts or slows, explains none (mut18 35, 37)", () => {
    // Churn's window: n1's link to Redis slow, n2's store link lossy, n2 paused. A removed member's
    // cursor on n1 answered `unavailable` in place of `forbidden` was excused by any fault; now only a
    // fault failing n1's store or bus explains it.
    const window = [
      faultOn(5, 'start', 'redis-latency', ['n1']),
      faultOn(5, 'start', 'store-flaky', ['n2']),
      faultOn(6, 'start', 'node-pause', ['n2']),
      faultOn(7, 'start', 'partition', undefined),
      session(20, 'n1'),
      cursor(90),
    ];
    const onN1 = judge(run(...window, unavailable(100, 'n1')));
    expect(onN1.verdict).toBe('fail');
    expect(JSON.stringify(onN1.witness)).toContain(
      'from n1, though no fault failing its store or bus was open',
    );
    // The same err from n2, whose store link was lossy, is explained (a reconnect's err before its welcome).
    expect(judge(run(...window, unavailable(100, 'n2'))).verdict).toBe('pass');
    // With its node not known, any node's failing fault explains it.
    expect(judge(run(...window, unavailable(100))).verdict).toBe('pass');
    // A cursor on n2's session is not judged while n2's store link is lossy: nothing was.
    const onN2 = [...window.slice(0, 4), session(20, 'n2'), cursor(90)];
    expect(judge(run(...onN2)).verdict).toBe('unknown');
    // A store partition of n1, or a store outage (every node), explains it.
    const cut = {
      k: 'fault',
      at: 50,
      type: 'partition',
      phase: 'start',
      nodes: ['n1'],
      target: 'store',
    } as const;
    expect(judge(run(...window, cut, unavailable(100, 'n1'))).verdict).toBe('pass');
    expect(judge(run(...window, faultOn(50, 'start', 'store-outage'), unavailable(100, 'n1'))).verdict).toBe(
      'pass',
    );
  });

  it('fails a 503 while only Redis was slow or clients were cut', () => {
    expect(judge(run(faultOn(50, 'start', 'redis-latency'), read(100), answer(101, 503))).verdict).toBe(
      'fail',
    );
    expect(judge(run(faultOn(50, 'start', 'partition'), read(100), answer(101, 503))).verdict).toBe('fail');
    expect(judge(run(faultOn(50, 'start', 'store-flaky', ['n2']), read(100), answer(101, 503))).verdict).toBe(
      'unknown',
    );
  });
});
