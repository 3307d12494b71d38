// The cost model end to end in the simulator: the same scenario and seed with node steps that cost
// little, and with steps that cost more than the node can serve at the offered rate. The first adds
// only its service time to the baseline's ack tail; the second shows the overload as queueing latency (the SLO breaks) while
// every checker still passes, and the node is reported busy. Same seed, same model: same trace.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import { flatCostModel as flat } from '../../test-support/flat-cost-model.ts';
import { runScenario } from '../run-scenario.ts';
import type { CostModel } from './cost-model.ts';

const simTimeoutMs = 120_000;

describe('the cost model in a simulated run', () => {
  it(
    'light steps keep the baseline tail; steps the node cannot keep up with queue into ack latency',
    async () => {
      const scenario = loadScenario('steady');
      const run = (costModel?: CostModel) =>
        runScenario(scenario, { seed: 7, clients: 100, ...(costModel ? { costModel } : {}) });
      const free = await run();
      const light = await run(flat(1000));
      const again = await run(flat(1000));
      const heavy = await run(flat(6000));

      expect(free.nodeLoad).toBeUndefined();
      for (const summary of [free, light, heavy])
        expect(summary.verdicts.filter((v) => v.verdict !== 'pass')).toEqual([]);

      expect(light.traceHash).not.toBe(free.traceHash);
      expect(again.traceHash).toBe(light.traceHash);
      expect(light.exitCode).toBe(0);
      // The summary's p99 is the SLO's own figure (one histogram), not a coarse bucket's bound.
      const sloActual = (s: typeof free) => s.slo.find((r) => r.name.startsWith('ackLatency p(99)'))?.actual;
      expect(free.ackLatencyMsP99).toBe(sloActual(free));
      expect(heavy.ackLatencyMsP99).toBe(sloActual(heavy));
      // Light steps add their service time to the tail (22 -> 48 ms at seed 7), nowhere near a queue.
      expect(light.ackLatencyMsP99).toBeGreaterThan(free.ackLatencyMsP99);
      expect(light.ackLatencyMsP99).toBeLessThan(4 * free.ackLatencyMsP99);
      expect(light.nodeLoad!.busyShare[0]).toBeGreaterThan(0.1);
      expect(light.nodeLoad!.busyShare[0]).toBeLessThan(0.6);

      // Overloaded: the node is busy nearly all the time, a queue builds, the ack SLO breaks.
      expect(heavy.nodeLoad!.busyShare[0]).toBeGreaterThan(0.9);
      expect(heavy.nodeLoad!.queuePeak[0]).toBeGreaterThan(10 * light.nodeLoad!.queuePeak[0]!);
      expect(heavy.ackLatencyMsP99).toBeGreaterThan(10 * light.ackLatencyMsP99);
      expect(heavy.exitCode).toBe(2);
      expect(heavy.slo.find((s) => s.name.startsWith('ackLatency'))?.pass).toBe(false);
    },
    simTimeoutMs,
  );

  it(
    "charges the node's start as a step (the live meter times it): a dear start keeps the node busy that long",
    async () => {
      const scenario = loadScenario('steady');
      const run = (costModel: CostModel) => runScenario(scenario, { seed: 7, clients: 20, costModel });
      const light = await run(flat(100));
      const dearStart = await run({ ...flat(100), inputUs: { start: 2_000_000 } });
      for (const summary of [light, dearStart])
        expect(summary.verdicts.filter((v) => v.verdict === 'fail')).toEqual([]);
      // 2 s of start on a run whose load phases end at the settle (24 s in steady): 1/12 more busy.
      const settleMs = 24_000;
      const extraMs = (dearStart.nodeLoad!.busyShare[0]! - light.nodeLoad!.busyShare[0]!) * settleMs;
      expect(extraMs).toBeGreaterThan(1900);
      expect(extraMs).toBeLessThan(2600);
    },
    simTimeoutMs,
  );
});
