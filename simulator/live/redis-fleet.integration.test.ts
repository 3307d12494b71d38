// `chatsim live --nodes 3`: three reference nodes over a redis-server the run starts, Toxiproxy between
// each node and Redis. The redis-fleet scenario (client partition, one node cut from Redis, Redis slowed, Redis
// SIGKILLed and restarted from its AOF, a node SIGKILLed, half the clients reconnecting) passes on a
// correct fleet and fails on one whose Redis keeps nothing on disk, judged from real sockets. (Every
// known bug is caught on this fleet: docs/benchmarks.md records the run of each.)

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import { RedisFleet } from './redis-fleet.ts';
import { runLive } from './run-live.ts';

const secret = 'live-redis-fleet-secret-0123456789abcdef';

function fleetRun(seed: number, bugs: string[], settleMaxMs?: number) {
  const scenario = loadScenario('redis-fleet');
  const phases = { ...scenario.phases, settleMaxMs: settleMaxMs ?? scenario.phases.settleMaxMs };
  return runLive(
    { ...scenario, phases, clients: { ...scenario.clients, count: 60 } },
    {
      seed,
      fleet: new RedisFleet({ nodes: 3, secret, limits: scenario.limits, bugs }),
      secret,
      bugs,
    },
  );
}

// Two fleets of their own (each run starts its own Redis and nodes on free ports), side by side: most of
// a live run is waiting on its wall-clock phases.
describe.concurrent('chatsim live against a fleet of three nodes over Redis', () => {
  it('passes redis-fleet: Redis outage and restart, a node cut from Redis, Redis slowed, a node SIGKILLed, a reconnect storm', async () => {
    const summary = await fleetRun(1, []);
    expect(
      summary.verdicts.filter((v) => v.verdict !== 'pass').map((v) => `${v.property}: ${v.details}`),
    ).toEqual([]);
    expect(summary.exitCode).toBe(0);
    const faultLog = summary.live?.faultLog.join('\n') ?? '';
    expect(faultLog).toContain('store-outage (Redis');
    expect(faultLog).toContain('node 1 from Redis');
    expect(faultLog).toContain('redis-latency (every node to Redis, +100 ms');
    expect(summary.messages.acked).toBeGreaterThan(50);
  }, 180_000);

  it('catches a fleet whose Redis keeps nothing on disk (ack-before-durable): the outage loses acked messages', async () => {
    // Lost messages never settle: a short settle window (the loss is in the store, read after the
    // generators stop, whether or not the run settled) instead of waiting 30 s for what cannot come.
    const summary = await fleetRun(2, ['ack-before-durable'], 5000);
    expect(summary.exitCode).not.toBe(0);
    expect(summary.verdicts.find((v) => v.property === 'durable-ack')?.verdict).toBe('fail');
  }, 180_000);
});
