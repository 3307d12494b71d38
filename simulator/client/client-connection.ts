// The connection lifecycle of a virtual client, apart from what the chat app does over it:
// connect, hello, welcome, reconnect with exponential backoff (full jitter unless turned off),
// `drain` (close once in-flight sends are answered, reconnect after reconnectInMs plus jitter),
// the connect timeout and the dead-connection check. Invariant: at most one connection or
// connection attempt at a time, and every way out of one leads to exactly one scheduled reconnect
// (unless the app went offline).

import { CloseCode } from '../../reference-server/protocol/codes.ts';
import type {
  ClientFrame,
  HelloFrame,
  Message,
  MsgFrame,
  WelcomeFrame,
} from '../../reference-server/protocol/frames.ts';
import type { ConvFrameTaker, DisplayTaker, HistoryEvent, Via } from '../history.ts';
import { backoffDelayMs } from './backoff.ts';
import {
  afterFiring,
  type ClientEffect,
  type ClientHost,
  type ClientTimerKind,
  needsTimer,
} from './client-effect.ts';
import { ClientTimes, clientCount, clientTime } from './client-times.ts';
import { type ClientConfig, resolveClientConfig } from './limits.ts';
import { clientFrame } from './wire.ts';

/** Who one client is: its own, per device. */
export type ClientIdentity = {
  user: string;
  device: string;
  /** A number the carrier gives this device, passed back with each recorded event and each draw. */
  deviceIndex?: number;
  /**
   * What cmids start with (default: the device id). The key is (sender, conv, cmid), so cmids unique
   * per user suffice; a prefix shared across users (e.g. `d0`) makes different senders reuse cmids,
   * which a server keying without the sender gets wrong.
   */
  cmidPrefix?: string;
};

/**
 * What the carrier gives its clients. One object may serve every client of a run (each call names the
 * client by its user or device index): a million clients then hold no options object and no closure
 * of their own each (about 190 bytes a client in `million`, docs/benchmarks.md).
 */
export type ClientServices = {
  /** Uniform in [0, 1): the device's own seeded stream (`deviceIndex`, or 0 when the carrier gave none). */
  rng: (deviceIndex: number) => number;
  /** A valid token for `user`'s hello at `now` (a fresh one each hello: tokens expire). */
  token: (now: number, user: string) => string;
  /** `device` is `deviceIndex`: a carrier may use it to find the device without hashing strings. */
  record: (event: HistoryEvent, device?: number) => void;
  /**
   * Optional, for a carrier that packs the history (run-scenario.ts with the checker thread): takes a
   * `display` event by its fields, without the event object (a push's two events were two of its four
   * objects). With it, a pushed message comes as its `msg` frame (the copy was the push's third object).
   */
  display?: DisplayTaker;
  /** Optional, likewise: a `conv-frame` of one seq or none at the client's node (msg, receipt, notify). */
  convFrame?: ConvFrameTaker;
  /** Shared by many clients: resolved once per distinct object. */
  config?: Partial<ClientConfig>;
  /** A token the server must refuse (the forged-token behaviour). */
  badToken?: (now: number) => string;
  /** Run-wide unique ids for adversarial attempts (required when `config.adversary` is not empty). */
  attemptId?: () => number;
  /** One table of client times for every client the services serve, a row by `deviceIndex` (client-times.ts). */
  times?: ClientTimes;
  /**
   * Whether the device (`deviceIndex`) pipelines: sends its syncs right after the hello, before the
   * welcome, instead of a resume in the hello (`clients.pipelineFraction`). Absent: none does.
   */
  pipelines?: (deviceIndex: number) => boolean;
};

/** The message a `msg` frame carries, as a display event holds it (its own object, in Message's field order). */
export function messageOf(message: Message): Message {
  const { conv, seq, from, cmid, body, ts } = message;
  return { conv, seq, from, cmid, body, ts };
}

/** One client's identity and services in one object (its services then serve it alone). */
export type VirtualClientOptions = ClientIdentity & ClientServices;

export type ConnectionState = 'new' | 'offline' | 'waiting' | 'connecting' | 'hello' | 'open';

/** Returned when a call has nothing to do: never mutate what a call returns. */
export const noEffects: readonly ClientEffect[] = Object.freeze([]);

export abstract class ClientConnection implements ClientHost {
  readonly config: ClientConfig;
  protected readonly services: ClientServices;
  readonly user: string;
  readonly device: string;
  readonly cmidPrefix: string;
  private readonly deviceIndex: number | undefined;
  protected state: ConnectionState = 'new';
  protected draining = false;
  private reconnectAttempt = 0;
  /** This client's times, a row of a table (client-times.ts): doubles in fields are a box each. */
  private readonly times: ClientTimes;
  private readonly timesAt: number;
  /** Nothing heard this long: the connection is dead (from the welcome's heartbeat once a session is open). */
  private idleMs: number;
  private out: ClientEffect[] | null = null;
  /** The node of the current session, from its welcome. */
  node = '';

  constructor(options: VirtualClientOptions);
  constructor(identity: ClientIdentity, services: ClientServices);
  constructor(identity: ClientIdentity, services: ClientServices = identity as VirtualClientOptions) {
    this.services = services;
    this.user = identity.user;
    this.device = identity.device;
    this.cmidPrefix = identity.cmidPrefix ?? identity.device;
    this.deviceIndex = identity.deviceIndex;
    // A shared table needs the carrier's device numbers for its rows; without them, a row of one's own.
    this.times =
      services.times !== undefined && identity.deviceIndex !== undefined ? services.times : new ClientTimes();
    this.timesAt = this.times.claim(this.times === services.times ? identity.deviceIndex! : 0);
    this.config = resolveClientConfig(services.config);
    this.idleMs = this.config.idleTimeoutMs;
  }

  private get reconnectAt(): number {
    return this.times.values[this.timesAt + clientTime.reconnectAt]!;
  }

  private set reconnectAt(at: number) {
    this.times.values[this.timesAt + clientTime.reconnectAt] = at;
  }

  private get drainReconnectAt(): number {
    return this.times.values[this.timesAt + clientTime.drainReconnectAt]!;
  }

  private set drainReconnectAt(at: number) {
    this.times.values[this.timesAt + clientTime.drainReconnectAt] = at;
  }

  private get connectStartedAt(): number {
    return this.times.values[this.timesAt + clientTime.connectStartedAt]!;
  }

  private set connectStartedAt(at: number) {
    this.times.values[this.timesAt + clientTime.connectStartedAt] = at;
  }

  private get lastHeardAt(): number {
    return this.times.values[this.timesAt + clientTime.lastHeardAt]!;
  }

  private set lastHeardAt(at: number) {
    this.times.values[this.timesAt + clientTime.lastHeardAt] = at;
  }

  private get helloSentAt(): number {
    return this.times.values[this.timesAt + clientTime.helloSentAt]!;
  }

  private set helloSentAt(at: number) {
    this.times.values[this.timesAt + clientTime.helloSentAt] = at;
  }

  /** The earliest outstanding `idle` timer (timers are never cancelled, only ignored). */
  private get idleTimerAt(): number {
    return this.times.values[this.timesAt + clientTime.idleTimerAt]!;
  }

  private set idleTimerAt(at: number) {
    this.times.values[this.timesAt + clientTime.idleTimerAt] = at;
  }

  get welcomes(): number {
    return this.times.counts[2 * this.timesAt + clientCount.welcomes]!;
  }

  protected set welcomes(count: number) {
    this.times.counts[2 * this.timesAt + clientCount.welcomes] = count;
  }

  get reconnects(): number {
    return this.times.counts[2 * this.timesAt + clientCount.reconnects]!;
  }

  protected set reconnects(count: number) {
    this.times.counts[2 * this.timesAt + clientCount.reconnects] = count;
  }

  get idleCloses(): number {
    return this.times.counts[2 * this.timesAt + clientCount.idleCloses]!;
  }

  protected set idleCloses(count: number) {
    this.times.counts[2 * this.timesAt + clientCount.idleCloses] = count;
  }

  /** A counter of the subclass's (clientCount), kept in this client's row. */
  protected countOf(counter: number): number {
    return this.times.counts[2 * this.timesAt + counter]!;
  }

  protected setCount(counter: number, count: number): void {
    this.times.counts[2 * this.timesAt + counter] = count;
  }

  get connectionState(): ConnectionState {
    return this.state;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  // ---- what the chat app above adds ---------------------------------------------------------

  /** The hello's token: a subclass may forge one. */
  abstract pastMemberSince(conv: string): number | null;
  abstract memberAgain(now: number): void;
  protected abstract helloToken(now: number): string;
  /** Fills `frame.resume` with what the device holds (`pipelines`: none of its own conversations). */
  protected abstract addResume(frame: HelloFrame, pipelines: boolean, now: number): void;
  /** Right after the hello, before its welcome: the frames a pipelining device sends without waiting. */
  protected abstract pipelineAfterHello(now: number): void;
  /**
   * The connection is open: true when this connection sends no hello at all (an adversary's silent
   * connection, owed close 4408). It is asked once per connection, before the hello.
   */
  protected abstract withholdsHello(now: number): boolean;
  /** Whether the current connection is one that withheld its hello. */
  protected abstract helloWithheld(): boolean;
  /** After the hello and whatever is pipelined with it, still before the welcome (an adversary's frames). */
  protected abstract afterHello(now: number): void;
  protected abstract sessionOpened(welcome: WelcomeFrame, now: number): void;
  /** The connection is gone (`reason`: a close code, 'reset', 'idle' or 'client'). */
  protected abstract sessionLost(reason: string, now: number): void;
  protected abstract sendsInFlight(): number;
  /**
   * When the oldest request still awaiting its answer on this session was sent (a send in flight, a
   * sync, a send made again; one pipelined before the welcome counts from the welcome); +Infinity: none.
   */
  protected abstract unansweredSince(): number;

  // ---- inputs -------------------------------------------------------------------------------

  start(now: number): readonly ClientEffect[] {
    if (this.state === 'new') this.connect(now);
    return this.flush();
  }

  connected(now: number): readonly ClientEffect[] {
    if (this.state !== 'connecting') return noEffects;
    this.state = 'hello';
    this.lastHeardAt = now;
    this.helloSentAt = now;
    if (this.withholdsHello(now)) {
      this.armIdle(now + this.config.idleTimeoutMs);
      return this.flush();
    }
    const frame: HelloFrame = clientFrame.hello(this.helloToken(now), this.device);
    const pipelines = this.deviceIndex !== undefined && this.services.pipelines?.(this.deviceIndex) === true;
    this.addResume(frame, pipelines, now);
    this.frame(frame);
    if (pipelines) this.pipelineAfterHello(now);
    this.armIdle(now + this.config.idleTimeoutMs);
    this.afterHello(now);
    return this.flush();
  }

  /**
   * The carrier dials the connect asked for only now (live generators bound their connects in flight,
   * connect-gate.ts, and hold the rest back): the connect timeout counts from here, not from the ask.
   * Called again while the connect still waits, it starts the count again (a wait is not a timeout).
   */
  dialing(now: number): readonly ClientEffect[] {
    if (this.state !== 'connecting') return noEffects;
    this.connectStartedAt = now;
    this.armIdle(now + this.config.connectTimeoutMs);
    return this.flush();
  }

  disconnected(code: number | null, now: number): readonly ClientEffect[] {
    if (!this.isConnected()) return noEffects;
    const drained = this.draining;
    // protocol.md: 1012 (restart) comes after a `drain`. A session closed so without one was cut by a
    // server that said nothing of restarting (server-frames fails it).
    if (code === CloseCode.restart && !drained && this.state === 'open')
      this.record({
        k: 'bad-frame',
        at: now,
        t: 'close',
        problem: `close ${code} (restart) with no drain before it`,
        user: this.user,
        device: this.device,
      });
    this.connectionGone(code === null ? 'reset' : String(code), now);
    this.scheduleReconnect(drained ? Math.max(now, this.drainReconnectAt) : this.backoffAt(now));
    return this.flush();
  }

  /** Liveness traffic (a server ping) arrived. */
  heard(now: number): void {
    this.lastHeardAt = now;
  }

  heardAfter(at: number): boolean {
    return this.lastHeardAt > at;
  }

  lastHeard(): number {
    return this.lastHeardAt;
  }

  /** The app closes: the connection goes, the outbox and what was displayed stay. */
  goOffline(now: number): readonly ClientEffect[] {
    if (this.isConnected()) this.closeConnection('client', now);
    this.state = 'offline';
    return this.flush();
  }

  goOnline(now: number): readonly ClientEffect[] {
    if (this.state === 'offline' || this.state === 'new') {
      this.reconnectAttempt = 0;
      this.connect(now);
    }
    return this.flush();
  }

  // ---- ClientHost ---------------------------------------------------------------------------

  canSend(): boolean {
    return this.state === 'open' && !this.draining;
  }

  frame(frame: ClientFrame): void {
    this.emit({ type: 'frame', frame });
  }

  text(text: string): void {
    this.emit({ type: 'text', text });
  }

  binary(bytes: Uint8Array): void {
    this.emit({ type: 'binary', bytes });
  }

  schedule(kind: ClientTimerKind, at: number, key?: string): void {
    this.emit(key === undefined ? { type: 'timer', at, kind } : { type: 'timer', at, kind, key });
  }

  record(event: HistoryEvent): void {
    this.services.record(event, this.deviceIndex);
  }

  /** `message` may be the push frame that carried it (see ClientServices.display): the event holds its message. */
  display(message: Message, via: Via, now: number): void {
    const device = this.deviceIndex;
    if (
      device === undefined ||
      this.services.display?.(device, now, via, message, this.user, this.device) !== true
    )
      this.record({
        k: 'display',
        at: now,
        via,
        message: (message as MsgFrame).t === 'msg' ? messageOf(message) : message,
        user: this.user,
        device: this.device,
      });
  }

  /**
   * Records the `conv-frame` event of `seq` (undefined: no `seqs`) at the current node, as
   * ClientServices.convFrame says: handed over by its fields when the carrier takes them so.
   */
  protected recordConvFrame(conv: string, t: string, seq: number | undefined, now: number): void {
    const device = this.deviceIndex;
    if (
      device !== undefined &&
      this.services.convFrame?.(device, now, conv, t, seq, this.node, this.user, this.device) === true
    )
      return;
    this.record(this.convFrameEvent(conv, t, seq === undefined ? undefined : [seq], now));
  }

  /** A `conv-frame` event about a frame of conversation `conv` at the current node, in its field order. */
  protected convFrameEvent(
    conv: string,
    t: string,
    seqs: number[] | undefined,
    now: number,
  ): HistoryEvent & { k: 'conv-frame' } {
    const node = this.node;
    return seqs === undefined
      ? { k: 'conv-frame', at: now, conv, t, node, user: this.user, device: this.device }
      : { k: 'conv-frame', at: now, conv, t, seqs, node, user: this.user, device: this.device };
  }

  random(): number {
    return this.services.rng(this.deviceIndex ?? 0);
  }

  /** When the current connection began to connect. */
  connectionBegunAt(): number {
    return this.connectStartedAt;
  }

  /** Closes the connection (if any) and reconnects at once. */
  reconnectNow(now: number): void {
    if (this.isConnected()) this.closeConnection('client', now);
    this.scheduleReconnect(now);
  }

  // ---- for the subclass ---------------------------------------------------------------------

  protected isConnected(): boolean {
    return this.state === 'connecting' || this.state === 'hello' || this.state === 'open';
  }

  protected receivedAt(now: number): void {
    this.lastHeardAt = now;
  }

  protected welcome(frame: WelcomeFrame, now: number): void {
    if (this.state !== 'hello') return;
    this.state = 'open';
    this.node = frame.node;
    this.idleMs = sessionIdleMs(frame.heartbeatMs, this.config);
    this.armIdle(this.lastHeardAt + this.idleMs);
    this.welcomes++;
    this.reconnectAttempt = 0;
    this.record({
      k: 'session',
      at: now,
      connectMs: now - this.connectStartedAt,
      first: this.welcomes === 1,
      ...(frame.node === '' ? {} : { node: frame.node }),
      user: this.user,
      device: this.device,
    });
    this.sessionOpened(frame, now);
  }

  protected drain(reconnectInMs: number, now: number): void {
    if (this.draining) return;
    this.draining = true;
    const jitter = this.config.jitter ? Math.floor(this.random() * (this.config.drainJitterMs + 1)) : 0;
    this.drainReconnectAt = now + reconnectInMs + jitter;
    // Acks of sends already in flight are worth waiting for; nothing new is sent meanwhile.
    if (this.sendsInFlight() === 0) this.closeAfterDrain(now);
    else this.schedule('drain', now + this.config.drainAckWaitMs);
  }

  protected closeIfDrained(now: number): void {
    if (this.draining && this.isConnected() && this.sendsInFlight() === 0) this.closeAfterDrain(now);
  }

  /** Handles the lifecycle's own timer kinds; false for the others. */
  protected lifecycleTimer(kind: ClientTimerKind, now: number): boolean {
    if (kind === 'reconnect') {
      if (this.state === 'waiting' && now >= this.reconnectAt) this.connect(now);
    } else if (kind === 'idle') this.idleCheck(now);
    else if (kind === 'drain') {
      if (this.draining && this.isConnected()) this.closeAfterDrain(now);
    } else return false;
    return true;
  }

  /** Gives up on the current connection (it seems broken) and reconnects with backoff. */
  protected restartConnection(reason: string, now: number): void {
    const drained = this.draining;
    this.closeConnection(reason, now);
    this.scheduleReconnect(drained ? Math.max(now, this.drainReconnectAt) : this.backoffAt(now));
  }

  protected flush(): readonly ClientEffect[] {
    const out = this.out;
    this.out = null;
    return out ?? noEffects;
  }

  // ---- internals ----------------------------------------------------------------------------

  private connect(now: number): void {
    this.state = 'connecting';
    this.connectStartedAt = now;
    this.emit({ type: 'connect' });
    this.armIdle(now + this.config.connectTimeoutMs);
  }

  private closeAfterDrain(now: number): void {
    this.closeConnection('client', now);
    this.scheduleReconnect(Math.max(now, this.drainReconnectAt));
  }

  /** Client-side close: the carrier reports nothing more from this connection. */
  private closeConnection(reason: string, now: number): void {
    this.emit({ type: 'close' });
    this.connectionGone(reason, now);
  }

  private connectionGone(reason: string, now: number): void {
    if (this.state === 'open') {
      // What the session ended with unanswered, and when it was last heard from: read-pages judges a
      // request left unanswered far longer than a node up and reachable takes to answer.
      const since = this.unansweredSince();
      this.record({
        k: 'session-lost',
        at: now,
        reason,
        ...(since < now ? { unansweredSince: since, heardAt: this.lastHeardAt } : {}),
        user: this.user,
        device: this.device,
      });
    }
    this.state = 'waiting';
    this.draining = false;
    this.sessionLost(reason, now);
  }

  private backoffAt(now: number): number {
    const { reconnectBaseMs, reconnectCapMs, jitter } = this.config;
    return (
      now +
      backoffDelayMs(this.reconnectAttempt++, reconnectBaseMs, reconnectCapMs, jitter, () => this.random())
    );
  }

  private scheduleReconnect(at: number): void {
    this.state = 'waiting';
    this.reconnectAt = at;
    this.reconnects++;
    this.schedule('reconnect', at);
  }

  /** Connect timeout while connecting, welcome timeout after the hello, then the dead-connection check (nothing heard). */
  private idleCheck(now: number): void {
    this.idleTimerAt = afterFiring(this.idleTimerAt, now);
    let deadline: number;
    if (this.state === 'connecting') deadline = this.connectStartedAt + this.config.connectTimeoutMs;
    // Only the welcome answers a hello: a server's pings on a connection it never welcomes keep it
    // alive but useless, so they do not extend this wait.
    else if (this.state === 'hello') deadline = this.helloSentAt + this.config.idleTimeoutMs;
    else if (this.state === 'open') deadline = this.lastHeardAt + this.idleMs;
    else return;
    if (now < deadline) {
      this.armIdle(deadline);
      return;
    }
    this.idleCloses++;
    // A hello never welcomed is silence, which read-pages judges (a connect never made is the network's;
    // a hello never sent is the adversary's, judged by its attempt).
    if (this.state === 'hello' && !this.helloWithheld())
      this.record({
        k: 'unanswered',
        at: now,
        asked: 'hello',
        askedAt: this.helloSentAt,
        heardAt: this.lastHeardAt,
        user: this.user,
        device: this.device,
      });
    this.restartConnection('idle', now);
  }

  private armIdle(at: number): void {
    if (!needsTimer(this.idleTimerAt, at)) return;
    this.idleTimerAt = at;
    this.schedule('idle', at);
  }

  private emit(effect: ClientEffect): void {
    if (this.out === null) this.out = [effect];
    else this.out.push(effect);
  }
}

/**
 * How long a session may stay silent: `idleHeartbeats` of the heartbeat its welcome announced. A
 * welcome without a usable heartbeat (a server outside the protocol) keeps the pre-welcome bound.
 */
export function sessionIdleMs(heartbeatMs: unknown, config: ClientConfig): number {
  if (typeof heartbeatMs !== 'number' || !Number.isFinite(heartbeatMs) || heartbeatMs <= 0)
    return config.idleTimeoutMs;
  return Math.ceil(heartbeatMs * config.idleHeartbeats);
}
