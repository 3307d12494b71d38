// `capacity --sim` end to end on a tiny scenario: the simulated knee is where the cost model puts it.
// With every step costing c, the node saturates at some rate; with 2c at half of it or below (the
// connections' own steps cost twice as much too), so its knee falls at least one rate step lower
// (the steps double); the broken step's node is busy nearly all the time, the last held one's not.
// A model whose costs did not reach the node would find no knee at all.

import { describe, expect, it } from 'vitest';
import { validateScenario } from '../scenarios/scenario.ts';
import type { CostModel } from '../simulator/world/cost-model.ts';
import { flatCostModel as flat } from '../test-support/flat-cost-model.ts';
import { simStep } from './capacity-sim.ts';
import { runCapacity } from './capacity-sweep.ts';

const scenario = validateScenario(
  {
    name: 'tiny-capacity',
    clients: { count: 40 },
    conversations: { groupFraction: 0 },
    // No presser: its burst would queue the node before the offered rate does.
    workload: { readProbability: 0, typingProbability: 0, watchPerClient: 1, pressers: 0 },
    checks: { skip: ['typing-recipients', 'rate-limit'] },
    phases: { warmupMs: 1000, settleMaxMs: 20_000 },
    thresholds: { ackLatency: ['p(99)<=250'], failedSends: ['count<1'] },
  },
  'test',
);

const sweep = (costModel: CostModel) =>
  runCapacity(scenario, {
    seed: 3,
    clientSteps: [40],
    rateSteps: [25, 50, 100, 200, 400],
    repeats: 1,
    stepMs: 3000,
    runStep: simStep(costModel),
  });

describe('capacity --sim', () => {
  it('finds the knee the cost model puts there, and at least halves it when steps cost twice as much', async () => {
    const cheap = await sweep(flat(1000));
    const dear = await sweep(flat(2000));
    const kneeRate = (r: typeof cheap) => r.knee.rate ?? r.knee;
    const cheapKnee = kneeRate(cheap);
    const dearKnee = kneeRate(dear);
    expect(cheapKnee.firstBroken, cheap.knee.describe).not.toBeNull();
    expect(dearKnee.firstBroken, dear.knee.describe).not.toBeNull();
    expect(dearKnee.firstBroken!.offeredMsgsPerSec).toBeLessThanOrEqual(
      cheapKnee.firstBroken!.offeredMsgsPerSec / 2,
    );
    expect(dearKnee.lastHeld!.offeredMsgsPerSec).toBeLessThan(cheapKnee.lastHeld!.offeredMsgsPerSec);
    for (const knee of [cheapKnee, dearKnee]) {
      expect(knee.limit.some((l) => l.startsWith('threshold ackLatency'))).toBe(true);
      expect(knee.limit.filter((l) => l.startsWith('check '))).toEqual([]);
      expect(knee.firstBroken!.repeats[0]!.serverCpuShare).toBeGreaterThan(0.9);
      expect(knee.lastHeld!.repeats[0]!.serverCpuShare).toBeLessThan(0.9);
    }
    expect(cheap.target).toBe('--sim (cost model flat-1000)');
  }, 120_000);
});
