// The sans-I/O virtual client: one device of one user. Time arrives as `now`, randomness from the
// injected `rng`, and what it wants done leaves as ClientEffect values, so the simulator drives a
// million of them on a virtual clock and a live runtime drives the same class over real sockets.
// This file owns the connection lifecycle (connect, hello/resume, welcome, drain, backoff, idle)
// and routes frames to the outbox, the conversation views and the adversary.

import type {
  AckFrame,
  BatchFrame,
  ClientFrame,
  ErrFrame,
  HelloFrame,
  MsgFrame,
  ServerFrame,
  WelcomeFrame,
} from '../../reference-server/protocol/frames.ts';
import { protocolLimits } from '../../reference-server/protocol/limits.ts';
import type { HistoryEvent } from '../history.ts';
import { Adversary, type AdversaryHost } from './adversary.ts';
import { backoffDelayMs } from './backoff.ts';
import type { ClientEffect, ClientTimerKind } from './client-effect.ts';
import { ConversationView } from './conversation-view.ts';
import { type ClientConfig, resolveClientConfig } from './limits.ts';
import { Outbox } from './outbox.ts';

export type { ClientEffect, ClientTimerKind } from './client-effect.ts';

export type VirtualClientOptions = {
  user: string;
  device: string;
  /** Uniform in [0, 1): this client's own seeded stream. */
  rng: () => number;
  /** A valid token for a hello at `now` (a fresh one each hello: tokens expire). */
  token: (now: number) => string;
  record: (event: HistoryEvent) => void;
  /** Shared by many clients: resolved once per distinct object. */
  config?: Partial<ClientConfig>;
  /** A token the server must refuse (the forged-token behaviour). */
  badToken?: (now: number) => string;
  /** Run-wide unique ids for adversarial attempts (required when `config.adversary` is not empty). */
  attemptId?: () => number;
};

export type ConnectionState = 'new' | 'offline' | 'waiting' | 'connecting' | 'hello' | 'open';

export type SendStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

/** Returned when a call has nothing to do: never mutate what a call returns. */
const noEffects: readonly ClientEffect[] = Object.freeze([]);

export class VirtualClient implements AdversaryHost {
  readonly config: ClientConfig;
  private readonly options: VirtualClientOptions;
  private state: ConnectionState = 'new';
  private draining = false;
  private reconnectAttempt = 0;
  private reconnectAt = 0;
  private drainReconnectAt = 0;
  private connectStartedAt = 0;
  private lastHeardAt = 0;
  private idleTimerAt = Number.POSITIVE_INFINITY;
  private out: ClientEffect[] | null = null;
  private convs: Map<string, ConversationView> | null = null;
  private outbox: Outbox | null = null;
  private watched: Set<string> | null = null;
  private readonly adversary: Adversary | null;
  /** The node of the current session, from its welcome. */
  node = '';
  welcomes = 0;
  reconnects = 0;
  idleCloses = 0;
  displayed = 0;
  duplicates = 0;
  errors = 0;

  constructor(options: VirtualClientOptions) {
    this.options = options;
    this.config = resolveClientConfig(options.config);
    const adversarial = this.config.adversary.length > 0;
    if (adversarial && options.attemptId === undefined)
      throw new Error('an adversarial client needs options.attemptId for run-wide unique attempt ids');
    if (this.config.adversary.includes('forged-token') && options.badToken === undefined)
      throw new Error('the forged-token behaviour needs options.badToken');
    this.adversary = adversarial ? new Adversary() : null;
  }

  get user(): string {
    return this.options.user;
  }

  get device(): string {
    return this.options.device;
  }

  // ---- inputs -------------------------------------------------------------------------------

  start(now: number): readonly ClientEffect[] {
    if (this.state === 'new') this.connect(now);
    return this.flush();
  }

  connected(now: number): readonly ClientEffect[] {
    if (this.state !== 'connecting') return noEffects;
    this.state = 'hello';
    this.lastHeardAt = now;
    this.hello(now);
    this.armIdle(now + this.config.idleTimeoutMs);
    return this.flush();
  }

  received(frame: ServerFrame, now: number): readonly ClientEffect[] {
    if (this.state !== 'hello' && this.state !== 'open') return noEffects;
    this.lastHeardAt = now;
    switch (frame.t) {
      case 'welcome':
        this.welcome(frame, now);
        break;
      case 'ack':
        this.ack(frame, now);
        break;
      case 'msg':
        this.msg(frame, now);
        break;
      case 'batch':
        this.batch(frame, now);
        break;
      case 'notify':
        this.convFrame(frame.conv, 'notify', undefined, now);
        if (!this.isForeign(frame.conv)) this.view(frame.conv)?.notify(this, frame.lastSeq, now);
        break;
      case 'receipt':
        this.convFrame(frame.conv, 'receipt', undefined, now);
        if (!this.isForeign(frame.conv)) this.view(frame.conv)?.receipt(this, frame, now);
        break;
      case 'typing':
        this.convFrame(frame.conv, 'typing', undefined, now);
        if (!this.isForeign(frame.conv)) this.view(frame.conv)?.typingFrame(this, frame, now);
        break;
      case 'presence':
        this.record({
          k: 'presence-seen',
          at: now,
          of: frame.user,
          online: frame.online,
          lastSeen: frame.lastSeen,
          user: this.user,
          device: this.device,
        });
        break;
      case 'err':
        this.err(frame, now);
        break;
      case 'drain':
        this.drain(frame.reconnectInMs, now);
        break;
    }
    return this.flush();
  }

  disconnected(code: number | null, now: number): readonly ClientEffect[] {
    if (!this.isConnected()) return noEffects;
    const drained = this.draining;
    this.connectionGone(code === null ? 'reset' : String(code), now);
    this.scheduleReconnect(drained ? Math.max(now, this.drainReconnectAt) : this.backoffAt(now));
    return this.flush();
  }

  heard(now: number): void {
    this.lastHeardAt = now;
  }

  timer(kind: ClientTimerKind, key: string | undefined, now: number): readonly ClientEffect[] {
    switch (kind) {
      case 'reconnect':
        if (this.state === 'waiting' && now >= this.reconnectAt) this.connect(now);
        break;
      case 'idle':
        this.idleCheck(now);
        break;
      case 'outbox':
        this.outbox?.onTimer(this, now);
        this.closeIfDrained(now);
        break;
      case 'gap':
        this.convs?.get(key ?? '')?.onGapTimer(this, now);
        break;
      case 'cursor':
        this.convs?.get(key ?? '')?.onCursorTimer(this, now);
        break;
      case 'sync':
        if (this.convs?.get(key ?? '')?.onSyncTimer(this, now)) {
          // Syncs keep going unanswered on a connection that still pings: start afresh.
          this.closeConnection('client', now);
          this.scheduleReconnect(this.backoffAt(now));
        }
        break;
      case 'drain':
        if (this.draining && this.isConnected()) this.closeAfterDrain(now);
        break;
      case 'adversary':
        this.adversary?.onTimer(this, now);
        break;
    }
    return this.flush();
  }

  sendMessage(conv: string, body: string, now: number): readonly ClientEffect[] {
    this.outbox ??= new Outbox();
    this.outbox.add(this, conv, body, now);
    return this.flush();
  }

  markRead(conv: string, now: number): readonly ClientEffect[] {
    this.convs?.get(conv)?.markRead(this, now);
    return this.flush();
  }

  setTyping(conv: string, on: boolean, _now: number): readonly ClientEffect[] {
    if (this.canSend()) this.frame({ t: 'typing', conv, on });
    return this.flush();
  }

  watch(users: readonly string[], _now: number): readonly ClientEffect[] {
    this.watched ??= new Set();
    const added: string[] = [];
    for (const user of users) {
      if (this.watched.has(user) || this.watched.size >= this.config.watchedUsersMax) continue;
      this.watched.add(user);
      added.push(user);
    }
    if (this.canSend()) this.sendWatch(added);
    return this.flush();
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

  // ---- read-only views ----------------------------------------------------------------------

  get connectionState(): ConnectionState {
    return this.state;
  }

  get isDraining(): boolean {
    return this.draining;
  }

  /** Unacked messages in the outbox. */
  get outboxSize(): number {
    return this.outbox?.size ?? 0;
  }

  get sendsInFlight(): number {
    return this.outbox?.inFlight ?? 0;
  }

  /** The cmid given to the latest `sendMessage`, or undefined before the first. */
  get lastCmid(): string | undefined {
    const n = this.outbox?.lastCmid ?? 0;
    return n > 0 ? `${this.device}-${n}` : undefined;
  }

  /** undefined for a cmid this client never issued or has forgotten (past settledKeptMax). */
  status(cmid: string): SendStatus | undefined {
    if (this.outbox === null) return undefined;
    if (this.outbox.has(cmid)) return 'sending';
    const settled = this.outbox.settledOf(cmid);
    if (settled === undefined) return undefined;
    if (settled.seq === 0) return 'failed';
    return this.convs?.get(settled.conv)?.statusOf(settled.seq) ?? 'sent';
  }

  displayedUpTo(conv: string): number {
    return this.convs?.get(conv)?.displayedUpTo ?? 0;
  }

  typingUsers(conv: string, now: number): string[] {
    return this.convs?.get(conv)?.typingUsers(now) ?? [];
  }

  conversations(): string[] {
    return this.convs === null ? [] : [...this.convs.keys()];
  }

  get counters(): Record<string, number> {
    const outbox = this.outbox;
    return {
      welcomes: this.welcomes,
      reconnects: this.reconnects,
      idleCloses: this.idleCloses,
      displayed: this.displayed,
      duplicates: this.duplicates,
      errors: this.errors,
      sendsRequested: outbox?.requested ?? 0,
      acked: outbox?.acked ?? 0,
      failed: outbox?.failed ?? 0,
      resent: outbox?.resent ?? 0,
    };
  }

  // ---- ClientHost / AdversaryHost -----------------------------------------------------------

  canSend(): boolean {
    return this.state === 'open' && !this.draining;
  }

  frame(frame: ClientFrame): void {
    this.emit({ type: 'frame', frame });
  }

  schedule(kind: ClientTimerKind, at: number, key?: string): void {
    this.emit(key === undefined ? { type: 'timer', at, kind } : { type: 'timer', at, kind, key });
  }

  record(event: HistoryEvent): void {
    if (event.k === 'display') this.displayed++;
    this.options.record(event);
  }

  random(): number {
    return this.options.rng();
  }

  nextAttemptId(): number {
    return this.options.attemptId!();
  }

  badToken(now: number): string {
    return this.options.badToken!(now);
  }

  views(): Iterable<ConversationView> {
    return this.convs?.values() ?? [];
  }

  reconnectNow(now: number): void {
    if (this.isConnected()) this.closeConnection('client', now);
    this.scheduleReconnect(now);
  }

  // ---- connection lifecycle -----------------------------------------------------------------

  private isConnected(): boolean {
    return this.state === 'connecting' || this.state === 'hello' || this.state === 'open';
  }

  private connect(now: number): void {
    this.state = 'connecting';
    this.connectStartedAt = now;
    this.emit({ type: 'connect' });
    this.armIdle(now + this.config.connectTimeoutMs);
  }

  private hello(now: number): void {
    const token = this.adversary?.helloToken(this, now) ?? this.options.token(now);
    const frame: HelloFrame = { t: 'hello', token, device: this.device };
    if (this.convs !== null && this.convs.size > 0) {
      const resume: Record<string, number> = {};
      let count = 0;
      for (const view of this.convs.values()) {
        if (count++ >= this.config.resumeConvsMax) break;
        resume[view.conv] = view.displayedUpTo;
        view.markResumed();
      }
      frame.resume = resume;
    }
    this.frame(frame);
  }

  private welcome(frame: WelcomeFrame, now: number): void {
    if (this.state !== 'hello') return;
    this.state = 'open';
    this.node = frame.node;
    this.welcomes++;
    this.reconnectAttempt = 0;
    this.adversary?.onWelcome(this, frame, now);
    for (const summary of frame.convs) this.view(summary.conv)?.welcome(this, summary, now);
    if (this.convs !== null) for (const view of this.convs.values()) view.endResume();
    if (this.watched !== null && this.watched.size > 0) this.sendWatch([...this.watched]);
    this.outbox?.fill(this, now);
  }

  private drain(reconnectInMs: number, now: number): void {
    if (this.draining) return;
    this.draining = true;
    const jitter = this.config.jitter ? Math.floor(this.random() * (this.config.drainJitterMs + 1)) : 0;
    this.drainReconnectAt = now + reconnectInMs + jitter;
    // Acks of sends already in flight are worth waiting for; nothing new is sent meanwhile.
    if ((this.outbox?.inFlight ?? 0) === 0) this.closeAfterDrain(now);
    else this.schedule('drain', now + this.config.drainAckWaitMs);
  }

  private closeIfDrained(now: number): void {
    if (this.draining && this.isConnected() && (this.outbox?.inFlight ?? 0) === 0) this.closeAfterDrain(now);
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
    this.state = 'waiting';
    this.draining = false;
    this.outbox?.connectionLost();
    if (this.convs !== null) for (const view of this.convs.values()) view.connectionLost();
    this.adversary?.onDisconnect(this, reason, now);
  }

  private backoffAt(now: number): number {
    const { reconnectBaseMs, reconnectCapMs, jitter } = this.config;
    return (
      now + backoffDelayMs(this.reconnectAttempt++, reconnectBaseMs, reconnectCapMs, jitter, this.options.rng)
    );
  }

  private scheduleReconnect(at: number): void {
    this.state = 'waiting';
    this.reconnectAt = at;
    this.reconnects++;
    this.schedule('reconnect', at);
  }

  /** Connect timeout while connecting; the dead-connection check (nothing heard) once connected. */
  private idleCheck(now: number): void {
    if (now >= this.idleTimerAt) this.idleTimerAt = Number.POSITIVE_INFINITY;
    let deadline: number;
    if (this.state === 'connecting') deadline = this.connectStartedAt + this.config.connectTimeoutMs;
    else if (this.state === 'hello' || this.state === 'open')
      deadline = this.lastHeardAt + this.config.idleTimeoutMs;
    else return;
    if (now < deadline) {
      this.armIdle(deadline);
      return;
    }
    this.idleCloses++;
    const drained = this.draining;
    this.closeConnection('idle', now);
    this.scheduleReconnect(drained ? Math.max(now, this.drainReconnectAt) : this.backoffAt(now));
  }

  private armIdle(at: number): void {
    if (at >= this.idleTimerAt) return;
    this.idleTimerAt = at;
    this.schedule('idle', at);
  }

  // ---- frames -------------------------------------------------------------------------------

  private ack(frame: AckFrame, now: number): void {
    if (this.adversary?.onAck(this, frame, now)) return;
    const entry = this.outbox?.ack(this, frame, now);
    if (entry !== undefined) {
      const view = this.view(frame.conv);
      if (view !== undefined) {
        const message = {
          conv: frame.conv,
          seq: frame.seq,
          from: this.user,
          cmid: frame.cmid,
          body: entry.body,
          ts: frame.ts,
        };
        this.tally(view.offer(this, message, 'own', now));
        view.settle(this, now);
      }
    }
    this.closeIfDrained(now);
  }

  private msg(frame: MsgFrame, now: number): void {
    this.convFrame(frame.conv, 'msg', [frame.seq], now);
    if (this.isForeign(frame.conv)) return;
    const view = this.view(frame.conv);
    if (view === undefined) return;
    if (frame.seq <= view.displayedUpTo) {
      this.duplicates++;
      return;
    }
    const { conv, seq, from, cmid, body, ts } = frame;
    this.tally(view.offer(this, { conv, seq, from, cmid, body, ts }, 'push', now));
    view.settle(this, now);
  }

  private batch(frame: BatchFrame, now: number): void {
    this.convFrame(
      frame.conv,
      'batch',
      frame.msgs.map((m) => m.seq),
      now,
    );
    if (this.adversary?.onBatch(this, frame, now)) return;
    this.view(frame.conv)?.batch(this, frame, now);
  }

  private err(frame: ErrFrame, now: number): void {
    this.errors++;
    if (frame.ref === undefined) return;
    if (this.adversary?.onErr(this, frame, now)) return;
    this.outbox?.errored(this, frame, now);
    this.closeIfDrained(now);
  }

  private convFrame(conv: string, t: string, seqs: number[] | undefined, now: number): void {
    const event: HistoryEvent =
      seqs === undefined
        ? { k: 'conv-frame', at: now, conv, t, user: this.user, device: this.device }
        : { k: 'conv-frame', at: now, conv, t, seqs, user: this.user, device: this.device };
    this.record(event);
  }

  private sendWatch(users: readonly string[]): void {
    for (let i = 0; i < users.length; i += protocolLimits.watchUsersMax)
      this.frame({ t: 'watch', users: users.slice(i, i + protocolLimits.watchUsersMax) });
  }

  // ---- helpers ------------------------------------------------------------------------------

  private isForeign(conv: string): boolean {
    return this.adversary?.isForeign(this, conv) === true;
  }

  /** The view of `conv`, created on first mention; undefined past convsMax. */
  private view(conv: string): ConversationView | undefined {
    this.convs ??= new Map();
    let view = this.convs.get(conv);
    if (view === undefined) {
      if (this.convs.size >= this.config.convsMax) return undefined;
      view = new ConversationView(conv);
      this.convs.set(conv, view);
    }
    return view;
  }

  private tally(offer: string): void {
    if (offer === 'duplicate') this.duplicates++;
  }

  private emit(effect: ClientEffect): void {
    if (this.out === null) this.out = [effect];
    else this.out.push(effect);
  }

  private flush(): readonly ClientEffect[] {
    const out = this.out;
    this.out = null;
    return out ?? noEffects;
  }
}
