// The Redis store on a Redis Cluster (3 masters, 3 replicas, started here from Debian's redis-server
// on free ports) against the shared MessageStore contract, through ioredis `Cluster`: every key of a
// conversation shares its hash tag, so each script stays in one slot wherever the slot lives. Then two
// nodes over the cluster: store, bus and presence through ioredis `Cluster`; WAIT for replicas after
// each write; and last (it leaves the cluster with a promoted replica) a master SIGKILLed mid-use:
// with WAIT 1, every write acked before the kill is still there after the failover.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import type { Cluster } from 'ioredis';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisCluster } from '../../chaos/redis-cluster.ts';
import { ChatClient } from '../../test-support/chat-client.ts';
import { eventually } from '../../test-support/eventually.ts';
import { HttpApi } from '../../test-support/http.ts';
import { mintTestToken } from '../../test-support/tokens.ts';
import type { Input } from '../core/inputs.ts';
import { RedisBus } from '../runtime/redis-bus.ts';
import { startServer } from '../runtime/server.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';
import { StoreUnavailableError } from './message-store.ts';
import { RedisStore } from './redis-store.ts';

const run = promisify(execFile);
let cluster: RedisCluster;
let fixtures = 0;
beforeAll(async () => {
  cluster = await RedisCluster.start();
}, 120_000);
afterAll(async () => {
  await cluster?.dispose();
});

function storeAt(prefix: string, waitReplicas?: { replicas: number; timeoutMs: number }): RedisStore {
  return new RedisStore({
    url: '',
    cluster: cluster.nodes,
    prefix,
    connection: { commandTimeout: 10_000 },
    ...(waitReplicas ? { waitReplicas } : {}),
  });
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

  it('carries a fleet: pushes and presence between two nodes over the cluster', async () => {
    const secret = 'cluster-fleet-secret-0123456789abcdef';
    const prefix = `fleet${++fixtures}:`;
    const start = (nodeId: string) =>
      startServer({
        port: 0,
        store: new RedisStore({ url: '', cluster: cluster.nodes, prefix }),
        bus: new RedisBus({ url: '', cluster: cluster.nodes, prefix }),
        secret,
        nodeId,
        closeTimeoutMs: 1000,
        log: () => {},
      });
    const [a, b] = [await start('a'), await start('b')];
    const clients: ChatClient[] = [];
    const session = async (node: { wsUrl: string }, user: string) => {
      const client = await ChatClient.connect(node.wsUrl, user);
      clients.push(client);
      await client.hello(await mintTestToken(secret, user));
      return client;
    };
    try {
      const admin = await mintTestToken(secret, 'admin', { admin: true });
      await new HttpApi(a.url).mustCreateConversation(admin, {
        id: 'g',
        kind: 'group',
        members: ['alice', 'bob'],
      });
      const carol = await session(a, 'carol');
      carol.send({ t: 'watch', users: ['bob'] });
      expect(await carol.waitFor('presence')).toMatchObject({ user: 'bob', online: false });
      const alice = await session(a, 'alice');
      const bob = await session(b, 'bob');
      expect(await carol.waitFor('presence')).toMatchObject({ user: 'bob', online: true });
      const ack = await alice.mustSend('g', 'm1', 'across the cluster');
      expect(await bob.waitFor('msg', (m) => m.conv === 'g')).toMatchObject({
        seq: ack.seq,
        body: 'across the cluster',
      });
    } finally {
      for (const client of clients) client.terminate();
      await Promise.allSettled([a.close(), b.close()]);
    }
  });
});

describe('RedisBus on a Redis Cluster: a moved subscription', () => {
  it('catches up from the store when ioredis moves the subscription to another node', async () => {
    const prefix = `sub${++fixtures}:`;
    const inputs: Input[] = [];
    const bus = new RedisBus({ url: '', cluster: cluster.nodes, prefix });
    const other = new RedisBus({ url: '', cluster: cluster.nodes, prefix });
    await bus.start('n1', (input) => inputs.push(input));
    await other.start('n2', () => {});
    try {
      // Every node drops its pub/sub clients: ioredis picks another node for the subscription by
      // itself and the Cluster stays 'ready', so only the bus can notice what it may have missed.
      // All at once: killed one after another, the subscription may move to a node not yet killed
      // and move again (a second lost/resumed pair).
      await Promise.all(
        cluster.servers.map((server) =>
          run('redis-cli', ['-p', String(server.port), 'client', 'kill', 'type', 'pubsub']),
        ),
      );
      const types = () => inputs.map((input) => input.type);
      await eventually(() => expect(types(), types().join()).toContain('bus-resumed'), 100, 100);
      expect(types().indexOf('bus-lost'), types().join()).toBeLessThan(types().indexOf('bus-resumed'));
      // The contract: an event published while subscribed arrives, or the bus says it lost the
      // subscription after it was published (then the node catches up from the store, and a new
      // event must arrive once it is back). Silence with neither fails.
      let arrived = false;
      for (let attempt = 0; attempt < 3 && !arrived; attempt++) {
        await eventually(() => expect(types().at(-1), types().join()).toBe('bus-resumed'), 100, 100);
        const from = inputs.length;
        other.publish({ kind: 'typing', origin: 'n2', conv: 'g', user: 'u', on: true });
        const after = await eventually(
          () => {
            const since = types().slice(from);
            expect(since.includes('bus') || since.includes('bus-lost'), types().join()).toBe(true);
            return since;
          },
          100,
          100,
        );
        arrived = after.includes('bus');
      }
      expect(arrived, types().join()).toBe(true);
    } finally {
      await Promise.all([bus.close(), other.close()]);
    }
  });
});

describe('RedisBus on a Redis Cluster: order', () => {
  // Receivers apply presence and typing in the order they arrive: an `online` that overtakes the
  // `offline` published after it leaves the user online for good (live failover run, steady seed 1).
  it("delivers one node's events in the order it published them", async () => {
    const prefix = `order${++fixtures}:`;
    const received: number[] = [];
    const sender = new RedisBus({ url: '', cluster: cluster.nodes, prefix });
    const receiver = new RedisBus({ url: '', cluster: cluster.nodes, prefix });
    await sender.start('n1', () => {});
    await receiver.start('n2', (input) => {
      if (input.type === 'bus' && input.event.kind === 'typing') received.push(Number(input.event.conv));
    });
    try {
      const count = 600;
      for (let i = 0; i < count; i++)
        sender.publish({ kind: 'typing', origin: 'n1', conv: String(i), user: 'u', on: true });
      await eventually(() => expect(received).toHaveLength(count), 100, 100);
      expect(received).toEqual(Array.from({ length: count }, (_, i) => i));
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
});

describe('RedisBus on a Redis Cluster: a failed publish', () => {
  it('publishes again what failed while the cluster stayed ready, and what came after it', async () => {
    const prefix = `pubfail${++fixtures}:`;
    const received: string[] = [];
    const sender = new RedisBus({ url: '', cluster: cluster.nodes, prefix });
    const receiver = new RedisBus({ url: '', cluster: cluster.nodes, prefix });
    await sender.start('n1', () => {});
    await receiver.start('n2', (input) => {
      if (input.type === 'bus' && input.event.kind === 'typing') received.push(input.event.conv);
    });
    try {
      // The node a PUBLISH went to died under it: the command fails, the Cluster stays 'ready'.
      const pub = (sender as unknown as { pub: Cluster }).pub;
      const publish = pub.eval.bind(pub);
      let failures = 1;
      pub.eval = ((...args: Parameters<Cluster['eval']>) =>
        failures-- > 0
          ? Promise.reject(new Error('Connection is closed.'))
          : publish(...args)) as Cluster['eval'];
      const typing = (conv: string) =>
        sender.publish({ kind: 'typing', origin: 'n1', conv, user: 'u', on: true });
      typing('a');
      typing('b');
      await new Promise((resolve) => setTimeout(resolve, 50)); // 'a' has failed and waits
      typing('c'); // queued behind 'a'
      // Out of order is what the bus may do after a failure (receivers fill message gaps from the
      // store); lost is not.
      await eventually(() => expect([...received].sort()).toEqual(['a', 'b', 'c']), 100, 100);
    } finally {
      await Promise.all([sender.close(), receiver.close()]);
    }
  });
});

describe('RedisStore on a Redis Cluster: WAIT and a master failover', () => {
  it('acks a write once a replica has it, and refuses (unavailable) one that no second replica can take', async () => {
    const prefix = `wait${++fixtures}:`;
    const one = storeAt(prefix, { replicas: 1, timeoutMs: 2000 });
    const two = storeAt(prefix, { replicas: 2, timeoutMs: 50 });
    try {
      await one.open();
      await two.open();
      await one.createConversation({ id: 'w', kind: 'group', members: ['a'] });
      expect(await one.append({ conv: 'w', from: 'a', cmid: 'm1', body: 'x', ts: 1 })).toMatchObject({
        seq: 1,
      });
      const refused = two.append({ conv: 'w', from: 'a', cmid: 'm2', body: 'y', ts: 2 });
      await expect(refused).rejects.toBeInstanceOf(StoreUnavailableError);
      await expect(refused).rejects.toThrow(/reached 1 of 2 replicas/);
      // Written on the master all the same: the retry is answered as the duplicate it is.
      expect(await one.append({ conv: 'w', from: 'a', cmid: 'm2', body: 'y', ts: 3 })).toMatchObject({
        seq: 2,
        duplicate: true,
      });
    } finally {
      await Promise.all([one.close(), two.close()]);
    }
  });

  it('keeps every write acked with WAIT 1 when a master is SIGKILLed and its replica promoted', async () => {
    const prefix = `failover${++fixtures}:`;
    const store = storeAt(prefix, { replicas: 1, timeoutMs: 2000 });
    const ids = Array.from({ length: 12 }, (_, i) => `f${i}`);
    try {
      await store.open();
      for (const id of ids) {
        await store.createConversation({ id, kind: 'group', members: ['a'] });
        for (const cmid of ['m1', 'm2', 'm3'])
          await store.append({ conv: id, from: 'a', cmid, body: cmid, ts: 1 });
      }
      const { failoverMs } = await cluster.failMaster(0);
      expect(failoverMs).toBeGreaterThan(0);
      // The store finds the new master by itself (ioredis refreshes the slot map on errors).
      expect(
        await eventually(
          () => store.append({ conv: 'f0', from: 'a', cmid: 'after', body: 'after', ts: 2 }),
          100,
          200,
        ),
      ).toMatchObject({ seq: 4 });
    } finally {
      await store.close();
    }
    const reader = storeAt(prefix);
    try {
      const records = await reader.open();
      expect(records.map((r) => `${r.id}@${r.lastSeq}`).sort()).toEqual(
        ids.map((id) => `${id}@${id === 'f0' ? 4 : 3}`).sort(),
      );
    } finally {
      await reader.close();
    }
  });
});
