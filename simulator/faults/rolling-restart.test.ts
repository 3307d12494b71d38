import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

/** Each node's turn, as the run recorded it: [node, from its drain, until it served again]. */
function turns(run: FaultRun): [string, number, number][] {
  const steps = run.of('fault').filter((e) => e.type === 'drain-restart');
  return steps
    .filter((e) => e.phase === 'start')
    .map((start) => {
      const node = start.nodes![0]!;
      const heal = steps.find((e) => e.phase === 'heal' && e.nodes![0] === node && e.at >= start.at);
      return [node, start.at, heal?.at ?? Number.NaN];
    });
}

/** Sessions that ended other than by the drain (the client's own close after `drain`, or the 1012). */
const notDrained = (run: FaultRun, from: number, to: number) =>
  run.of('session-lost', from, to).filter((e) => e.reason !== 'client' && e.reason !== '1012');

describe('rolling restart', () => {
  describe('on three nodes over a shared store', () => {
    let run: FaultRun;
    beforeAll(async () => {
      run = await runFault(
        { type: 'rolling-restart', atMs: 0, restartDelayMs: 800 },
        { topology: { nodes: 3 }, clients: { count: 60 }, workload: { ratePer1kClients: 1500 } },
      );
    }, faultRunTimeoutMs);

    it('takes the nodes one after another, each serving again before the next goes', () => {
      const steps = turns(run);
      expect(steps.map(([node]) => node)).toEqual(['n1', 'n2', 'n3']);
      for (const [node, from, to] of steps) {
        expect(to - from, node).toBeGreaterThanOrEqual(800);
        // Away meanwhile (once its clients had left on the drain), serving after.
        const frames = run.of('conv-frame').filter((e) => e.node === node);
        expect(
          frames.filter((e) => e.at >= from + 200 && e.at < to),
          node,
        ).toEqual([]);
        expect(
          frames.some((e) => e.at >= to),
          node,
        ).toBe(true);
      }
      expect(steps[1]![1]).toBeGreaterThanOrEqual(steps[0]![2]);
      expect(steps[2]![1]).toBeGreaterThanOrEqual(steps[1]![2]);
      expect(run.heal).toBeGreaterThanOrEqual(steps[2]![2]);
    });

    it('drains: clients leave on the drain (their close or the 1012), never by a reset, and lose nothing', () => {
      expect(run.of('session-lost', run.start, run.heal).length).toBeGreaterThanOrEqual(60);
      expect(notDrained(run, run.start, run.heal)).toEqual([]);
      expect(run.of('ack', run.start, run.heal).length).toBeGreaterThan(50);
      expect(failedVerdicts(run)).toEqual([]);
    });
  });

  it(
    'on one node with its embedded log: a clean stop (store closed, nothing torn), back on the same log',
    async () => {
      const run = await runFault(
        { type: 'rolling-restart', atMs: 500, restartDelayMs: 1000 },
        { workload: { ratePer1kClients: 1500 } },
      );
      const storage = run.summary.storage!;
      expect(storage.cleanStops).toBe(1);
      expect(storage.recoveries).toBe(3); // the setup's open, the restart's and the final read's
      expect(storage.truncatedBytes).toBe(0);
      const [[node, from, to]] = turns(run) as [[string, number, number]];
      expect(node).toBe('n1');
      expect(to - from).toBeGreaterThanOrEqual(1000);
      expect(run.of('session-lost', from, from + 500).length).toBeGreaterThan(30);
      expect(notDrained(run, from, to)).toEqual([]);
      expect(run.of('conv-frame', from + 200, to)).toEqual([]);
      expect(run.of('ack', to, to + 3000).length).toBeGreaterThan(10);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
