// Several reference nodes over one real Redis (started here: free port, temp dir, AOF always): pushes,
// receipts, typing and presence cross nodes; a node cut from Redis (through an embedded Toxiproxy)
// answers `unavailable`, then catches up from the store by itself, so its clients get what they
// missed without asking; a SIGKILLed node's users go offline elsewhere within the presence TTL; a node
// starting misses nothing published before its subscription; and a Redis SIGKILL makes every node answer
// `unavailable` until Redis is back from its AOF.

import { Toxiproxy } from 'toxiproxy-node-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RedisServer } from '../../chaos/redis-server.ts';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/toxiproxy-server.ts';
import { ChatClient } from '../../test-support/chat-client.ts';
import { ChildServer } from '../../test-support/child-server.ts';
import { eventually } from '../../test-support/eventually.ts';
import { HttpApi } from '../../test-support/http.ts';
import { mintTestToken } from '../../test-support/tokens.ts';
import type { Input } from '../core/inputs.ts';
import { RedisStore } from '../store/redis-store.ts';
import { RedisBus } from './redis-bus.ts';
import { type RunningServer, startServer } from './server.ts';

const secret = 'fleet-test-secret-0123456789abcdef';
const prefix = 'fleet:';
const presenceTtlMs = 1500;
/** Generous: catch-up waits for ioredis to reconnect (backoff up to 500 ms) on a shared machine. */
const healTimeoutMs = 15_000;

let redis: RedisServer;
let toxiproxy: ToxiproxyServer;
let nodeA: RunningServer;
let nodeB: RunningServer;
let cutB: (cut: boolean) => Promise<void>;
const clients: ChatClient[] = [];

async function startNode(nodeId: string, url: string): Promise<RunningServer> {
  return startServer({
    port: 0,
    store: new RedisStore({ url, prefix }),
    bus: new RedisBus({ url, prefix, presenceTtlMs }),
    secret,
    nodeId,
    closeTimeoutMs: 1000,
    log: () => {},
  });
}

async function session(node: { wsUrl: string }, user: string): Promise<ChatClient> {
  const client = await ChatClient.connect(node.wsUrl, user);
  clients.push(client);
  await client.hello(await mintTestToken(secret, user));
  return client;
}

async function createGroup(id: string, members: string[]): Promise<void> {
  const admin = await mintTestToken(secret, 'admin', { admin: true });
  await new HttpApi(nodeA.url).mustCreateConversation(admin, { id, kind: 'group', members });
}

async function readyStatus(node: { url: string }): Promise<number> {
  return (await fetch(`${node.url}/readyz`)).status;
}

beforeAll(async () => {
  redis = await RedisServer.start();
  toxiproxy = await startToxiproxyServer({ port: 0 });
  const proxy = await new Toxiproxy(toxiproxy.url).createProxy({
    name: 'redis-b',
    listen: '127.0.0.1:0',
    upstream: `127.0.0.1:${redis.port}`,
  });
  cutB = async (cut) => {
    await proxy.update({ enabled: !cut, listen: proxy.listen, upstream: proxy.upstream });
  };
  nodeA = await startNode('a', redis.url);
  nodeB = await startNode('b', `redis://${proxy.listen}`);
});

afterAll(async () => {
  for (const client of clients) client.terminate();
  await Promise.allSettled([nodeA?.close(), nodeB?.close()]);
  await toxiproxy?.close();
  await redis?.dispose();
});

describe('a fleet of nodes over Redis', () => {
  it('carries pushes, receipts, typing and presence between nodes', async () => {
    await createGroup('g1', ['alice', 'bob']);
    const carol = await session(nodeA, 'carol');
    carol.send({ t: 'watch', users: ['bob'] });
    expect(await carol.waitFor('presence')).toMatchObject({ user: 'bob', online: false });
    const alice = await session(nodeA, 'alice');
    const bob = await session(nodeB, 'bob');
    expect(await carol.waitFor('presence')).toMatchObject({ user: 'bob', online: true });

    const ack = await alice.mustSend('g1', 'm1', 'hello from a');
    expect(await bob.waitFor('msg', (m) => m.conv === 'g1')).toMatchObject({
      seq: ack.seq,
      from: 'alice',
      body: 'hello from a',
    });
    bob.send({ t: 'read', conv: 'g1', seq: ack.seq });
    expect(await alice.waitFor('receipt')).toMatchObject({ conv: 'g1', user: 'bob', kind: 'read', seq: 1 });
    bob.send({ t: 'typing', conv: 'g1', on: true });
    expect(await alice.waitFor('typing')).toMatchObject({ conv: 'g1', user: 'bob', on: true });

    await bob.close();
    expect(await carol.waitFor('presence')).toMatchObject({ user: 'bob', online: false });
  });

  it('a node cut from Redis answers unavailable, then catches up by itself when Redis is back', async () => {
    await createGroup('g2', ['alice', 'bob']);
    const alice = await session(nodeA, 'alice');
    const bob = await session(nodeB, 'bob');
    await alice.mustSend('g2', 'before', 'seq 1');
    await bob.waitFor('msg', (m) => m.conv === 'g2' && m.seq === 1);

    await cutB(true);
    await eventually(async () => expect(await readyStatus(nodeB)).toBe(503));
    expect(await bob.sendMessage('g2', 'during', 'from bob')).toMatchObject({
      t: 'err',
      code: 'unavailable',
    });
    // Meanwhile on node A: more messages, and a conversation node B never hears of on its bus.
    await alice.mustSend('g2', 'm2', 'seq 2');
    await alice.mustSend('g2', 'm3', 'seq 3');
    await createGroup('g3', ['alice', 'bob']);
    await alice.mustSend('g3', 'x1', 'new conversation');

    await cutB(false);
    // bob asks for nothing: node B's catch-up pushes what pub/sub dropped.
    for (const seq of [2, 3])
      expect(await bob.waitFor('msg', (m) => m.conv === 'g2' && m.seq === seq, healTimeoutMs)).toMatchObject({
        body: `seq ${seq}`,
      });
    expect(await bob.waitFor('msg', (m) => m.conv === 'g3', healTimeoutMs)).toMatchObject({
      seq: 1,
      body: 'new conversation',
    });
    await eventually(async () => expect(await readyStatus(nodeB)).toBe(200), 300);
    const retried = await bob.mustSend('g2', 'during', 'from bob');
    expect(retried.seq).toBe(4);
    expect(await alice.waitFor('msg', (m) => m.conv === 'g2' && m.seq === 4)).toMatchObject({ from: 'bob' });
  });

  it("a SIGKILLed node's users go offline for watchers on other nodes within the presence TTL", async () => {
    const child = await ChildServer.start({
      secret,
      extraArgs: [
        '--redis',
        redis.url,
        '--redis-prefix',
        prefix,
        '--redis-presence-ttl-ms',
        String(presenceTtlMs),
      ],
    });
    try {
      const watcher = await session(nodeA, 'walter');
      watcher.send({ t: 'watch', users: ['dave'] });
      expect(await watcher.waitFor('presence')).toMatchObject({ user: 'dave', online: false });
      const dave = await session(child, 'dave');
      expect(await watcher.waitFor('presence')).toMatchObject({ user: 'dave', online: true });
      await child.stop('SIGKILL');
      expect(await watcher.waitFor('presence', undefined, healTimeoutMs)).toMatchObject({
        user: 'dave',
        online: false,
      });
      dave.terminate();
    } finally {
      await child.stop('SIGKILL');
    }
  });

  it('a starting node misses nothing published between its records read and its subscription', async () => {
    // The bus starts once the records are read and loaded: held there, node C is in that window while node A
    // creates g5 and alice sends to it. Pub/sub drops both events for C, which reads every record again
    // once subscribed (ChatNode.start), so bob's welcome on C lists g5 and g5's messages reach him there.
    let loaded!: () => void;
    const inWindow = new Promise<void>((resolve) => {
      loaded = resolve;
    });
    let subscribe!: () => void;
    const mayStart = new Promise<void>((resolve) => {
      subscribe = resolve;
    });
    class HeldBus extends RedisBus {
      override async start(nodeId: string, feed: (input: Input) => void): Promise<void> {
        loaded();
        await mayStart;
        return super.start(nodeId, feed);
      }
    }
    const starting = startServer({
      port: 0,
      store: new RedisStore({ url: redis.url, prefix }),
      bus: new HeldBus({ url: redis.url, prefix, presenceTtlMs }),
      secret,
      nodeId: 'c',
      closeTimeoutMs: 1000,
      log: () => {},
    });
    await inWindow;
    await createGroup('g5', ['alice', 'bob']);
    const alice = await session(nodeA, 'alice');
    await alice.mustSend('g5', 'early', 'sent while c started');
    subscribe();
    const nodeC = await starting;
    try {
      const bob = await ChatClient.connect(nodeC.wsUrl, 'bob');
      clients.push(bob);
      const welcome = await bob.hello(await mintTestToken(secret, 'bob'));
      expect(welcome.convs.find((c) => c.conv === 'g5')).toMatchObject({ lastSeq: 1 });
      await alice.mustSend('g5', 'late', 'sent once c was up');
      expect(await bob.waitFor('msg', (m) => m.conv === 'g5', healTimeoutMs)).toMatchObject({
        seq: 2,
        body: 'sent once c was up',
      });
    } finally {
      await nodeC.close();
    }
  });

  it('Redis SIGKILLed: every node answers unavailable, loses nothing acked, and recovers from the AOF', async () => {
    await createGroup('g4', ['alice', 'bob']);
    const alice = await session(nodeA, 'alice');
    const bob = await session(nodeB, 'bob');
    await alice.mustSend('g4', 'm1', 'acked before the crash');
    await redis.kill();
    expect(await alice.sendMessage('g4', 'm2', 'while down')).toMatchObject({
      t: 'err',
      code: 'unavailable',
    });
    bob.send({ t: 'sync', conv: 'g4', after: 0 });
    expect(await bob.waitFor('err', (e) => e.ref === 'sync')).toMatchObject({ code: 'unavailable' });
    expect(await readyStatus(nodeA)).toBe(503);
    await redis.restart();
    await eventually(async () => expect(await readyStatus(nodeA)).toBe(200), 300);
    const ack = await alice.mustSend('g4', 'm2', 'while down');
    expect(ack.seq).toBe(2);
    expect(await bob.waitFor('msg', (m) => m.conv === 'g4' && m.seq === 2, healTimeoutMs)).toMatchObject({
      body: 'while down',
    });
    const batch = await bob.sync('g4', 0);
    expect(batch.msgs.map((m) => m.body)).toEqual(['acked before the crash', 'while down']);
  });
});

describe('serve --redis refuses a Redis that would not make acks durable', () => {
  it('exits 2 with one line, or starts with a warning under --redis-allow-unsafe', async () => {
    const lax = await RedisServer.start({ appendfsync: 'everysec' });
    try {
      const refused = ChildServer.start({ secret, extraArgs: ['--redis', lax.url] });
      await expect(refused).rejects.toThrow(/exited \(2\)[\s\S]*appendfsync everysec/);
      const unsafe = await ChildServer.start({
        secret,
        extraArgs: ['--redis', lax.url, '--redis-allow-unsafe'],
      });
      expect(unsafe.output()).toMatch(/acks are NOT durable/);
      await unsafe.stop('SIGTERM');
    } finally {
      await lax.dispose();
    }
  });
});
