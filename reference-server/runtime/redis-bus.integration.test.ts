// RedisBus on one Redis (started here: free port, temp dir): a PUBLISH that fails while the connection
// stays up (ioredis' command timeout after the node's loop stalled) must not leave the node's bus
// silent: what failed, and every event queued behind it, goes out while the connection stays ready.

import type { Redis } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../../chaos/redis-server.ts';
import { eventually } from '../../test-support/eventually.ts';
import { redisLimits } from '../store/redis-limits.ts';
import { RedisBus } from './redis-bus.ts';

let redis: RedisServer;
let fixtures = 0;

beforeAll(async () => {
  redis = await RedisServer.start();
});

afterAll(async () => {
  await redis?.dispose();
});

/** A sender and a receiver bus; `failures` PUBLISHes of the sender fail as a command timeout does. */
async function pair(failures: number) {
  const prefix = `bus${++fixtures}:`;
  const received: string[] = [];
  const sender = new RedisBus({ url: redis.url, prefix });
  const receiver = new RedisBus({ url: redis.url, prefix });
  await sender.start('n1', () => {});
  await receiver.start('n2', (input) => {
    if (input.type === 'bus' && input.event.kind === 'typing') received.push(input.event.conv);
    if (input.type === 'bus' && input.event.kind === 'events-dropped')
      received.push(`events-dropped by ${input.event.origin}`);
  });
  const pub = (sender as unknown as { pub: Redis }).pub;
  const publish = pub.publish.bind(pub);
  let left = failures;
  pub.publish = ((...args: Parameters<Redis['publish']>) =>
    left-- > 0 ? Promise.reject(new Error('Command timed out')) : publish(...args)) as Redis['publish'];
  const typing = (conv: string) =>
    sender.publish({ kind: 'typing', origin: 'n1', conv, user: 'u', on: true });
  const failFrom = (count: number) => {
    left = count;
  };
  return { received, typing, pub, failFrom, close: () => Promise.all([sender.close(), receiver.close()]) };
}

describe('RedisBus on one Redis: a backlog that overflowed', () => {
  it('sends what it kept, then events-dropped: the other nodes read what the dropped events told from the store', async () => {
    const bus = await pair(Number.POSITIVE_INFINITY);
    try {
      // Every publish fails meanwhile: the first is kept, the rest queue behind it, one more than the bound.
      for (let i = 0; i <= redisLimits.busBacklogMax; i++) bus.typing(`e${i}`);
      bus.failFrom(0);
      await eventually(() => expect(bus.received.at(-1)).toBe('events-dropped by n1'), 100, 100);
      // The oldest kept event was dropped; the rest went out in order before the notice.
      expect(bus.received[0]).toBe('e1');
      expect(bus.received.at(-2)).toBe(`e${redisLimits.busBacklogMax}`);
    } finally {
      await bus.close();
    }
  });
});

describe('RedisBus on one Redis: a failed publish', () => {
  it('publishes again what failed while the connection stayed ready, and everything queued behind it', async () => {
    const bus = await pair(1);
    try {
      bus.typing('a');
      await new Promise((resolve) => setTimeout(resolve, 50)); // 'a' has failed and waits
      bus.typing('b'); // queued behind 'a'
      bus.typing('c');
      expect(bus.pub.status).toBe('ready');
      await eventually(() => expect(bus.received).toEqual(['a', 'b', 'c']), 100, 100);
    } finally {
      await bus.close();
    }
  });

  it('keeps the order when a retry fails again: what failed first is never overtaken by what came after', async () => {
    // 'a' fails, then its retry fails too, while 'b' and 'c' wait behind it.
    const bus = await pair(2);
    try {
      bus.typing('a');
      await new Promise((resolve) => setTimeout(resolve, 50));
      bus.typing('b');
      bus.typing('c');
      // The first retry's 'b' and 'c' went through beside the failed 'a': they go again after it.
      await eventually(() => expect(bus.received.slice(-3)).toEqual(['a', 'b', 'c']), 100, 100);
    } finally {
      await bus.close();
    }
  });
});
