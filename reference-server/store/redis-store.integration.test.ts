// The Redis store against the shared MessageStore contract, on a real redis-server this file starts
// (free port, temp dir, AOF with an fsync per write); each fixture gets its own key prefix and a
// reopen is a new store (a new connection) over the same keys. Then what only Redis has: the
// durability check, `unavailable` while Redis is away and recovery on its own, and the AOF surviving
// a SIGKILL of Redis.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../../chaos/redis-server.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';
import { RedisStore } from './redis-store.ts';

let server: RedisServer;
let fixtures = 0;
beforeAll(async () => {
  server = await RedisServer.start();
});
afterAll(async () => {
  await server?.dispose();
});

function storeAt(prefix: string, url = server.url): RedisStore {
  return new RedisStore({ url, prefix, connection: { commandTimeout: 10_000 } });
}

describeMessageStoreContract(
  'RedisStore',
  async () => {
    const prefix = `t${++fixtures}:`;
    return {
      store: storeAt(prefix),
      reopen: () => storeAt(prefix),
      dispose: async () => undefined,
    };
  },
  { durable: true, propertyRuns: 30 },
);

describe('RedisStore on a real Redis', () => {
  it('refuses a Redis that does not fsync every write, unless told to accept it', async () => {
    const lax = await RedisServer.start({ appendfsync: 'everysec' });
    try {
      const strict = storeAt('d:', lax.url);
      await expect(strict.open()).rejects.toMatchObject({
        code: 'CHATSIM_ERR_REDIS_NOT_DURABLE',
        message: expect.stringContaining('appendfsync everysec'),
      });
      await strict.close();
      const warnings: string[] = [];
      const unsafe = new RedisStore({
        url: lax.url,
        prefix: 'd:',
        allowUnsafe: true,
        warn: (line) => warnings.push(line),
      });
      expect(await unsafe.open()).toEqual([]);
      expect(warnings).toEqual([expect.stringContaining('acks are NOT durable')]);
      await unsafe.close();
    } finally {
      await lax.dispose();
    }
    const noAof = await RedisServer.start({ appendonly: false });
    try {
      const strict = storeAt('d:', noAof.url);
      await expect(strict.open()).rejects.toThrow(/appendonly no/);
      await strict.close();
    } finally {
      await noAof.dispose();
    }
  });

  it('fails fast while Redis is away, loses nothing acked, and recovers on its own', async () => {
    const own = await RedisServer.start();
    const store = new RedisStore({ url: own.url, prefix: 'o:' });
    try {
      await store.open();
      await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
      const first = await store.append({ conv: 'g', from: 'a', cmid: 'm1', body: 'before', ts: 1 });
      expect(first).toMatchObject({ status: 'ok', seq: 1 });
      await own.kill();
      await expect(
        store.append({ conv: 'g', from: 'a', cmid: 'm2', body: 'during', ts: 2 }),
      ).rejects.toThrow();
      await expect(store.read({ conv: 'g', after: 0, limit: 10 })).rejects.toThrow();
      await expect(store.ping()).rejects.toThrow();
      await own.restart();
      const retried = await eventuallyOk(() =>
        store.append({ conv: 'g', from: 'a', cmid: 'm2', body: 'during', ts: 3 }),
      );
      expect(retried).toMatchObject({ status: 'ok', seq: 2, duplicate: false });
      const read = await store.read({ conv: 'g', after: 0, limit: 10 });
      expect(read.status === 'ok' && read.messages.map((m) => [m.seq, m.cmid, m.body])).toEqual([
        [1, 'm1', 'before'],
        [2, 'm2', 'during'],
      ]);
    } finally {
      await store.close();
      await own.dispose();
    }
  });

  it('keeps every acked append across a SIGKILL of Redis (replayed from the AOF)', async () => {
    const own = await RedisServer.start();
    const store = new RedisStore({ url: own.url, prefix: 'k:' });
    try {
      await store.open();
      await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
      const acked = await Promise.all(
        Array.from({ length: 200 }, (_, i) =>
          store.append({ conv: 'g', from: i % 2 ? 'a' : 'b', cmid: `m${i}`, body: `body ${i}`, ts: i }),
        ),
      );
      await own.kill();
      await own.restart();
      const reopened = new RedisStore({ url: own.url, prefix: 'k:' });
      const records = await reopened.open();
      expect(records).toMatchObject([{ id: 'g', lastSeq: 200 }]);
      const read = await reopened.read({ conv: 'g', after: 0, limit: 1000 });
      const bySeq = new Map(read.status === 'ok' ? read.messages.map((m) => [m.seq, m.cmid]) : []);
      for (const [i, result] of acked.entries())
        expect(result.status === 'ok' && bySeq.get(result.seq)).toBe(`m${i}`);
      await reopened.close();
    } finally {
      await store.close();
      await own.dispose();
    }
  });

  it('reports the membership version an append was decided under, as the log store does', async () => {
    const store = storeAt(`v${++fixtures}:`);
    try {
      await store.open();
      await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b', 'c'] });
      expect(await store.append({ conv: 'g', from: 'a', cmid: 'm1', body: '', ts: 1 })).toMatchObject({
        membersVersion: 3,
      });
      await store.changeMembers({ conv: 'g', add: ['d'], remove: ['c'] });
      expect(await store.append({ conv: 'g', from: 'a', cmid: 'm2', body: '', ts: 2 })).toMatchObject({
        membersVersion: 5,
      });
      // A duplicate reports the version now (it was decided before; the node only reads what it lacks).
      expect(await store.append({ conv: 'g', from: 'a', cmid: 'm1', body: '', ts: 3 })).toMatchObject({
        duplicate: true,
        membersVersion: 5,
      });
    } finally {
      await store.close();
    }
  });

  it('keeps bodies exactly, lone surrogates and NULs included', async () => {
    const store = storeAt(`b${++fixtures}:`);
    try {
      await store.open();
      await store.createConversation({ id: 'g', kind: 'group', members: ['a'] });
      const bodies = ['plain', '\uD800 lone', 'nul \u0000 inside', 'émoji 😀', ''];
      for (const [i, body] of bodies.entries())
        await store.append({ conv: 'g', from: 'a', cmid: `m${i}`, body, ts: i });
      const read = await store.read({ conv: 'g', after: 0, limit: 10 });
      expect(read.status === 'ok' && read.messages.map((m) => m.body)).toEqual(bodies);
    } finally {
      await store.close();
    }
  });
});

async function eventuallyOk<T>(attempt: () => Promise<T>): Promise<T> {
  let lastError: unknown;
  for (let i = 0; i < 200; i++) {
    try {
      return await attempt();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }
  throw lastError;
}
