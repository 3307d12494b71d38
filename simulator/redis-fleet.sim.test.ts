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

  it('a node that dies with acked messages still on their way to Redis: the others catch up on its node-up', async () => {
    // Node 1's link to Redis is 500 ms slow and it dies just before the heal, with no heal phase to
    // send more: the `msg` of what it acked last dies in its socket, and only the other nodes'
    // catch-up on its restart (node-up) gets those messages to their members (no-loss failed before).
    const base = loadScenario('redis-fleet');
    const scenario = validateScenario(
      {
        ...base,
        name: 'crash-with-publishes-in-flight',
        phases: { ...base.phases, healMs: 100 },
        faults: [
          { type: 'redis-latency', node: 1, atMs: 0, durationMs: 16_000, latencyMs: 500, jitterMs: 0 },
          { type: 'node-crash', node: 1, atMs: 15_900, durationMs: 100 },
        ],
      },
      'crash-with-publishes-in-flight.json',
    );
    const summary = await runScenario(scenario, { seed: 1, clients: 300 });
    const failed = summary.verdicts.filter((v) => v.verdict !== 'pass');
    expect(failed.map((v) => `${v.property}: ${v.details}`)).toEqual([]);
    expect(summary.exitCode).toBe(0);
    expect(summary.busLostWithProcess).toBeGreaterThan(0);
  }, 600_000);
});
