// The WebSocket side of the live server: accepts upgrades at /v1/ws, turns socket events into core
// inputs and carries out `send` and `close`. Invariants: every connection gets one `open` and exactly
// one `gone`; a peer that leaves pings or our close frame unanswered is destroyed, never kept forever.
// Frames to one socket within one turn of the event loop leave in one write: the first send corks the
// socket and the loop's check phase (setImmediate) uncorks it. Each frame written on its own was one
// writev system call, 40% of a node's CPU in a 600-client large-group run (a 100-member group's
// receipts are 100 frames to each member at once), docs/benchmarks.md.

import type { IncomingMessage, Server } from 'node:http';
import { STATUS_CODES } from 'node:http';
import type { Duplex } from 'node:stream';
import { type ServerOptions, type WebSocket, WebSocketServer } from 'ws';
import type { ConnId, Input } from '../core/inputs.ts';
import type { ServerFrame } from '../protocol/frames.ts';
import { protocolLimits } from '../protocol/limits.ts';
import { runtimeLimits } from './limits.ts';

export const wsPath = '/v1/ws';

export type WsTransportOptions = {
  feed: (input: Input) => void;
  heartbeatMs: number;
  sendBufferBytesMax: number;
  closeTimeoutMs: number;
};

type Connection = {
  ws: WebSocket;
  socket: Duplex;
  pingsUnanswered: number;
  gone: boolean;
  /** Frames were written to it in this turn of the loop: corked until `flush`. */
  corked: boolean;
};

export class WsTransport {
  private readonly wss: WebSocketServer;
  private readonly conns = new Map<ConnId, Connection>();
  private readonly heartbeat: NodeJS.Timeout;
  private nextConnId = 1;
  private accepting = true;
  /** Connections corked in this turn of the loop, uncorked together by `flush`. */
  private corked: [ConnId, Connection][] = [];
  private flushScheduled = false;

  constructor(private readonly options: WsTransportOptions) {
    // ws (>= 8.23) destroys the socket when the peer leaves a close frame unanswered for
    // `closeTimeout`, whoever sent it: our close effects and ws's own (1009, 1007) alike.
    // @types/ws does not declare the option yet.
    const serverOptions: ServerOptions & { closeTimeout: number } = {
      noServer: true,
      perMessageDeflate: false,
      maxPayload: protocolLimits.frameBytesMax,
      clientTracking: false,
      closeTimeout: options.closeTimeoutMs,
    };
    this.wss = new WebSocketServer(serverOptions);
    // Beats run after the loop has read the pongs already waiting (see wake-timer.ts): a node whose
    // loop was blocked does not count a pong that came in time as missing.
    this.heartbeat = setInterval(() => setImmediate(() => this.beat()), options.heartbeatMs);
  }

  /** Routes the HTTP server's `upgrade` events. */
  attach(server: Server): void {
    server.on('upgrade', (req: IncomingMessage, socket: Duplex, head: Buffer) =>
      this.upgrade(req, socket, head),
    );
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  /** New upgrades get 503 from now on (draining). */
  stopAccepting(): void {
    this.accepting = false;
  }

  send(to: readonly ConnId[], frame: ServerFrame): void {
    // Serialized and encoded once however many recipients: ws writes the same buffer to each socket.
    const payload = Buffer.from(JSON.stringify(frame));
    for (const id of to) {
      const conn = this.conns.get(id);
      if (conn === undefined || conn.ws.readyState !== conn.ws.OPEN) continue;
      if (!conn.corked) {
        conn.corked = true;
        conn.socket.cork();
        this.corked.push([id, conn]);
      }
      conn.ws.send(payload, { binary: false });
    }
    if (this.corked.length > 0 && !this.flushScheduled) {
      this.flushScheduled = true;
      setImmediate(this.flush);
    }
  }

  /**
   * Writes what this turn's sends corked, one write per socket, then judges each socket's buffer: what
   * the kernel did not take is what the peer has not read (judged before the uncork, the corked frames
   * of a busy turn would count against a consumer that reads fine).
   */
  private readonly flush = (): void => {
    this.flushScheduled = false;
    const corked = this.corked;
    this.corked = [];
    for (const [, conn] of corked) {
      conn.corked = false;
      conn.socket.uncork();
    }
    for (const [id, conn] of corked) {
      if (conn.gone || conn.ws.readyState !== conn.ws.OPEN) continue;
      const bufferedBytes = conn.ws.bufferedAmount;
      if (bufferedBytes > this.options.sendBufferBytesMax)
        this.options.feed({ type: 'backpressure', conn: id, bufferedBytes });
    }
  };

  close(id: ConnId, code: number, reason: string): void {
    const conn = this.conns.get(id);
    if (conn === undefined) return;
    if (conn.ws.readyState === conn.ws.OPEN) conn.ws.close(code, closeReason(reason));
  }

  /** Destroys every socket at once (hard stop, or a drain that ran out of time). */
  terminateAll(): void {
    // Frames sent before the stop are handed to the kernel first, as they were before corking.
    this.flush();
    for (const conn of this.conns.values()) conn.ws.terminate();
  }

  /** Stops the heartbeat and destroys what is left; `gone` inputs still follow for each socket. */
  shutdown(): void {
    clearInterval(this.heartbeat);
    this.accepting = false;
    this.terminateAll();
    this.wss.close();
  }

  private upgrade(req: IncomingMessage, socket: Duplex, head: Buffer): void {
    const path = (req.url ?? '').split('?', 1)[0];
    if (path !== wsPath) return refuse(socket, 404, `no WebSocket endpoint here; use ${wsPath}`);
    if (!this.accepting) return refuse(socket, 503, 'the node is draining; connect to another node');
    if (this.conns.size >= runtimeLimits.connectionsMax)
      return refuse(socket, 503, 'the node is at its connection limit; connect to another node');
    this.wss.handleUpgrade(req, socket, head, (ws) => this.accept(ws, socket));
  }

  private accept(ws: WebSocket, socket: Duplex): void {
    const id = this.nextConnId++;
    const conn: Connection = { ws, socket, pingsUnanswered: 0, gone: false, corked: false };
    this.conns.set(id, conn);
    const { feed } = this.options;
    ws.on('message', (data: Buffer, isBinary: boolean) => {
      if (conn.gone) return;
      if (isBinary) feed({ type: 'binary', conn: id });
      else feed({ type: 'text', conn: id, text: data.toString('utf8') });
    });
    ws.on('pong', () => {
      conn.pingsUnanswered = 0;
    });
    // ws emits `close` after `error` as well; `gone` is fed at the first of them.
    ws.on('error', () => this.gone(id, conn));
    ws.on('close', () => {
      this.conns.delete(id);
      this.gone(id, conn);
    });
    feed({ type: 'open', conn: id });
  }

  private gone(id: ConnId, conn: Connection): void {
    if (conn.gone) return;
    conn.gone = true;
    this.options.feed({ type: 'gone', conn: id });
  }

  /** One timer for all connections: ping each, and destroy those that left too many pings unanswered. */
  private beat(): void {
    for (const conn of this.conns.values()) {
      const { ws } = conn;
      if (ws.readyState !== ws.OPEN) continue;
      if (conn.pingsUnanswered >= runtimeLimits.pingsUnansweredMax) {
        ws.terminate();
        continue;
      }
      conn.pingsUnanswered++;
      ws.ping();
    }
  }
}

/** Close reasons are limited to 123 bytes on the wire; cut at a character boundary. */
function closeReason(reason: string): string {
  let cut = reason;
  while (Buffer.byteLength(cut) > runtimeLimits.closeReasonBytesMax) cut = cut.slice(0, -1);
  return cut;
}

function refuse(socket: Duplex, status: number, message: string): void {
  const body = JSON.stringify({ code: status === 404 ? 'not_found' : 'unavailable', message });
  socket.once('error', () => socket.destroy());
  socket.once('finish', () => socket.destroy());
  socket.end(
    `HTTP/1.1 ${status} ${STATUS_CODES[status]}\r\nConnection: close\r\nContent-Type: application/json\r\n` +
      `Content-Length: ${Buffer.byteLength(body)}\r\n\r\n${body}`,
  );
}
