// RedisLiveness against a model of its heartbeat script (one sorted set, Redis's clock = the faked
// Date): a Redis outage past the TTL takes no live node for dead, a node that stops beating is taken
// for dead by every other, and one that beats again makes them resync.

import type { Redis } from 'ioredis';
import { afterEach, describe, expect, it, vi } from 'vitest';
import type { Input } from '../core/inputs.ts';
import { RedisLiveness } from './redis-liveness.ts';

const ttlMs = 5000;

/** The heartbeat script's effect on one shared sorted set; `status` says whether Redis answers. */
class FakeRedis {
  status = 'ready';
  readonly scores = new Map<string, number>();
  /** While set, Redis takes commands but runs none (a slow fsync, a SIGSTOP): they run when it resolves. */
  stall: Promise<void> | null = null;

  /** The part of an ioredis client RedisLiveness uses. */
  client(): Redis {
    const redis = this;
    return {
      get status() {
        return redis.status;
      },
      eval: async (_script: string, _keys: number, _key: string, node: string, forgetMs: number) => {
        if (redis.status !== 'ready') throw new Error('Connection is closed.');
        while (redis.stall !== null) await redis.stall;
        const now = Date.now();
        redis.scores.set(node, now);
        for (const [other, score] of redis.scores) if (score <= now - forgetMs) redis.scores.delete(other);
        return [now, [...redis.scores].flatMap(([other, score]) => [other, String(score)])];
      },
    } as unknown as Redis;
  }
}
let fake: FakeRedis;

function fleet(ids: string[]) {
  fake = new FakeRedis();
  const fed = new Map<string, string[]>(ids.map((id) => [id, []]));
  const logs = new Map<string, string[]>(ids.map((id) => [id, []]));
  const nodes = new Map<string, RedisLiveness>();
  for (const id of ids) {
    const log = (line: string) => logs.get(id)!.push(line);
    const liveness = new RedisLiveness({ redis: fake.client(), key: 'nodes', ttlMs, log });
    liveness.start(id, (input: Input) =>
      fed.get(id)!.push(input.type === 'bus' ? `${input.event.kind} ${input.event.origin}` : input.type),
    );
    nodes.set(id, liveness);
  }
  return { fed, logs, nodes };
}

describe('RedisLiveness', () => {
  afterEach(() => {
    vi.useRealTimers();
  });

  it('takes no live node for dead after a Redis outage longer than the TTL (every score is as old as the outage)', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { fed, logs, nodes } = fleet(['n1', 'n2', 'n3']);
    await vi.advanceTimersByTimeAsync(3000);
    fake.status = 'reconnecting';
    await vi.advanceTimersByTimeAsync(7000);
    fake.status = 'ready';
    await vi.advanceTimersByTimeAsync(8000);
    expect(Object.fromEntries(fed)).toEqual({ n1: [], n2: [], n3: [] });
    // A node that really stops beating is still taken for dead by the others, and resyncs them on return.
    nodes.get('n3')!.stop();
    await vi.advanceTimersByTimeAsync(7000);
    expect(Object.fromEntries(fed)).toEqual({ n1: ['node-down n3'], n2: ['node-down n3'], n3: [] });
    nodes.get('n3')!.start('n3', () => {});
    await vi.advanceTimersByTimeAsync(2000);
    expect(Object.fromEntries(fed)).toEqual({
      n1: ['node-down n3', 'presence-resync'],
      n2: ['node-down n3', 'presence-resync'],
      n3: [],
    });
    // Said in the operator's log, with how long the dead node had been silent.
    expect(logs.get('n1')).toEqual([
      expect.stringMatching(/^bus: node n3 taken for dead: last heartbeat 5\d\d\d ms ago \(TTL 5000 ms\)/),
      'bus: node n3 is back; asking every node for its presence again',
    ]);
    expect(logs.get('n3')).toEqual([]);
    for (const liveness of nodes.values()) liveness.stop();
  });

  it('takes a node that died during the outage for dead once the others have beaten a whole TTL since', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setInterval', 'clearInterval', 'Date'] });
    const { fed, nodes } = fleet(['n1', 'n2', 'n3']);
    await vi.advanceTimersByTimeAsync(3000);
    fake.status = 'reconnecting';
    nodes.get('n2')!.stop();
    await vi.advanceTimersByTimeAsync(7000);
    fake.status = 'ready';
    await vi.advanceTimersByTimeAsync(ttlMs - 1500);
    expect(fed.get('n1')).toEqual([]);
    await vi.advanceTimersByTimeAsync(3000);
    expect(Object.fromEntries(fed)).toEqual({ n1: ['node-down n2'], n2: [], n3: ['node-down n2'] });
    for (const liveness of nodes.values()) liveness.stop();
  });

  it('takes no live node for dead after Redis stalls just short of its command timeout (queued beats run at once)', async () => {
    vi.useFakeTimers({ now: 1_000_000, toFake: ['setInterval', 'clearInterval', 'Date', 'setTimeout'] });
    const { fed, logs, nodes } = fleet(['n1', 'n2', 'n3']);
    await vi.advanceTimersByTimeAsync(ttlMs + 2000);
    // Stalls of 4.8 s at different phases of the beats: each leaves some score older than the TTL
    // when the first queued beat runs.
    for (const offset of [0, 300, 700, 1100]) {
      await vi.advanceTimersByTimeAsync(ttlMs + offset);
      let wake = () => {};
      fake.stall = new Promise<void>((resolve) => {
        wake = resolve;
      });
      await vi.advanceTimersByTimeAsync(4800);
      fake.stall = null;
      wake();
      await vi.advanceTimersByTimeAsync(100);
    }
    await vi.advanceTimersByTimeAsync(2 * ttlMs);
    expect(Object.fromEntries(fed)).toEqual({ n1: [], n2: [], n3: [] });
    expect(Object.fromEntries(logs)).toEqual({ n1: [], n2: [], n3: [] });
    // A node that really stops beating is still taken for dead after a stall.
    nodes.get('n2')!.stop();
    await vi.advanceTimersByTimeAsync(ttlMs + 2000);
    expect(Object.fromEntries(fed)).toEqual({ n1: ['node-down n2'], n2: [], n3: ['node-down n2'] });
    for (const liveness of nodes.values()) liveness.stop();
  });
});
