// A WebSocket client handshake without Node's HTTP client, for the live generators: a connect ramp spent
// about half of a generator's CPU in the upgrade (http.request's ClientRequest, agent and header
// checks, an HTTP parser per socket, ws's initAsClient), docs/benchmarks.md. Here the request is one
// prebuilt write on a plain TCP socket, the answer is read up to its blank line and checked as ws
// checks it (status 101, `Upgrade: websocket`, the Sec-WebSocket-Accept of our key, no extension or
// subprotocol we did not ask for), and the socket is then handed to a `ws` WebSocket, which frames,
// masks, answers pings and closes exactly as a ws client does.
// Bound to ws 8's internals (the pinned version): a WebSocket made with a null address is a server's,
// so `_isServer` is turned off before `setSocket` (client frames are masked, server frames must not
// be), and `_req` holds the TCP socket while connecting, so `close()` and `terminate()` abort the
// handshake as they abort ws's own (an 'error', then 'close' with 1006). lean-upgrade.integration.test.ts
// holds it to that against the reference server and a server that refuses.

import { createHash, randomBytes } from 'node:crypto';
import { connect, type Socket } from 'node:net';
import { WebSocket } from 'ws';

const acceptGuid = '258EAFA5-E914-47DA-95CA-C5AB0DC85B11';
/** ws's client default: the generator took it before (a frame larger than this is an error). */
const maxPayload = 100 * 1024 * 1024;
/** An answer to the upgrade longer than this, without its blank line, is not one. */
const responseHeadBytesMax = 16 * 1024;

type Internals = {
  _isServer: boolean;
  _req: Socket | null;
  setSocket(socket: Socket, head: Buffer, options: { maxPayload: number }): void;
};

/** Where `ws://host:port/path` points, or null for what this client does not do (wss, user info). */
export function plainTarget(url: string): { host: string; port: number; path: string } | null {
  const match = /^ws:\/\/([^/:@?#]+|\[[^\]]+\])(?::(\d+))?(\/[^#]*)?$/.exec(url);
  if (match === null) return null;
  return { host: match[1]!, port: match[2] === undefined ? 80 : Number(match[2]), path: match[3] ?? '/' };
}

/**
 * A client WebSocket to `url` (ws:// only; see plainTarget), CONNECTING until the server's 101, then
 * a ws WebSocket in every respect. `keyPrefix` (12 random bytes per generator) and `serial` make each
 * Sec-WebSocket-Key unique without drawing 16 random bytes per connect.
 */
export function leanWebSocket(url: string, keyPrefix: Buffer, serial: number): WebSocket {
  const target = plainTarget(url);
  if (target === null) throw new Error(`leanWebSocket: not a ws:// URL this client speaks: ${url}`);
  const ws = new WebSocket(null as never, undefined, { autoPong: true });
  const internals = ws as unknown as Internals;
  internals._isServer = false;
  const keyBytes = Buffer.allocUnsafe(16);
  keyPrefix.copy(keyBytes, 0, 0, 12);
  keyBytes.writeUInt32BE(serial >>> 0, 12);
  const key = keyBytes.toString('base64');
  const socket = connect({ host: target.host.replace(/^\[|\]$/g, ''), port: target.port });
  internals._req = socket;
  socket.write(
    `GET ${target.path} HTTP/1.1\r\nHost: ${target.host}:${target.port}\r\nConnection: Upgrade\r\nUpgrade: websocket\r\nSec-WebSocket-Version: 13\r\nSec-WebSocket-Key: ${key}\r\n\r\n`,
    'latin1',
  );
  let head: Buffer | null = null;
  const fail = (message: string): void => {
    socket.removeListener('data', onData);
    internals._req = null;
    // What ws does with a handshake it refuses: destroy the stream with the error, then 'error' and 'close' (1006).
    (ws as unknown as { _readyState: number })._readyState = WebSocket.CLOSING;
    socket.destroy(new Error(message));
    socket.once('error', (error) => ws.emit('error', error));
    socket.once('close', () => (ws as unknown as { emitClose(): void }).emitClose());
  };
  const onData = (chunk: Buffer): void => {
    head = head === null ? chunk : Buffer.concat([head, chunk]);
    const end = head.indexOf('\r\n\r\n');
    if (end === -1) {
      if (head.length > responseHeadBytesMax) fail('Invalid upgrade response: no end of headers');
      return;
    }
    const problem = upgradeProblem(head.toString('latin1', 0, end), key);
    if (problem !== null) return fail(problem);
    socket.removeListener('data', onData);
    socket.removeListener('error', onEarlyError);
    socket.removeListener('close', onEarlyClose);
    internals._req = null;
    internals.setSocket(socket, head.subarray(end + 4), { maxPayload });
  };
  // Before the 101: a refused or reset connection is ws's 'error' then 'close' (1006).
  // (close() and terminate() while connecting go through ws's abortHandshake, which says so itself.)
  const connecting = (): boolean => internals._req === socket && ws.readyState === WebSocket.CONNECTING;
  const onEarlyError = (error: Error): void => {
    if (connecting()) ws.emit('error', error);
  };
  const onEarlyClose = (): void => {
    if (!connecting()) return;
    internals._req = null;
    (ws as unknown as { emitClose(): void }).emitClose();
  };
  socket.on('data', onData);
  socket.on('error', onEarlyError);
  socket.on('close', onEarlyClose);
  return ws;
}

/** What is wrong with the server's answer to the upgrade (ws's own checks), or null. */
export function upgradeProblem(head: string, key: string): string | null {
  const lines = head.split('\r\n');
  const status = /^HTTP\/1\.1 (\d{3})/.exec(lines[0] ?? '');
  if (status === null) return `Invalid upgrade response: ${JSON.stringify((lines[0] ?? '').slice(0, 80))}`;
  if (status[1] !== '101') return `Unexpected server response: ${status[1]}`;
  const headers = new Map<string, string>();
  for (const line of lines.slice(1)) {
    const colon = line.indexOf(':');
    if (colon > 0) headers.set(line.slice(0, colon).trim().toLowerCase(), line.slice(colon + 1).trim());
  }
  if (headers.get('upgrade')?.toLowerCase() !== 'websocket') return 'Invalid Upgrade header';
  const accept = createHash('sha1')
    .update(key + acceptGuid)
    .digest('base64');
  if (headers.get('sec-websocket-accept') !== accept) return 'Invalid Sec-WebSocket-Accept header';
  if (headers.has('sec-websocket-protocol')) return 'Server sent a subprotocol but none was requested';
  if (headers.has('sec-websocket-extensions'))
    return 'Server sent a Sec-WebSocket-Extensions header but no extension was requested';
  return null;
}

/** 12 random bytes a generator draws once: the start of every Sec-WebSocket-Key it sends. */
export function upgradeKeyPrefix(): Buffer {
  return randomBytes(12);
}
