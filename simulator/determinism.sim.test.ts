// Same seed, same run, bit for bit: each scenario runs twice per seed and the trace hashes (and the
// checkpoints every 4096 events) must agree; a mismatch names the first divergent event window.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { firstDivergence } from './kernel/trace-hash.ts';
import { runScenario } from './run-scenario.ts';

describe('determinism', () => {
  it.each(['churn', 'swarm'])('%s: the same seed twice gives the same trace', (name) => {
    const scenario = loadScenario(name);
    for (const seed of [7, 123456789]) {
      const a = runScenario(scenario, { seed, clients: 200 });
      const b = runScenario(scenario, { seed, clients: 200 });
      const divergence = firstDivergence(a.traceCheckpoints, b.traceCheckpoints, a.traceCheckpointEvery);
      expect(divergence, `seed ${seed} diverged at event ~${divergence}`).toBeNull();
      expect(b.traceHash).toBe(a.traceHash);
      expect(b.events).toBe(a.events);
      expect(b.messages).toEqual(a.messages);
    }
  });

  it('different seeds give different traces', () => {
    const scenario = loadScenario('steady');
    const a = runScenario(scenario, { seed: 1, clients: 100 });
    const b = runScenario(scenario, { seed: 2, clients: 100 });
    expect(a.traceHash).not.toBe(b.traceHash);
  });
});
