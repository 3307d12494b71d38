// The redis-fleet scenario in simulation: three nodes whose bus is lossy pub/sub beside the shared
// store. A node cut from Redis and a Redis outage make nodes lose bus events; the run passes only if
// they catch up from the store (no-loss, liveness), and it must actually have gone through that path.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { validateScenario } from '../scenarios/scenario.ts';
import { runScenario } from './run-scenario.ts';

describe('redis-fleet in simulation', () => {
  // Seeds 3 and 4 fail no-loss and liveness when the core ignores `bus-resumed` and gaps (tried by hand):
  // they prove the scenario reaches the catch-up path, not only that it passes.
  it.each([3, 4])(
    'seed %i: nodes lose bus events, catch up from the store, and every check passes',
    async (seed) => {
      const summary = await runScenario(loadScenario('redis-fleet'), { seed, clients: 300 });
      const failed = summary.verdicts.filter((v) => v.verdict !== 'pass');
      expect(failed.map((v) => `${v.property}: ${v.details}`)).toEqual([]);
      expect(summary.exitCode).toBe(0);
      // One node cut from Redis, then all three in the outage (the crashed node restarts fresh).
      expect(summary.busResumes).toBeGreaterThanOrEqual(4);
    },
    600_000,
  );

  it('a node that crashes while cut from Redis loses what it kept; the fleet still converges', async () => {
    // Node 1 is cut from Redis (store and bus), crashes while cut off, restarts still cut off (it
    // cannot read the store, so it retries), and is reconnected: what its first process kept for
    // the bus is gone, as RedisBus's backlog is, and nothing of it is republished.
    const scenario = validateScenario(
      {
        ...loadScenario('redis-fleet'),
        name: 'crash-while-cut',
        faults: [
          { type: 'partition', target: 'store', node: 1, atMs: 1000, durationMs: 5000 },
          { type: 'node-crash', node: 1, atMs: 3000, durationMs: 1000 },
        ],
      },
      'crash-while-cut.json',
    );
    const summary = await runScenario(scenario, { seed: 5, clients: 300 });
    const failed = summary.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failed.map((v) => `${v.property}: ${v.details}`)).toEqual([]);
    expect(summary.exitCode).toBe(0);
    expect(summary.busLostWithProcess).toBeGreaterThan(0);
  }, 600_000);
});
