// The Redis store on a Redis Cluster (3 masters, 3 replicas, started here from Debian's redis-server
// on free ports) against the shared MessageStore contract, through ioredis `Cluster`: every key of a
// conversation shares its hash tag, so each script stays in one slot wherever the slot lives.

import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCluster } from '../../chaos/redis-cluster.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';
import { RedisStore } from './redis-store.ts';

let cluster: RedisCluster;
let fixtures = 0;
beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 120_000);
afterAll(async () => {
  await cluster?.dispose();
});

function storeAt(prefix: string): RedisStore {
  return new RedisStore({ url: '', cluster: cluster.nodes, prefix, connection: { commandTimeout: 10_000 } });
}

describeMessageStoreContract(
  'RedisStore on a Redis Cluster',
  async () => {
    const prefix = `c${++fixtures}:`;
    return { store: storeAt(prefix), reopen: () => storeAt(prefix), dispose: async () => undefined };
  },
  { durable: true, propertyRuns: 15 },
);

describe('RedisStore on a Redis Cluster', () => {
  it('spreads conversations over every master and lists them all on open', async () => {
    const prefix = `spread${++fixtures}:`;
    const store = storeAt(prefix);
    await store.open();
    const ids = Array.from({ length: 30 }, (_, i) => `conv-${i}`);
    for (const id of ids) {
      await store.createConversation({ id, kind: 'group', members: ['a'] });
      await store.append({ conv: id, from: 'a', cmid: 'm1', body: id, ts: 1 });
    }
    const masters = (store.redis as Cluster).nodes('master');
    expect(masters).toHaveLength(3);
    for (const size of await Promise.all(masters.map((master) => master.dbsize())))
      expect(size).toBeGreaterThan(0);
    await store.close();
    const reopened = storeAt(prefix);
    const records = await reopened.open();
    expect(records.map((r) => `${r.id}@${r.lastSeq}`).sort()).toEqual(ids.map((id) => `${id}@1`).sort());
    await reopened.close();
  });
});
