import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history } from './history-fixture.ts';
import { createNoSpuriousUnavailableChecker } from './no-spurious-unavailable.ts';

const judge = (events: HistoryEvent[]) =>
  checkHistory([createNoSpuriousUnavailableChecker()], events, finalStateFixture())[0]!;

const bob = device('bob');
/** bob's connection began at `from` and was welcomed 10 ms later. */
const session = (from: number): HistoryEvent => ({
  k: 'session',
  at: from + 10,
  connectMs: 10,
  first: true,
  ...bob,
});
const fault = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
  k: 'fault',
  at,
  type: 'store-outage',
  phase,
});
const unavailable = (at: number): HistoryEvent => ({ k: 'unavailable', at, ref: 'read', conv: 'g1', ...bob });
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
});
