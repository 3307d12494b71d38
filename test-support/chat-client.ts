// A promise-based WebSocket client for conformance tests. It records every frame the server sends, so
// a test waits for what it expects in any order, and a wait that times out says what did arrive.
// Frames are consumed at most once: two waits never return the same frame.
// Why this is not a driver over the sans-I/O VirtualClient: a conformance test judges the server's
// raw behaviour, frame by frame, which the virtual client exists to smooth over (it drops duplicate
// pushes, reorders, pulls gaps, retries, reconnects); and the suite must send frames no correct client
// sends (`send` and `sendRaw`: malformed, oversized, out of order). So it stays a raw probe, with the
// client's own encoder and decoder (simulator/client/wire.ts) for every well-formed frame it builds.

import WebSocket from 'ws';
import type {
  AckFrame,
  BatchFrame,
  ErrFrame,
  ServerFrame,
  WelcomeFrame,
} from '../reference-server/protocol/frames.ts';
import { clientFrame, decodeServerFrame } from '../simulator/client/wire.ts';
import { testLimits } from './limits.ts';

export type Closed = { code: number; reason: string };
export type FramePredicate = (frame: ServerFrame) => boolean;
type FrameOf<T extends ServerFrame['t']> = Extract<ServerFrame, { t: T }>;

type Waiter = { predicate: FramePredicate; resolve: (frame: ServerFrame) => void };

export class ChatClient {
  /** Every frame received, in arrival order. */
  readonly frames: ServerFrame[] = [];
  /** Frames that were not one JSON object with a string `t` (a protocol violation by the server). */
  readonly malformed: string[] = [];
  readonly closed: Promise<Closed>;
  private readonly consumed = new Set<number>();
  private readonly waiters = new Set<Waiter>();
  private closedValue: Closed | null = null;
  private barrierCount = 0;

  private constructor(
    readonly ws: WebSocket,
    readonly label: string,
  ) {
    this.closed = new Promise((resolve) => {
      ws.on('close', (code, reason) => {
        this.closedValue = { code, reason: reason.toString() };
        resolve(this.closedValue);
      });
    });
    ws.on('error', () => {
      // A refused or reset socket ends in 'close' too; the test asserts on `closed`.
    });
    ws.on('message', (data, isBinary) => this.receive(isBinary ? '<binary>' : data.toString()));
  }

  /** Opens a socket to `wsUrl`; `label` names the client in failure messages. */
  static connect(wsUrl: string, label = 'client'): Promise<ChatClient> {
    const ws = new WebSocket(wsUrl, { maxPayload: 16 * 1024 * 1024 });
    const client = new ChatClient(ws, label);
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        ws.terminate();
        reject(
          new Error(`${label}: socket to ${wsUrl} did not open within ${testLimits.socketTimeoutMs} ms`),
        );
      }, testLimits.socketTimeoutMs);
      ws.once('open', () => {
        clearTimeout(timer);
        resolve(client);
      });
      ws.once('error', (error) => {
        clearTimeout(timer);
        reject(new Error(`${label}: socket to ${wsUrl} failed: ${error.message}`));
      });
    });
  }

  get isOpen(): boolean {
    return this.ws.readyState === WebSocket.OPEN;
  }

  /** Any object as a frame: the escape hatch for frames no correct client sends. */
  send(frame: object): void {
    this.ws.send(JSON.stringify(frame));
  }

  sendRaw(data: string | Buffer): void {
    this.ws.send(data, { binary: typeof data !== 'string' });
  }

  /** Sends hello and resolves with the welcome; rejects (with the close code) if the server closes instead. */
  async hello(token: string, resume?: Record<string, number>, device?: string): Promise<WelcomeFrame> {
    this.send(clientFrame.hello(token, device, resume));
    return this.waitFor('welcome');
  }

  /** Sends a message and resolves with its `ack`, or with the `err` whose `ref` is its cmid. */
  sendMessage(conv: string, cmid: string, body: string): Promise<AckFrame | ErrFrame> {
    this.send(clientFrame.send(conv, cmid, body));
    const answers: FramePredicate = (frame) =>
      (frame.t === 'ack' && frame.conv === conv && frame.cmid === cmid) ||
      (frame.t === 'err' && frame.ref === cmid);
    Object.defineProperty(answers, 'description', { value: `the ack or err of send ${conv}/${cmid}` });
    return this.next(answers) as Promise<AckFrame | ErrFrame>;
  }

  /** Sends a message and resolves with its `ack`; fails on an `err`. */
  async mustSend(conv: string, cmid: string, body: string): Promise<AckFrame> {
    const answer = await this.sendMessage(conv, cmid, body);
    if (answer.t !== 'ack')
      throw new Error(`${this.label}: send ${conv}/${cmid} answered ${JSON.stringify(answer)}`);
    return answer;
  }

  /** Sends `sync` and resolves with the next `batch` of `conv`. */
  sync(conv: string, after: number, limit?: number): Promise<BatchFrame> {
    this.send(clientFrame.sync(conv, after, limit));
    return this.waitFor('batch', (frame) => frame.conv === conv);
  }

  /** The first not yet consumed frame (received or to come) that satisfies `predicate`. */
  next(predicate: FramePredicate, timeoutMs: number = testLimits.frameTimeoutMs): Promise<ServerFrame> {
    const found = this.take(predicate);
    if (found) return Promise.resolve(found);
    return new Promise((resolve, reject) => {
      const waiter: Waiter = {
        predicate,
        resolve: (frame) => {
          clearTimeout(timer);
          resolve(frame);
        },
      };
      const fail = (why: string) => {
        this.waiters.delete(waiter);
        clearTimeout(timer);
        reject(
          new Error(`${this.label}: ${why} waiting for ${describePredicate(predicate)}\n${this.describe()}`),
        );
      };
      const timer = setTimeout(() => fail(`timed out after ${timeoutMs} ms`), timeoutMs);
      this.waiters.add(waiter);
      void this.closed.then((closed) => {
        if (this.waiters.has(waiter)) fail(`socket closed (${closed.code} ${closed.reason})`);
      });
    });
  }

  /** The next not yet consumed frame of type `t` that satisfies `predicate`. */
  waitFor<T extends ServerFrame['t']>(
    t: T,
    predicate?: (frame: FrameOf<T>) => boolean,
    timeoutMs?: number,
  ): Promise<FrameOf<T>> {
    const matches: FramePredicate = (frame) =>
      frame.t === t && (!predicate || predicate(frame as FrameOf<T>));
    Object.defineProperty(matches, 'description', {
      value: `a '${t}' frame${predicate ? ` where ${predicate}` : ''}`,
    });
    return this.next(matches, timeoutMs) as Promise<FrameOf<T>>;
  }

  /** Every frame received so far (consumed or not) of type `t` that satisfies `predicate`. */
  received<T extends ServerFrame['t']>(t: T, predicate?: (frame: FrameOf<T>) => boolean): FrameOf<T>[] {
    return this.frames.filter(
      (frame): frame is FrameOf<T> => frame.t === t && (!predicate || predicate(frame as FrameOf<T>)),
    );
  }

  /**
   * Resolves once the server has processed everything this client sent before and this client has
   * received everything the server wrote to it before: a `sync` of a conversation that cannot exist is
   * answered with an `err` after all earlier frames. Lets a test assert that something did NOT arrive.
   */
  async barrier(): Promise<void> {
    const conv = `no-such-conv.barrier-${++this.barrierCount}`;
    this.send(clientFrame.sync(conv, 0));
    await this.waitFor('err', (frame) => frame.code === 'not_found' || frame.code === 'forbidden');
  }

  /** Stops reading from the socket so the server's send buffer fills (slow-consumer tests). */
  pauseReading(): void {
    socketOf(this.ws).pause();
  }

  resumeReading(): void {
    socketOf(this.ws).resume();
  }

  /** Waits for the close; fails with the frames received if it does not come in time. */
  async waitClosed(timeoutMs: number = testLimits.socketTimeoutMs): Promise<Closed> {
    let timer: NodeJS.Timeout | undefined;
    const timeout = new Promise<never>((_, reject) => {
      timer = setTimeout(
        () => reject(new Error(`${this.label}: not closed after ${timeoutMs} ms\n${this.describe()}`)),
        timeoutMs,
      );
    });
    try {
      return await Promise.race([this.closed, timeout]);
    } finally {
      clearTimeout(timer);
    }
  }

  /** Closes politely and waits; terminates the socket if the server does not answer the close. */
  async close(): Promise<void> {
    if (this.closedValue) return;
    if (this.ws.readyState === WebSocket.CONNECTING || this.ws.readyState === WebSocket.OPEN)
      this.ws.close(1000);
    const timer = setTimeout(() => this.ws.terminate(), testLimits.socketTimeoutMs);
    await this.closed;
    clearTimeout(timer);
  }

  terminate(): void {
    this.ws.terminate();
  }

  /** The frames received so far, for failure messages. */
  describe(): string {
    const total = this.frames.length;
    const shown = this.frames.slice(-testLimits.framesShownMax);
    const lines = shown.map((frame, i) => {
      const index = total - shown.length + i;
      const text = JSON.stringify(frame);
      const clipped =
        text.length > testLimits.frameShownCharsMax
          ? `${text.slice(0, testLimits.frameShownCharsMax)}...`
          : text;
      return `  #${index}${this.consumed.has(index) ? ' (consumed)' : ''} ${clipped}`;
    });
    const head = `${total} frame(s) received${total > shown.length ? `, last ${shown.length} shown` : ''}`;
    const state = this.closedValue ? `closed ${this.closedValue.code} ${this.closedValue.reason}` : 'open';
    return `${head}; socket ${state}:\n${lines.join('\n') || '  (none)'}`;
  }

  private receive(text: string): void {
    const frame = decodeServerFrame(text);
    if (frame === null) {
      this.malformed.push(text);
      return;
    }
    if (this.frames.length >= testLimits.recordedFramesMax)
      throw new Error(`${this.label}: too many frames recorded`);
    const index = this.frames.push(frame as ServerFrame) - 1;
    for (const waiter of this.waiters) {
      if (waiter.predicate(frame as ServerFrame)) {
        this.waiters.delete(waiter);
        this.consumed.add(index);
        waiter.resolve(frame as ServerFrame);
        return;
      }
    }
  }

  private take(predicate: FramePredicate): ServerFrame | undefined {
    for (let i = 0; i < this.frames.length; i++) {
      if (this.consumed.has(i)) continue;
      const frame = this.frames[i]!;
      if (predicate(frame)) {
        this.consumed.add(i);
        return frame;
      }
    }
    return undefined;
  }
}

function describePredicate(predicate: FramePredicate): string {
  const description = (predicate as { description?: string }).description;
  return description ?? `a frame where ${String(predicate).slice(0, 200)}`;
}

/** The net.Socket under a ws WebSocket; not in ws's public types, but stable across ws 8. */
function socketOf(ws: WebSocket): { pause(): void; resume(): void } {
  const socket = (ws as unknown as { _socket?: { pause(): void; resume(): void } })._socket;
  if (!socket) throw new Error('the WebSocket has no underlying socket (not open yet, or already closed)');
  return socket;
}
