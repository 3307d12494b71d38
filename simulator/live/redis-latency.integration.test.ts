// redis-latency live: the latency toxic RedisFleet puts on a node's proxy to Redis slows every round
// trip through it both ways while it lasts, and the heal removes it. Measured with a Redis client on
// the node's own path (its proxy), against a one-node fleet over a redis-server the fleet starts.

import { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisFleet } from './redis-fleet.ts';

const secret = 'live-redis-latency-secret-0123456789abcdef';
let fleet: RedisFleet;
let redis: Redis;

async function pingMs(): Promise<number> {
  const started = performance.now();
  await redis.ping();
  return performance.now() - started;
}

beforeAll(async () => {
  fleet = new RedisFleet({ nodes: 1, secret, limits: {}, bugs: [] });
  await fleet.start();
  redis = new Redis(fleet.redisUrls[0]!, { lazyConnect: true, maxRetriesPerRequest: 1 });
  await redis.connect();
}, 60_000);

afterAll(async () => {
  redis?.disconnect();
  await fleet?.stop();
});

describe('redis-latency on a fleet over Redis', () => {
  it('slows each round trip on the node path by the latency both ways, until the heal', async () => {
    const heal = await fleet.redis.slow(undefined, 150, 0);
    const slowed = [await pingMs(), await pingMs(), await pingMs()];
    await heal();
    const healed = await pingMs();
    // Two toxics on the round trip (upstream and downstream): never less than 2 x 150 ms.
    for (const ms of slowed) expect(ms).toBeGreaterThanOrEqual(295);
    // Not a wall-clock assertion on speed: only that the 300 ms added are gone.
    expect(healed).toBeLessThan(Math.min(...slowed) - 100);
  }, 30_000);

  it('refuses to slow or cut a node the fleet lacks, instead of touching another node', async () => {
    await expect(fleet.redis.slow(1, 150, 0)).rejects.toThrow('no node 1 (nodes 0-0)');
    await expect(fleet.redis.cut(1)).rejects.toThrow('no node 1 (nodes 0-0)');
    expect(await pingMs()).toBeLessThan(150);
  });
});
