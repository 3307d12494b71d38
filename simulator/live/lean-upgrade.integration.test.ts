// The generators' lean handshake behaves as a ws client does, against a real ws server on a free port:
// masked frames both ways, pings answered, the server's close code; and when there is no WebSocket
// (a refused port, a 503, a wrong Sec-WebSocket-Accept, a server that never answers and is given up)
// one 'close' with 1006 after an 'error', never an 'open'.

import { once } from 'node:events';
import { createServer as createHttpServer, type Server } from 'node:http';
import { type AddressInfo, createServer as createTcpServer, type Socket } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type WebSocket, WebSocketServer } from 'ws';
import { leanWebSocket, plainTarget, upgradeKeyPrefix } from './lean-upgrade.ts';

const prefix = upgradeKeyPrefix();
let serial = 0;
const open = (url: string): WebSocket => leanWebSocket(url, prefix, ++serial);

/** Everything a socket reported, in order: 'open', 'error: …', 'message: …', 'close: code'. */
function record(ws: WebSocket): { seen: string[]; closed: Promise<void> } {
  const seen: string[] = [];
  ws.on('open', () => seen.push('open'));
  ws.on('error', (error: Error) => seen.push(`error: ${error.message}`));
  ws.on('message', (data: Buffer) => seen.push(`message: ${data.toString()}`));
  const closed = new Promise<void>((resolve) =>
    ws.on('close', (code: number) => {
      seen.push(`close: ${code}`);
      resolve();
    }),
  );
  return { seen, closed };
}

const portOf = (server: { address(): AddressInfo | string | null }) => (server.address() as AddressInfo).port;

describe('leanWebSocket against a ws server', () => {
  let wss: WebSocketServer;
  beforeAll(async () => {
    wss = new WebSocketServer({ host: '127.0.0.1', port: 0 });
    await once(wss, 'listening');
  });
  afterAll(() => new Promise<void>((resolve) => wss.close(() => resolve())));

  it('opens, exchanges masked frames, answers pings, and reports the close code the server sent', async () => {
    const served = once(wss, 'connection');
    const ws = open(`ws://127.0.0.1:${portOf(wss)}/v1/ws`);
    const { seen, closed } = record(ws);
    const [server, request] = (await served) as [WebSocket, { url: string; headers: Record<string, string> }];
    expect(request.url).toBe('/v1/ws');
    expect(request.headers.host).toBe(`127.0.0.1:${portOf(wss)}`);
    await new Promise((resolve) => (ws.readyState === ws.OPEN ? resolve(null) : ws.once('open', resolve)));
    // A ws server closes with 1002 on an unmasked client frame: this arriving proves the masking.
    const got = once(server, 'message');
    ws.send('{"t":"hello"}');
    expect(String((await got)[0])).toBe('{"t":"hello"}');
    const pong = once(server, 'pong');
    server.ping('beat');
    expect(String((await pong)[0])).toBe('beat');
    server.send('{"t":"welcome"}');
    await new Promise((resolve) => ws.once('message', resolve));
    server.close(4001, 'bye');
    await closed;
    expect(seen).toEqual(['open', 'message: {"t":"welcome"}', 'close: 4001']);
  });

  it('closes cleanly from the client side', async () => {
    const served = once(wss, 'connection');
    const ws = open(`ws://127.0.0.1:${portOf(wss)}/v1/ws`);
    const { seen, closed } = record(ws);
    const [server] = (await served) as [WebSocket];
    const serverClosed = once(server, 'close');
    await new Promise((resolve) => (ws.readyState === ws.OPEN ? resolve(null) : ws.once('open', resolve)));
    ws.close(1000);
    expect((await serverClosed)[0]).toBe(1000);
    await closed;
    expect(seen).toEqual(['open', 'close: 1000']);
  });
});

describe('leanWebSocket and a server that frames at once', () => {
  it('reads a frame that came in the same packet as the 101', async () => {
    const { createHash } = await import('node:crypto');
    const server = createTcpServer((socket) => {
      let request = '';
      socket.on('data', (chunk: Buffer) => {
        request += chunk.toString('latin1');
        if (!request.includes('\r\n\r\n')) return;
        const key = /Sec-WebSocket-Key: (\S+)/i.exec(request)![1]!;
        const accept = createHash('sha1')
          .update(`${key}258EAFA5-E914-47DA-95CA-C5AB0DC85B11`)
          .digest('base64');
        const payload = Buffer.from('{"t":"early"}');
        socket.write(
          Buffer.concat([
            Buffer.from(
              `HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: ${accept}\r\n\r\n`,
            ),
            Buffer.from([0x81, payload.length]),
            payload,
          ]),
        );
      });
    });
    server.listen(0, '127.0.0.1');
    await once(server, 'listening');
    const ws = open(`ws://127.0.0.1:${portOf(server)}/v1/ws`);
    const { seen } = record(ws);
    await new Promise((resolve) => ws.once('message', resolve));
    expect(seen).toEqual(['open', 'message: {"t":"early"}']);
    ws.terminate();
    server.close();
  });
});

describe('leanWebSocket when there is no WebSocket', () => {
  let http: Server;
  let silent: ReturnType<typeof createTcpServer>;
  const held: Socket[] = [];
  beforeAll(async () => {
    // 503 to every upgrade, or a 101 with the wrong accept, by path.
    http = createHttpServer((_req, res) => res.writeHead(503).end());
    http.on('upgrade', (req, socket: Socket) => {
      if (req.url === '/wrong-accept')
        socket.end(
          'HTTP/1.1 101 Switching Protocols\r\nUpgrade: websocket\r\nConnection: Upgrade\r\nSec-WebSocket-Accept: AAAA\r\n\r\n',
        );
      else socket.end('HTTP/1.1 503 Service Unavailable\r\nContent-Length: 0\r\n\r\n');
    });
    http.listen(0, '127.0.0.1');
    await once(http, 'listening');
    silent = createTcpServer((socket) => held.push(socket));
    silent.listen(0, '127.0.0.1');
    await once(silent, 'listening');
  });
  afterAll(async () => {
    for (const socket of held) socket.destroy();
    http.close();
    silent.close();
  });

  it('a refused port: an error, then close 1006', async () => {
    const closedPort = createTcpServer();
    closedPort.listen(0, '127.0.0.1');
    await once(closedPort, 'listening');
    const port = portOf(closedPort);
    closedPort.close();
    await once(closedPort, 'close');
    const { seen, closed } = record(open(`ws://127.0.0.1:${port}/v1/ws`));
    await closed;
    expect(seen).toEqual([expect.stringMatching(/^error: connect ECONNREFUSED/), 'close: 1006']);
  });

  it.each([
    ['/v1/ws', /Unexpected server response: 503/],
    ['/wrong-accept', /Invalid Sec-WebSocket-Accept header/],
  ])('a server answering %s without a valid 101: an error, then close 1006', async (path, message) => {
    const { seen, closed } = record(open(`ws://127.0.0.1:${portOf(http)}${path}`));
    await closed;
    expect(seen).toEqual([expect.stringMatching(message), 'close: 1006']);
  });

  it('given up while the server has not answered (terminate, or close): one close 1006, no open', async () => {
    for (const end of ['terminate', 'close'] as const) {
      const accepted = once(silent, 'connection');
      const ws = open(`ws://127.0.0.1:${portOf(silent)}/v1/ws`);
      const { seen, closed } = record(ws);
      await accepted;
      ws[end]();
      await closed;
      await new Promise((resolve) => setTimeout(resolve, 20));
      expect(seen.filter((s) => s.startsWith('close'))).toEqual(['close: 1006']);
      expect(seen).not.toContain('open');
    }
  });
});

describe('plainTarget', () => {
  it('takes ws:// URLs with a host, a port and a path, and nothing else', () => {
    expect(plainTarget('ws://127.0.0.3:8080/v1/ws')).toEqual({
      host: '127.0.0.3',
      port: 8080,
      path: '/v1/ws',
    });
    expect(plainTarget('ws://[::1]:9/v1/ws')).toEqual({ host: '[::1]', port: 9, path: '/v1/ws' });
    expect(plainTarget('ws://example.org')).toEqual({ host: 'example.org', port: 80, path: '/' });
    expect(plainTarget('wss://example.org/v1/ws')).toBeNull();
    expect(plainTarget('ws://user:pw@example.org/v1/ws')).toBeNull();
  });
});
