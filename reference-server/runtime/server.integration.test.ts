import { connect, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import WebSocket from 'ws';
import { ChatClient } from '../../test-support/chat-client.ts';
import { MemoryStore } from '../store/memory-store.ts';
import type { MessageStore } from '../store/message-store.ts';
import { StoreUnavailableError } from '../store/message-store.ts';
import { mintToken } from './auth.ts';
import { type RunningServer, startServer } from './server.ts';

const secret = 'runtime-integration-secret-0123456789';

/** A MemoryStore that fails every call while `failing` is set. */
class FlakyStore extends MemoryStore {
  failing = false;
  override async append(...args: Parameters<MemoryStore['append']>) {
    if (this.failing) throw new StoreUnavailableError('flaky store is down');
    return super.append(...args);
  }
  override async ping() {
    if (this.failing) throw new StoreUnavailableError('flaky store is down');
    return super.ping();
  }
}

async function post(url: string, token: string | null, body: string) {
  const headers: Record<string, string> = { 'content-type': 'application/json' };
  if (token !== null) headers.authorization = `Bearer ${token}`;
  const response = await fetch(url, { method: 'POST', headers, body });
  return { status: response.status, body: (await response.json()) as Record<string, unknown> };
}

/** Opens a WebSocket with a hand-written handshake and never answers anything, recording what arrives. */
function rawPeer(port: number): Promise<{ socket: Socket; received: () => Buffer; ended: Promise<void> }> {
  return new Promise((resolve, reject) => {
    const socket = connect(port, '127.0.0.1');
    const chunks: Buffer[] = [];
    const ended = new Promise<void>((done) => socket.once('close', () => done()));
    socket.on('data', (chunk) => {
      chunks.push(chunk);
      const text = Buffer.concat(chunks).toString('latin1');
      if (text.includes('\r\n\r\n') && chunks.length === 1) {
        if (!text.startsWith('HTTP/1.1 101')) reject(new Error(`handshake refused: ${text}`));
        else resolve({ socket, received: () => Buffer.concat(chunks), ended });
      }
    });
    socket.on('error', () => {});
    socket.write(
      'GET /v1/ws HTTP/1.1\r\nHost: 127.0.0.1\r\nUpgrade: websocket\r\nConnection: Upgrade\r\n' +
        'Sec-WebSocket-Key: dGhlIHNhbXBsZSBub25jZQ==\r\nSec-WebSocket-Version: 13\r\n\r\n',
    );
  });
}

/** The status code of the first close frame after the handshake, if any. */
function closeCodeIn(received: Buffer): number | undefined {
  const start = received.indexOf('\r\n\r\n') + 4;
  for (let i = start; i + 1 < received.length; ) {
    const opcode = received[i]! & 0x0f;
    const length = received[i + 1]! & 0x7f;
    if (opcode === 0x8) return received.readUInt16BE(i + 2);
    i += 2 + length;
  }
  return undefined;
}

function upgradeStatus(url: string): Promise<number> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(url);
    ws.on('unexpected-response', (_req, res) => {
      resolve(res.statusCode ?? 0);
      ws.terminate();
    });
    ws.on('open', () => {
      ws.terminate();
      reject(new Error('the upgrade was accepted'));
    });
    ws.on('error', () => {});
  });
}

describe('startServer', () => {
  let server: RunningServer;
  let store: FlakyStore;
  const logs: string[] = [];
  const clients: ChatClient[] = [];

  async function session(user: string): Promise<ChatClient> {
    const client = await ChatClient.connect(server.wsUrl, user);
    clients.push(client);
    await client.hello(await mintToken(secret, { sub: user }));
    return client;
  }

  beforeAll(async () => {
    store = new FlakyStore();
    server = await startServer({
      port: 0,
      store,
      secret,
      nodeId: 'it-node',
      limits: { helloTimeoutMs: 300, heartbeatMs: 100 },
      closeTimeoutMs: 300,
      log: (line) => logs.push(line),
    });
  });

  afterAll(async () => {
    for (const client of clients) client.terminate();
    await server.close();
  });

  it('answers the probes and 404s unknown paths outside /v1/', async () => {
    expect(server.url).toBe(`http://127.0.0.1:${server.port}`);
    expect(server.wsUrl).toBe(`ws://127.0.0.1:${server.port}/v1/ws`);
    const health = await fetch(`${server.url}/healthz`);
    expect([health.status, await health.json()]).toEqual([200, { status: 'ok' }]);
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    const metrics = await fetch(`${server.url}/metrics`);
    expect(metrics.headers.get('content-type')).toMatch(/^text\/plain/);
    expect(await metrics.text()).toContain('# TYPE chatsim_connections gauge');
    const missing = await fetch(`${server.url}/nope`);
    expect(missing.status).toBe(404);
    expect(await missing.json()).toMatchObject({ code: 'not_found' });
  });

  it('accepts WebSockets only at /v1/ws', async () => {
    expect(await upgradeStatus(`ws://127.0.0.1:${server.port}/elsewhere`)).toBe(404);
  });

  it('runs a hello through token verification to welcome', async () => {
    const client = await ChatClient.connect(server.wsUrl, 'alice');
    clients.push(client);
    const welcome = await client.hello(await mintToken(secret, { sub: 'alice' }));
    expect(welcome).toMatchObject({ t: 'welcome', user: 'alice', node: 'it-node', heartbeatMs: 100 });
    const text = await (await fetch(`${server.url}/metrics`)).text();
    expect(text).toMatch(/^chatsim_frames_in_total\{type="hello"\} [1-9]/m);
  });

  it('closes 4401 on a token signed with another secret', async () => {
    const client = await ChatClient.connect(server.wsUrl, 'mallory');
    clients.push(client);
    client.send({ t: 'hello', token: await mintToken('some-other-secret-entirely', { sub: 'mallory' }) });
    expect((await client.waitClosed()).code).toBe(4401);
  });

  it('hands /v1/ requests to the core with their principal and body', async () => {
    const admin = await mintToken(secret, { sub: 'root', admin: true });
    const url = `${server.url}/v1/admin/conversations`;
    const spec = JSON.stringify({ id: 'it-conv', kind: 'group', members: ['alice', 'bob'] });
    expect((await post(url, admin, spec)).status).toBe(201);
    expect((await post(url, admin, spec)).status).toBe(200);
    expect(await post(url, null, spec)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await post(url, 'garbage', spec)).toMatchObject({ status: 401, body: { code: 'unauthorized' } });
    expect(await post(url, admin, '{"id":')).toMatchObject({ status: 400, body: { code: 'bad_request' } });
    const big = JSON.stringify({ id: 'x', kind: 'group', members: ['a'], pad: 'p'.repeat(70 * 1024) });
    expect(await post(url, admin, big)).toMatchObject({ status: 413, body: { code: 'too_large' } });
    const read = await fetch(`${server.url}/v1/conversations/it-conv/messages?after=0&limit=5`, {
      headers: { authorization: `Bearer ${await mintToken(secret, { sub: 'bob' })}` },
    });
    expect(read.status).toBe(200);
    expect(await read.json()).toMatchObject({ messages: [], lastSeq: 0 });
  });

  it('maps a failing store to unavailable and recovers', async () => {
    const admin = await mintToken(secret, { sub: 'root', admin: true });
    const spec = JSON.stringify({ id: 'flaky-conv', kind: 'group', members: ['carol'] });
    expect((await post(`${server.url}/v1/admin/conversations`, admin, spec)).status).toBe(201);
    const carol = await session('carol');
    store.failing = true;
    expect(await carol.sendMessage('flaky-conv', 'm1', 'hello')).toMatchObject({
      t: 'err',
      code: 'unavailable',
    });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(503);
    store.failing = false;
    expect(await carol.sendMessage('flaky-conv', 'm1', 'hello')).toMatchObject({ t: 'ack', seq: 1 });
    expect((await fetch(`${server.url}/readyz`)).status).toBe(200);
    expect(logs.filter((line) => line.startsWith('store unavailable'))).toHaveLength(1);
    expect(logs).toContain('store available again after 1 failed operation(s)');
  });

  it('keeps a client that answers pings and terminates one that does not', async () => {
    const ponging = await session('dave');
    let pings = 0;
    const fivePings = new Promise<void>((resolve) => {
      ponging.ws.on('ping', () => {
        if (++pings === 5) resolve();
      });
    });
    const silent = new WebSocket(server.wsUrl, { autoPong: false });
    const silentClosed = new Promise<number>((resolve) => silent.on('close', (code) => resolve(code)));
    silent.on('open', async () =>
      silent.send(JSON.stringify({ t: 'hello', token: await mintToken(secret, { sub: 'eve' }) })),
    );
    expect(await silentClosed).toBe(1006);
    await fivePings;
    expect(ponging.isOpen).toBe(true);
  });

  it('closes 1009 on a frame over 64 KiB', async () => {
    const client = await session('frank');
    client.sendRaw(JSON.stringify({ t: 'sync', conv: 'x'.repeat(70 * 1024), after: 0 }));
    expect((await client.waitClosed()).code).toBe(1009);
  });
});

describe('closing', () => {
  // ws's own close timeout is 30 s; these tests give up long before, so they fail if ours is ignored.
  const closeTestTimeoutMs = 15_000;

  it('destroys a socket whose peer never answers our close frame', {
    timeout: closeTestTimeoutMs,
  }, async () => {
    const server = await startServer({
      port: 0,
      store: new MemoryStore(),
      secret,
      closeTimeoutMs: 200,
      limits: { helloTimeoutMs: 100 },
    });
    const peer = await rawPeer(server.port);
    // No hello: the core closes 4408 after helloTimeoutMs, the peer stays silent, the server gives up.
    await peer.ended;
    expect(closeCodeIn(peer.received())).toBe(4408);
    await server.close();
  });

  it('answers an oversized frame header with 1009 and ends the socket', {
    timeout: closeTestTimeoutMs,
  }, async () => {
    const server = await startServer({ port: 0, store: new MemoryStore(), secret, closeTimeoutMs: 200 });
    const peer = await rawPeer(server.port);
    // Only the header of a masked 70 000-byte text frame: ws refuses it on the length alone.
    const header = Buffer.alloc(14);
    header[0] = 0x81;
    header[1] = 0x80 | 127;
    header.writeBigUInt64BE(70_000n, 2);
    peer.socket.write(header);
    await peer.ended;
    expect(closeCodeIn(peer.received())).toBe(1009);
    await server.close();
  });

  it('sends drain then closes 1012, refuses newcomers meanwhile, then stops', {
    timeout: closeTestTimeoutMs,
  }, async () => {
    const store: MessageStore = new MemoryStore();
    const server = await startServer({
      port: 0,
      store,
      secret,
      closeTimeoutMs: 1000,
      // Far past the test's timeout: the silent peer must go by closeTimeoutMs, not by the drain deadline.
      limits: { drainReconnectMs: 250, drainTimeoutMs: 60_000 },
    });
    const client = await ChatClient.connect(server.wsUrl, 'gina');
    await client.hello(await mintToken(secret, { sub: 'gina' }));
    // A peer that ignores our close frame holds the drain open for closeTimeoutMs.
    const peer = await rawPeer(server.port);

    const drained = server.drain();
    expect(await client.next((frame) => frame.t === 'drain')).toEqual({ t: 'drain', reconnectInMs: 250 });
    expect((await client.waitClosed()).code).toBe(1012);
    const ready = await fetch(`${server.url}/readyz`);
    expect([ready.status, await ready.json()]).toEqual([503, { status: 'draining' }]);
    expect(await upgradeStatus(server.wsUrl)).toBe(503);

    await drained;
    await peer.ended;
    expect(closeCodeIn(peer.received())).toBe(1012);
    await expect(store.ping()).rejects.toThrow(StoreUnavailableError);
    await expect(fetch(`${server.url}/healthz`)).rejects.toThrow();
  });

  it('close() stops hard: clients see 1006 and the store is closed', async () => {
    const store = new MemoryStore();
    const server = await startServer({ port: 0, store, secret });
    const client = await ChatClient.connect(server.wsUrl, 'hal');
    await client.hello(await mintToken(secret, { sub: 'hal' }));
    await server.close();
    expect((await client.waitClosed()).code).toBe(1006);
    await expect(store.ping()).rejects.toThrow(StoreUnavailableError);
  });
});
