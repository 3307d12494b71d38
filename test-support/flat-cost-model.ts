// A cost model for tests: every core step costs the same, effects nothing, so a test can say how busy
// a simulated node gets from how many steps it runs.

import type { CostModel } from '../simulator/world/cost-model.ts';

export function flatCostModel(us: number): CostModel {
  return {
    name: `flat-${us}`,
    measured: { command: 'test', date: '2026-11-30', machine: 'test' },
    inputUs: {},
    defaultInputUs: us,
    effectUs: { frame: 0, recipient: 0, store: 0, publish: 0 },
  };
}
