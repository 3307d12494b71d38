import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { createDrainStopChecker, drainStopMs } from './drain-stop.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const ann = { user: 'ann', device: 'ann-d0' };
const bob = { user: 'bob', device: 'bob-d0' };

const fault = (at: number, type: string, phase: 'start' | 'heal', nodes = ['n1']): HistoryEvent => ({
  k: 'fault',
  at,
  type,
  phase,
  nodes,
});
const session = (at: number, who: typeof ann, node = 'n1'): HistoryEvent => ({
  k: 'session',
  at,
  connectMs: 5,
  first: false,
  node,
  ...who,
});
const lost = (at: number, who: typeof ann): HistoryEvent => ({
  k: 'session-lost',
  at,
  reason: '1012',
  ...who,
});
const stop = (at: number, killed = false): HistoryEvent => ({ k: 'node-stop', at, node: 'n1', killed });

/** Two sessions on n1, a rolling restart whose drain begins at 10,000; `rest` follows. */
function roll(rest: HistoryEvent[]): HistoryEvent[] {
  return [
    session(100, ann),
    session(200, bob),
    fault(10_000, 'rolling-restart', 'start'),
    fault(10_000, 'drain-restart', 'start'),
    ...rest,
  ];
}

function judge(events: HistoryEvent[], at = 60_000) {
  return checkHistory([createDrainStopChecker()], events, finalStateFixture({ at }))[0]!;
}

describe('drain-stop', () => {
  it('passes a node that stops once its last session ended', () => {
    const result = judge(roll([lost(10_003, ann), lost(10_050, bob), stop(10_060)]));
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/1 judged/);
  });

  it('fails a node that stops only when its drain ran out of time, or never', () => {
    const late = judge(roll([lost(10_003, ann), lost(10_005, bob), stop(23_000, true)]));
    expect(late.verdict).toBe('fail');
    expect(late.details).toMatch(/1 drained node stopped late/);
    expect((late.witness as WitnessCase[])[0]!.problem).toMatch(/killed when its drain ran out of time/);
    const never = judge(roll([lost(10_003, ann), lost(10_005, bob)]), 29_000);
    expect(never.verdict).toBe('fail');
    expect(never.details).toMatch(/1 drained node never stopped/);
    // Just within the bound: a pass.
    expect(judge(roll([lost(10_003, ann), lost(10_005, bob), stop(10_005 + drainStopMs)])).verdict).toBe(
      'pass',
    );
  });

  it('waits for every session on the node, one opened during the drain included, and for none elsewhere', () => {
    const events = roll([
      session(10_001, { user: 'cat', device: 'cat-d0' }),
      session(10_002, { user: 'dan', device: 'dan-d0' }, 'n2'),
      lost(10_003, ann),
      lost(10_005, bob),
      lost(15_000, { user: 'cat', device: 'cat-d0' }),
      stop(15_010),
    ]);
    expect(judge(events).verdict).toBe('pass');
  });

  it('does not judge a drain with a session never seen to end, or with another fault open or just healed', () => {
    const unseen = judge(roll([lost(10_003, ann), stop(23_000, true)]));
    expect(unseen.verdict).toBe('unknown');
    expect(unseen.details).toMatch(/1 sessions never seen to end/);
    const during = judge(
      roll([
        fault(10_001, 'store-outage', 'start', []),
        lost(10_003, ann),
        lost(10_005, bob),
        stop(23_000, true),
      ]),
    );
    expect(during.verdict).toBe('unknown');
    expect(during.details).toMatch(/store-outage open or just healed/);
    const before = judge([
      fault(5000, 'disk-slow', 'start'),
      fault(8000, 'disk-slow', 'heal'),
      ...roll([lost(10_003, ann), lost(10_005, bob), stop(23_000, true)]),
    ]);
    expect(before.verdict).toBe('unknown');
    // A crash healed before the drain leaves nothing of its own to wait for: judged; so does a torn
    // write, which crashes the store's machine and restarts it by its heal.
    for (const type of ['node-crash', 'disk-torn-write']) {
      const crashed = judge([
        fault(5000, type, 'start'),
        fault(8000, type, 'heal'),
        ...roll([lost(10_003, ann), lost(10_005, bob), stop(23_000, true)]),
      ]);
      expect(crashed.verdict, type).toBe('fail');
    }
  });

  it('says unknown, not pass, where a declared rolling restart drained nothing, or none was run', () => {
    const skipped = judge([session(100, ann), fault(10_000, 'rolling-restart', 'start')]);
    expect(skipped.verdict).toBe('unknown');
    expect(skipped.details).toMatch(/drained no node/);
    const downMidway = judge(roll([fault(10_500, 'drain-restart', 'heal')]));
    expect(downMidway.verdict).toBe('unknown');
    expect(judge([session(100, ann)]).details).toMatch(/no rolling restart/);
  });
});
