// The chat server's logic, sans-I/O: `handle(input, now)` and `tick(now)` return effects and touch
// nothing else. The live runtime and the simulator run this same class. Every state transition of a
// node is here or in the few files it calls (conversation, presence, fanout, http-routes); the store
// port decides seqs and idempotency, this class decides who may do what and who hears about it.

import { CloseCode, ErrorCode } from '../protocol/codes.ts';
import type { ClientFrame, ConvSummary, Message, ServerFrame, UserId } from '../protocol/frames.ts';
import { protocolLimits } from '../protocol/limits.ts';
import { decodeFrame, type FrameVerdict, validateFrame } from '../protocol/validate-frame.ts';
import type { ConversationRecord } from '../store/message-store.ts';
import type { BusEvent } from './bus-events.ts';
import { Conversation, type ReadWindow, readPage, windowNow } from './conversation.ts';
import type { Effect, StoreOp } from './effects.ts';
import {
  type ConnIndex,
  isLargeGroup,
  memberConnections,
  messageRecipients,
  type UserConns,
} from './fanout.ts';
import { type HttpContext, type HttpPending, handleHttp, httpStoreResult } from './http-routes.ts';
import type { Claims, ConnId, Input, StoreOutcome } from './inputs.ts';
import { coreLimits, defaultLimits, type NodeLimits } from './limits.ts';
import { Presence, type PresenceChange } from './presence.ts';
import {
  type SmallSet,
  smallSetAdd,
  smallSetDelete,
  smallSetHas,
  smallSetSize,
  smallSetValues,
} from './small-set.ts';
import { NodeStats } from './stats.ts';
import { TimerQueue } from './timer-queue.ts';
import { TokenBuckets } from './token-bucket.ts';

export type ChatNodeOptions = {
  nodeId: string;
  limits?: Partial<NodeLimits>;
  /** Publish bus events for other nodes; off for a single node. */
  publishes?: boolean;
};

type Phase = 'hello' | 'verifying' | 'open' | 'closing';

type Conn = {
  id: ConnId;
  phase: Phase;
  user: UserId;
  /** The user's record, from the welcome on (null before). */
  record: UserRecord | null;
  device: string;
  admin: boolean;
  badFrames: number;
  /** Its row in `connBuckets` once open (-1 before). */
  bucket: number;
  /** Frames that arrived while the hello's token was being verified. */
  queued: Input[] | null;
  resume: Record<string, number> | undefined;
  watching: SmallSet<UserId> | null;
  pendingAppends: number;
  /** Member-only frames waiting for the store's membership before a refusal (a fleet node). */
  rechecks: number;
};

/**
 * One user as this node knows them: made when first named (a connection, a membership) and kept while
 * the node runs, as presence keeps its entry. One lookup finds all of it, a connection holds its user's,
 * and a conversation its members' (fan-out reads their connections with no lookup at all).
 */
type UserRecord = UserConns & {
  /** Conversations the user is a current member of. */
  convs: SmallSet<string> | null;
  /**
   * Conversations the user was removed from. They stay readable up to the removal, so a device that
   * was away for the whole membership must still learn of them (in `welcome`).
   */
  pastConvs: SmallSet<string> | null;
  /** The user's row in `sendBuckets` (-1 until the first send). */
  sends: number;
};

/** Frames only a member may send, that a fleet node reads the store's membership for before refusing. */
type MemberFrame = Extract<ClientFrame, { t: 'send' | 'sync' | 'delivered' | 'read' | 'typing' }>;

type Pending =
  | {
      kind: 'append';
      conn: ConnId;
      from: UserId;
      cmid: string;
      conv: string;
      body: string;
      startedAt: number;
    }
  /** Reading back a message to push it (a duplicate this node had never seen sequenced). */
  | { kind: 'repush'; conv: string; seq: number }
  | { kind: 'read'; conn: ConnId; conv: string; user: UserId; window: ReadWindow; limit: number }
  | { kind: 'cursor'; conn: ConnId; conv: string; user: UserId; cursor: 'delivered' | 'read' }
  /** Reading seqs this node missed (`after` < seq <= `through`) to push them. */
  | { kind: 'fill'; conv: string; after: number; through: number }
  /** Reading every conversation's record after the bus was lost; `busLosses` when it was asked. */
  | { kind: 'catch-up'; busLosses: number }
  /** Reading one conversation's record before pushes held for a newer membership (`sequenced`). */
  | { kind: 'members'; conv: string }
  /** Reading a user's conversation records before its welcome (a fleet node; see `startWelcome`): `convs`, those read. */
  | { kind: 'welcome'; conn: ConnId; claims: Claims; convs: readonly string[] }
  /** Reading one conversation's record before refusing a member-only frame (`recheckBeforeRefusing`). */
  | { kind: 'recheck'; conn: ConnId; frame: MemberFrame }
  | HttpPending;

export class ChatNode {
  readonly nodeId: string;
  readonly limits: NodeLimits;
  readonly stats = new NodeStats();
  private readonly publishes: boolean;
  private readonly conns = new Map<ConnId, Conn>();
  private readonly users = new Map<UserId, UserRecord>();
  /** Frames per connection. */
  private readonly connBuckets: TokenBuckets;
  /** Sends per user. */
  private readonly sendBuckets: TokenBuckets;
  private readonly convs = new Map<string, Conversation>();
  /**
   * Bus messages and receipts of conversations this node has not heard of yet, replayed once it has
   * (`applyRecord`): publishers are not ordered with each other, so a message sequenced through one
   * node may come before the create published by another, whose record says lastSeq 0.
   */
  private readonly earlyEvents = new Map<string, BusEvent[]>();
  /** The frame being dispatched again after its recheck: refused now by what the store said. */
  private rechecking: MemberFrame | null = null;
  private readonly presence = new Presence();
  private readonly pending = new Map<number, Pending>();
  private readonly timers = new TimerQueue();
  private nextOpId = 1;
  private announcedWake = Number.POSITIVE_INFINITY;
  private draining: { reconnectInMs: number } | null = null;
  private drainedSent = false;
  private out: Effect[] = [];
  /** The `now` of the input being handled, for timers scheduled deep in a transition. */
  private now = 0;
  /** `bus-lost` inputs so far: a catch-up read asked before the latest loss may miss events. */
  private busLosses = 0;
  private busUp = true;
  /**
   * The bus was lost and no catch-up asked since it came back has been applied yet: cursors here may
   * be behind receipts other nodes already sent. A welcome carries cursors, so it waits (in
   * `heldWelcomes`) until the node is fresh again; a client must never see a cursor move back.
   */
  private stale = false;
  private readonly heldWelcomes = new Map<ConnId, Claims>();
  /** Reads answered under a membership this node has not heard of, by conversation (`readDone`). */
  private readonly heldReads = new Map<
    string,
    { pending: Pending & { kind: 'read' }; outcome: StoreOutcome }[]
  >();

  constructor(options: ChatNodeOptions) {
    this.nodeId = options.nodeId;
    this.limits = { ...defaultLimits, ...options.limits };
    this.publishes = options.publishes ?? false;
    this.connBuckets = new TokenBuckets(this.limits.connFramesPerSec, this.limits.connFrameBurst);
    this.sendBuckets = new TokenBuckets(this.limits.userSendsPerSec, this.limits.userSendBurst);
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  get pendingStoreOps(): number {
    return this.pending.size;
  }

  /**
   * Announces this node to the others (a no-op for a single node): they forget the connections it had
   * before a restart and send their own, so its presence view starts complete. Called once the bus is
   * subscribed. The records `load` took were read before that, and pub/sub keeps nothing for a node not
   * yet subscribed: a conversation created, a membership changed or a cursor moved in between was never
   * heard (swarm seed 16320581645988: a restarted node's receipts stayed behind a cursor move made in
   * that window). A fleet node reads every record again now, and holds welcomes until it has.
   */
  start(now: number): Effect[] {
    this.out = [];
    this.setNow(now);
    this.publish({ kind: 'node-up', origin: this.nodeId });
    if (this.publishes) {
      this.stale = true;
      this.catchUp();
    }
    return this.finish(now);
  }

  /** Seeds the conversation cache from the store; call once before the first input. */
  load(records: readonly ConversationRecord[]): void {
    for (const record of records) this.applyRecord(record, true);
  }

  handle(input: Input, now: number): Effect[] {
    this.out = [];
    this.setNow(now);
    switch (input.type) {
      case 'open':
        this.open(input.conn, now);
        break;
      case 'text':
      case 'frame':
      case 'binary':
        this.frame(input, now);
        break;
      case 'gone':
        this.gone(input.conn, now);
        break;
      case 'verified':
        this.verified(input.conn, input.claims, input.reason, now);
        break;
      case 'stored':
        this.stored(input.id, input.outcome, now);
        break;
      case 'backpressure':
        this.backpressure(input.conn, input.bufferedBytes);
        break;
      case 'bus':
        this.bus(input.event);
        break;
      case 'http':
        handleHttp(this.httpContext(this.readsRecordBeforeRefusing()), input.req, input.request);
        break;
      case 'drain':
        this.drain(input.reconnectInMs, now);
        break;
      case 'bus-lost':
        this.busLosses++;
        this.busUp = false;
        this.stale = true;
        break;
      case 'bus-resumed':
        this.busUp = true;
        this.catchUp();
        this.publishSnapshot(true);
        break;
      case 'presence-resync':
        this.publishSnapshot(true);
        break;
    }
    return this.finish(now);
  }

  tick(now: number): Effect[] {
    this.out = [];
    this.setNow(now);
    for (let timer = this.timers.popDue(now); timer; timer = this.timers.popDue(now)) {
      if (timer.kind === 'hello') {
        const conn = this.conns.get(timer.key as ConnId);
        // Only a hello that never came is late. One that came in time and is still being verified (a
        // busy node's verifications queue) or whose welcome is held is not: the verifier answers every
        // `verify` effect, and the client gives up a hello never welcomed.
        if (conn?.phase === 'hello') this.close(conn, CloseCode.helloTimeout, 'no hello in time');
      } else if (timer.kind === 'notify') {
        this.flushNotify(timer.key as string);
      } else if (timer.kind === 'gap') {
        this.fillGap(timer.key as string);
      } else if (timer.kind === 'catch-up') {
        this.catchUp();
      } else if (timer.kind === 'members') {
        const conv = this.convs.get(timer.key as string);
        if (conv?.heldPushes != null && !conv.membersReadPending) this.readMembers(conv);
      } else if (timer.kind === 'welcome') {
        const conn = this.conns.get(timer.key as ConnId);
        const claims = this.heldWelcomes.get(timer.key as ConnId);
        if (conn?.phase === 'verifying' && claims !== undefined && !this.stale)
          this.startWelcome(conn, claims, now);
      } else {
        for (const conn of this.conns.values())
          if (conn.phase !== 'closing') this.close(conn, CloseCode.restart, 'draining');
      }
    }
    return this.finish(now);
  }

  /**
   * Every input starts here: a clock set back moves the timers with it and asks for a new wake, and
   * starts every typing throttle over.
   */
  private setNow(now: number): void {
    this.now = now;
    if (this.timers.observe(now) > 0) {
      this.announcedWake = Number.POSITIVE_INFINITY;
      // A relay stamped before the step is that much ahead of the clock. Dropped only when a typing came
      // while it was still ahead, it shut the throttle for a whole interval once the clock caught up
      // with it: swarm seed 9922582111316, a +5 s offset healed and typings 6 s after the last relay
      // (by the clock now) held back as 1.0-1.4 s after it. Steps are rare; a walk of the conversations is fine.
      for (const conv of this.convs.values()) conv.typingRelayedAt = null;
    }
  }

  private finish(now: number): Effect[] {
    const next = this.timers.peekAt();
    if (next !== undefined && (next < this.announcedWake || this.announcedWake <= now)) {
      this.announcedWake = next;
      this.out.push({ type: 'wake', at: next });
    }
    if (this.draining && !this.drainedSent && this.conns.size === 0 && this.pending.size === 0) {
      this.drainedSent = true;
      this.out.push({ type: 'drained' });
    }
    return this.out;
  }

  // ---- effects ------------------------------------------------------------------------------

  private send(to: readonly ConnId[], frame: ServerFrame): void {
    if (to.length === 0) return;
    this.stats.countOut(frame.t, to.length);
    this.out.push({ type: 'send', to, frame });
  }

  /** `conv` (v1.1): the conversation the failed frame was about, so a client can retry it at once. */
  private err(
    conn: ConnId,
    code: string,
    message: string,
    ref?: string,
    retryAfterMs?: number,
    conv?: string,
  ): void {
    const frame: ServerFrame = { t: 'err', code, message };
    if (ref !== undefined) frame.ref = ref;
    if (retryAfterMs !== undefined) frame.retryAfterMs = retryAfterMs;
    if (conv !== undefined) frame.conv = conv;
    this.send([conn], frame);
  }

  private close(conn: Conn, code: number, reason: string): void {
    if (conn.phase === 'closing') return;
    conn.phase = 'closing';
    this.out.push({ type: 'close', conn: conn.id, code, reason });
  }

  private storeOp(op: StoreOp, pending: Pending): void {
    const id = this.nextOpId++;
    this.pending.set(id, pending);
    this.out.push({ type: 'store', id, op });
  }

  private publish(event: BusEvent): void {
    if (this.publishes) this.out.push({ type: 'publish', event });
  }

  // ---- connection lifecycle -----------------------------------------------------------------

  private open(id: ConnId, now: number): void {
    const conn: Conn = {
      id,
      phase: 'hello',
      user: '',
      record: null,
      device: '',
      admin: false,
      badFrames: 0,
      bucket: -1,
      queued: null,
      resume: undefined,
      watching: null,
      pendingAppends: 0,
      rechecks: 0,
    };
    this.conns.set(id, conn);
    this.stats.connections = this.conns.size;
    this.timers.push(now + this.limits.helloTimeoutMs, 'hello', id);
  }

  private frame(input: Input & { type: 'text' | 'frame' | 'binary' }, now: number): void {
    const conn = this.conns.get(input.conn);
    if (conn === undefined || conn.phase === 'closing') return;
    if (conn.phase === 'verifying') {
      conn.queued ??= [];
      if (conn.queued.length >= this.limits.framesWhileVerifyingMax)
        this.close(conn, CloseCode.tooManyBadFrames, 'too many frames before welcome');
      else conn.queued.push(input);
      return;
    }
    if (input.type === 'text' && input.text.length > protocolLimits.frameBytesMax) {
      this.close(conn, CloseCode.frameTooBig, 'frame too big');
      return;
    }
    const verdict: FrameVerdict =
      input.type === 'binary'
        ? { ok: false, code: 'bad_request', message: 'binary frames are not part of the protocol' }
        : input.type === 'text'
          ? decodeFrame(input.text)
          : validateFrame(input.value);
    if (conn.phase === 'hello') {
      if (!verdict.ok || verdict.frame.t !== 'hello') {
        this.close(conn, CloseCode.unauthorized, 'the first frame must be a valid hello');
        return;
      }
      this.stats.countIn('hello');
      conn.phase = 'verifying';
      conn.device = verdict.frame.device ?? '';
      conn.resume = verdict.frame.resume;
      this.out.push({ type: 'verify', conn: conn.id, token: verdict.frame.token });
      return;
    }
    if (!verdict.ok) {
      this.stats.badFrames++;
      if (verdict.code === 'bad_request' && ++conn.badFrames > this.limits.badFramesMax) {
        this.close(conn, CloseCode.tooManyBadFrames, 'too many bad frames');
        return;
      }
      this.err(conn.id, verdict.code, verdict.message, verdict.ref);
      return;
    }
    const frame = verdict.frame;
    this.stats.countIn(frame.t);
    const wait = this.connBuckets.take(conn.bucket, now);
    if (wait > 0) {
      if (frame.t === 'send') this.stats.rateLimitedSends++;
      this.err(
        conn.id,
        ErrorCode.rateLimited,
        'too many frames on this connection',
        refOf(frame),
        wait,
        'conv' in frame ? frame.conv : undefined,
      );
      return;
    }
    this.dispatch(conn, frame, now);
  }

  private dispatch(conn: Conn, frame: ClientFrame, now: number): void {
    switch (frame.t) {
      case 'hello':
        this.bad(conn, 'hello was already received', 'hello');
        return;
      case 'send':
        this.sendFrame(conn, frame.conv, frame.cmid, frame.body, now, frame);
        return;
      case 'sync':
        this.syncFrame(conn, frame);
        return;
      case 'delivered':
      case 'read':
        this.cursorFrame(conn, frame);
        return;
      case 'typing':
        this.typingFrame(conn, frame, now);
        return;
      case 'watch':
        this.watchFrame(conn, frame.users);
        return;
    }
  }

  private bad(conn: Conn, message: string, ref: string): void {
    this.stats.badFrames++;
    if (++conn.badFrames > this.limits.badFramesMax)
      this.close(conn, CloseCode.tooManyBadFrames, 'too many bad frames');
    else this.err(conn.id, ErrorCode.badRequest, message, ref);
  }

  private verified(id: ConnId, claims: Claims | null, reason: string | undefined, now: number): void {
    const conn = this.conns.get(id);
    if (conn === undefined || conn.phase !== 'verifying') return;
    if (claims === null) {
      this.close(conn, CloseCode.unauthorized, reason ?? 'invalid token');
      return;
    }
    this.heldWelcomes.set(id, claims);
    if (!this.stale) this.startWelcome(conn, claims, now);
  }

  /**
   * A fleet node reads the user's conversation records from the store before the welcome: its own
   * cursors lag behind other nodes' by the bus, and a device that saw a receipt on another node just
   * before moving here must not see the cursor back (the receipt was sent once durable, so this read,
   * made after the hello, sees it). A single node is the only writer: its memory is the truth.
   */
  private startWelcome(conn: Conn, claims: Claims, now: number): void {
    // A single node asks nothing of the store: the list is made only for a fleet node's read.
    const convs = this.publishes ? this.welcomeConvs(claims.sub) : [];
    if (convs.length === 0) {
      this.heldWelcomes.delete(conn.id);
      this.openSession(conn, claims, now);
      return;
    }
    this.storeOp({ kind: 'records', convs }, { kind: 'welcome', conn: conn.id, claims, convs });
  }

  /** The conversations a welcome to `user` lists: those it is a member of, then those it was. */
  private welcomeConvs(user: UserId): string[] {
    const record = this.users.get(user);
    return [...smallSetValues(record?.convs ?? null), ...smallSetValues(record?.pastConvs ?? null)];
  }

  private welcomeRead(pending: Pending & { kind: 'welcome' }, outcome: StoreOutcome, now: number): void {
    const conn = this.conns.get(pending.conn);
    if (conn === undefined || conn.phase !== 'verifying' || !this.heldWelcomes.has(conn.id)) return;
    if (outcome.status !== 'ok' || !('records' in outcome)) {
      // The store is away: the connection waits (its client's connect timeout bounds that).
      this.timers.push(now + this.limits.catchUpRetryMs, 'welcome', conn.id);
      return;
    }
    for (const record of outcome.records) this.applyRecord(record);
    if (this.stale) return; // Released (and read again) once the node has caught up.
    // A conversation this node learned of while the read was out (the bus's create or membership
    // event) is listed too, and this node's view of it may lag the acks made before the hello (its
    // messages' bus events not here yet): it is read as well before the welcome gives its lastSeq.
    const read = new Set(pending.convs);
    const unread = this.welcomeConvs(pending.claims.sub).filter((id) => !read.has(id));
    if (unread.length > 0) {
      this.storeOp({ kind: 'records', convs: unread }, { ...pending, convs: [...pending.convs, ...unread] });
      return;
    }
    this.heldWelcomes.delete(conn.id);
    this.openSession(conn, pending.claims, now);
  }

  /** Welcomes the connections held while the node was stale (those still waiting). */
  private releaseWelcomes(now: number): void {
    for (const [id, claims] of [...this.heldWelcomes]) {
      const conn = this.conns.get(id);
      if (conn !== undefined && conn.phase === 'verifying') this.startWelcome(conn, claims, now);
      else this.heldWelcomes.delete(id);
    }
  }

  private openSession(conn: Conn, claims: Claims, now: number): void {
    const record = this.recordOf(claims.sub);
    conn.phase = 'open';
    // The record's string: the claims' is a fresh copy per token, and every comparison with it would
    // compare characters.
    conn.user = record.id;
    conn.record = record;
    conn.admin = claims.admin;
    conn.bucket = this.connBuckets.add(now);
    // A user's one connection is its id, more a small set (an array grown from empty by push reserves
    // 17 slots, and an array of one is 56 bytes: 5.3 MiB of 100,000 users' in `million`, docs/benchmarks.md).
    record.conns = smallSetAdd(record.conns, conn.id);
    this.presenceChanged(this.presence.connected(conn.user), conn.user);
    this.send([conn.id], this.welcome(conn));
    if (this.draining) {
      this.send([conn.id], { t: 'drain', reconnectInMs: this.draining.reconnectInMs });
      this.close(conn, CloseCode.restart, 'draining');
      return;
    }
    if (conn.resume) this.resume(conn, conn.resume);
    conn.resume = undefined;
    const queued = conn.queued;
    conn.queued = null;
    if (queued) for (const input of queued) this.handleQueued(input, now);
  }

  private handleQueued(input: Input, now: number): void {
    if (input.type === 'text' || input.type === 'frame' || input.type === 'binary') this.frame(input, now);
  }

  private welcome(conn: Conn): ServerFrame {
    const convs: ConvSummary[] = [];
    const record = conn.record!;
    for (const id of smallSetValues(record.convs)) {
      const conv = this.convs.get(id)!;
      const cursors = conv.cursorOf(conn.user);
      convs.push({ conv: id, lastSeq: conv.lastSeq, delivered: cursors.delivered, read: cursors.read });
    }
    for (const id of smallSetValues(record.pastConvs)) {
      const conv = this.convs.get(id)!;
      const horizon = conv.readWindow(conn.user, 0)?.horizon ?? 0;
      const cursors = conv.cursorOf(conn.user);
      convs.push({
        conv: id,
        lastSeq: Math.min(conv.lastSeq, horizon),
        delivered: cursors.delivered,
        read: cursors.read,
        member: false,
      });
    }
    return {
      t: 'welcome',
      user: conn.user,
      conn: `${this.nodeId}:${conn.id}`,
      node: this.nodeId,
      heartbeatMs: this.limits.heartbeatMs,
      convs,
    };
  }

  private resume(conn: Conn, resume: Record<string, number>): void {
    for (const [id, held] of Object.entries(resume)) {
      const readable = this.readableFrom(conn, id, held, 'hello');
      if (readable === null) continue;
      const { conv, window } = readable;
      if (Math.min(conv.lastSeq, window.upper) > window.after || window.nextSpanFrom !== null)
        this.readFor(conn, conv, window, protocolLimits.syncLimitMax);
    }
  }

  private gone(id: ConnId, now: number): void {
    const conn = this.conns.get(id);
    if (conn === undefined) return;
    this.conns.delete(id);
    this.heldWelcomes.delete(id);
    this.stats.connections = this.conns.size;
    if (conn.record === null) return;
    this.connBuckets.release(conn.bucket);
    const conns = smallSetDelete(conn.record.conns, id);
    conn.record.conns = smallSetSize(conns) === 0 ? null : conns;
    for (const user of smallSetValues(conn.watching)) this.presence.unwatch(id, user);
    this.connectionGone(conn.user, now);
  }

  /** Presence learns that one of `user`'s connections went (offline once the last one has). */
  protected connectionGone(user: UserId, now: number): void {
    this.presenceChanged(this.presence.disconnected(user, now), user);
  }

  private backpressure(id: ConnId, bufferedBytes: number): void {
    const conn = this.conns.get(id);
    if (conn === undefined || bufferedBytes <= this.limits.sendBufferBytesMax) return;
    if (conn.phase !== 'closing') this.stats.slowConsumerCloses++;
    this.close(conn, CloseCode.slowConsumer, 'slow consumer: send buffer over its bound');
  }

  private drain(reconnectInMs: number, now: number): void {
    if (this.draining) return;
    this.draining = { reconnectInMs };
    this.timers.push(now + this.limits.drainTimeoutMs, 'drain', 0);
    for (const conn of this.conns.values()) {
      if (conn.phase === 'open') {
        this.send([conn.id], { t: 'drain', reconnectInMs });
        if (conn.pendingAppends === 0) this.close(conn, CloseCode.restart, 'draining');
      } else this.close(conn, CloseCode.restart, 'draining');
    }
  }

  // ---- frames -------------------------------------------------------------------------------

  /** The conversation when this node knows it, else a `not_found` err and null. */
  private knownConv(conn: Conn, convId: string, ref: string): Conversation | null {
    const conv = this.convs.get(convId);
    if (conv === undefined)
      this.err(conn.id, ErrorCode.notFound, `no conversation ${convId}`, ref, undefined, convId);
    return conv ?? null;
  }

  /**
   * A fleet node's membership lags the store's by the bus: a user added through another node may act
   * here before the `conversation` event comes. So before refusing a member-only frame by what it
   * knows, a fleet node reads the conversation's record from the store and decides again (churn seed 1:
   * u141, added to g11 through n1, had its `sync` refused by n2 17 ms after the add was answered).
   * True when the frame waits for that read. A single node is the only writer: its memory is the truth.
   */
  private recheckBeforeRefusing(conn: Conn, frame: MemberFrame | undefined): boolean {
    if (frame === undefined || !this.readsRecordBeforeRefusing() || this.rechecking === frame) return false;
    if (conn.rechecks >= coreLimits.rechecksPerConnMax) return false;
    conn.rechecks++;
    this.storeOp({ kind: 'records', convs: [frame.conv] }, { kind: 'recheck', conn: conn.id, frame });
    return true;
  }

  /**
   * Whether this node's view may lag the store's, so that a refusal by it must be checked against the
   * store's record first (a frame rechecked, a send left for the store to decide, an HTTP request read
   * again): a fleet node's. A single node is the only writer: its memory is the truth.
   */
  protected readsRecordBeforeRefusing(): boolean {
    return this.publishes;
  }

  private rechecked(pending: Pending & { kind: 'recheck' }, outcome: StoreOutcome, now: number): void {
    const conn = this.conns.get(pending.conn);
    if (conn === undefined) return;
    conn.rechecks--;
    if (conn.phase !== 'open') return;
    const { frame } = pending;
    if (outcome.status !== 'ok' || !('records' in outcome)) {
      this.err(conn.id, ErrorCode.unavailable, 'the store is unavailable', frame.t, undefined, frame.conv);
      return;
    }
    for (const record of outcome.records) this.applyRecord(record);
    this.rechecking = frame;
    this.dispatch(conn, frame, now);
    this.rechecking = null;
  }

  /**
   * The conversation when `conn`'s user is a current member (as this node knows), else an `err` and
   * null; or null with `frame` waiting for the store's record (`recheckBeforeRefusing`).
   */
  private memberConv(conn: Conn, convId: string, ref: string, frame?: MemberFrame): Conversation | null {
    if (this.convs.get(convId)?.isMember(conn.user) !== true && this.recheckBeforeRefusing(conn, frame))
      return null;
    const conv = this.knownConv(conn, convId, ref);
    if (conv === null) return null;
    if (!conv.isMember(conn.user)) {
      this.err(conn.id, ErrorCode.forbidden, `not a member of ${convId}`, ref, undefined, convId);
      return null;
    }
    return conv;
  }

  private sendFrame(
    conn: Conn,
    convId: string,
    cmid: string,
    body: string,
    now: number,
    frame?: MemberFrame,
  ): void {
    // A fleet node's membership lags the store's by the bus: a user added through another node may send
    // here before the `conversation` event comes. The store checks membership on every append (its
    // contract), so a fleet node lets it decide; a single node is the only writer, its memory the truth.
    // (churn with a slow bus, seed 1: u141, added to g11 through n1, was refused by n2 190 ms after the
    // add was answered.) A conversation created through another node may be unknown here altogether:
    // the record is read before refusing (churn seed 1 at 150 clients, with conversations created over
    // HTTP: a member of hg0 was refused not_found by n2 17 ms after n1 answered the create 201).
    if (
      this.readsRecordBeforeRefusing() &&
      !this.convs.has(convId) &&
      this.recheckBeforeRefusing(conn, frame)
    )
      return;
    const conv = this.readsRecordBeforeRefusing()
      ? this.knownConv(conn, convId, cmid)
      : this.memberConv(conn, convId, cmid);
    if (conv === null) return;
    if (this.draining) {
      this.err(
        conn.id,
        ErrorCode.unavailable,
        'node is draining: reconnect and resend',
        cmid,
        this.draining.reconnectInMs,
        convId,
      );
      return;
    }
    const record = conn.record!;
    if (record.sends < 0) record.sends = this.sendBuckets.add(now);
    const wait = this.sendBuckets.take(record.sends, now);
    if (wait > 0) {
      this.stats.rateLimitedSends++;
      this.err(
        conn.id,
        ErrorCode.rateLimited,
        'too many sends: retry later with the same cmid',
        cmid,
        wait,
        convId,
      );
      return;
    }
    conn.pendingAppends++;
    this.storeOp(
      { kind: 'append', request: { conv: convId, from: conn.user, cmid, body, ts: now } },
      { kind: 'append', conn: conn.id, from: conn.user, cmid, conv: convId, body, startedAt: now },
    );
  }

  private syncFrame(conn: Conn, frame: MemberFrame & { t: 'sync' }): void {
    const readable = this.readableFrom(conn, frame.conv, frame.after, 'sync', frame);
    if (readable !== null)
      this.readFor(conn, readable.conv, readable.window, frame.limit ?? protocolLimits.syncLimitMax);
  }

  /** What `conn`'s user may read of a conversation after `after`, else an `err` (sync, resume) and null. */
  private readableFrom(
    conn: Conn,
    convId: string,
    after: number,
    ref: string,
    frame?: MemberFrame,
  ): { conv: Conversation; window: ReadWindow } | null {
    const conv = this.convs.get(convId);
    const window = conv === undefined ? null : this.readWindowOf(conv, conn.user, after);
    if (window === null && this.recheckBeforeRefusing(conn, frame)) return null;
    if (conv === undefined) {
      this.err(conn.id, ErrorCode.notFound, `no conversation ${convId}`, ref, undefined, convId);
      return null;
    }
    if (window === null) {
      this.err(conn.id, ErrorCode.forbidden, `not a member of ${convId}`, ref, undefined, convId);
      return null;
    }
    return { conv, window };
  }

  /**
   * What `user` may read of `conv` after `after` on a sync or a resume; null refuses it. A decision the
   * core exposes so a test can build a node that decides it wrongly (as buggy-chat-node.ts does others).
   */
  protected readWindowOf(conv: Conversation, user: UserId, after: number): ReadWindow | null {
    return conv.readWindow(user, after);
  }

  private readFor(conn: Conn, conv: Conversation, window: ReadWindow, limit: number): void {
    this.storeOp(
      { kind: 'read', request: { conv: conv.id, after: window.after, limit } },
      { kind: 'read', conn: conn.id, conv: conv.id, user: conn.user, window, limit },
    );
  }

  private cursorFrame(conn: Conn, frame: MemberFrame & { t: 'delivered' | 'read' }): void {
    const { t: kind, conv: convId, seq } = frame;
    const conv = this.memberConv(conn, convId, kind, frame);
    if (conv === null) return;
    if (seq <= conv.cursorOf(conn.user)[kind]) {
      if (seq < conv.cursorOf(conn.user)[kind]) this.cursorBehind(conv, conn.user, kind, seq, conn.id);
      return;
    }
    // The store clamps the cursor to its lastSeq (protocol.md guarantee 7), not this node: its lastSeq
    // may lag the store's, behind a seq the device read from the store (a sync, a resume) whose bus
    // event has not come, and clamping to it would tell the members less than the device holds.
    this.storeOp(
      { kind: 'cursor', request: { conv: convId, user: conn.user, kind, seq } },
      { kind: 'cursor', conn: conn.id, conv: convId, user: conn.user, cursor: kind },
    );
  }

  /** A cursor frame behind the cursor: cursors never move back, so it changes nothing. */
  protected cursorBehind(
    _conv: Conversation,
    _user: UserId,
    _kind: 'delivered' | 'read',
    _target: number,
    _from: ConnId,
  ): void {}

  private typingFrame(conn: Conn, frame: MemberFrame & { t: 'typing' }, now: number): void {
    const { conv: convId, on } = frame;
    const conv = this.memberConv(conn, convId, 'typing', frame);
    if (conv === null) return;
    const last = conv.typingRelayedAt?.get(conn.user);
    // A clock set back since the last relay started the throttle over (setNow), so no relay is ahead of now.
    if (last !== undefined && now - last < this.limits.typingThrottleMs) return;
    conv.typingRelayedAt ??= new Map();
    conv.typingRelayedAt.set(conn.user, now);
    this.relayTyping(conv, conn.user, on);
    this.publish({ kind: 'typing', origin: this.nodeId, conv: convId, user: conn.user, on });
  }

  private relayTyping(conv: Conversation, user: UserId, on: boolean): void {
    const to = memberConnections(conv, this.connIndex, user);
    this.send(to, { t: 'typing', conv: conv.id, user, on, ttlMs: this.limits.typingTtlMs });
  }

  private watchFrame(conn: Conn, users: string[]): void {
    for (const user of users) {
      if (
        !smallSetHas(conn.watching, user) &&
        smallSetSize(conn.watching) >= this.limits.watchedUsersPerConnMax
      ) {
        this.bad(conn, `a connection may watch at most ${this.limits.watchedUsersPerConnMax} users`, 'watch');
        return;
      }
      conn.watching = smallSetAdd(conn.watching, user);
      const state = this.presence.watch(conn.id, user);
      this.send([conn.id], { t: 'presence', user, online: state.online, lastSeen: state.lastSeen });
    }
  }

  private tellWatchers(change: PresenceChange): void {
    const to = change.watchers.filter((id) => this.conns.get(id)?.phase === 'open');
    this.send(to, { t: 'presence', user: change.user, online: change.online, lastSeen: change.lastSeen });
  }

  private presenceChanged(change: PresenceChange | null, user: UserId): void {
    if (change !== null) this.tellWatchers(change);
    this.publish({
      kind: 'presence',
      origin: this.nodeId,
      user,
      connections: this.presence.localConnections(user),
      lastSeen: this.presence.lastSeen(user),
    });
  }

  // ---- store results ------------------------------------------------------------------------

  private stored(id: number, outcome: StoreOutcome, now: number): void {
    const pending = this.pending.get(id);
    if (pending === undefined) return;
    this.pending.delete(id);
    if (outcome.status === 'unavailable') this.stats.storeUnavailable++;
    switch (pending.kind) {
      case 'append':
        this.appended(pending, outcome, now);
        return;
      case 'read':
        this.readDone(pending, outcome);
        return;
      case 'cursor':
        this.cursorDone(pending, outcome);
        return;
      case 'welcome':
        this.welcomeRead(pending, outcome, now);
        return;
      case 'recheck':
        this.rechecked(pending, outcome, now);
        return;
      case 'members':
        this.membersRead(pending, outcome);
        return;
      case 'fill':
        this.filled(pending, outcome);
        return;
      case 'catch-up':
        if (outcome.status === 'ok' && 'records' in outcome) {
          for (const record of outcome.records) this.applyRecord(record);
          // Fresh only if no loss happened since it was asked: a later loss may have dropped events.
          if (this.stale && this.busUp && pending.busLosses === this.busLosses) {
            this.stale = false;
            this.releaseWelcomes(now);
          }
        } else this.timers.push(this.now + this.limits.catchUpRetryMs, 'catch-up', 0);
        return;
      case 'repush': {
        const conv = this.convs.get(pending.conv);
        const message = outcome.status === 'ok' && 'messages' in outcome ? outcome.messages[0] : undefined;
        // Heard on the bus while the read was out: its sequencer told everyone after all.
        if (conv && message && message.seq === pending.seq && !conv.wasHeard(message.seq)) {
          // A gap fill pushed it here already: only the other nodes still lack it.
          if (!conv.wasPushed(message.seq)) this.sequenced(conv, message, null);
          // The node that sequenced it died, or lost the store's reply, before telling anyone: tell
          // the other nodes too.
          this.publish({ kind: 'msg', origin: this.nodeId, message });
          conv.markHeard(message.seq);
        }
        return;
      }
      default:
        httpStoreResult(this.httpContext(false), pending, outcome);
    }
  }

  private appended(pending: Pending & { kind: 'append' }, outcome: StoreOutcome, now: number): void {
    const conn = this.conns.get(pending.conn);
    if (conn) conn.pendingAppends--;
    const live = conn !== undefined && conn.phase !== 'closing';
    if (outcome.status === 'ok' && 'seq' in outcome && 'duplicate' in outcome) {
      if (live) {
        this.send([pending.conn], {
          t: 'ack',
          conv: pending.conv,
          cmid: pending.cmid,
          seq: outcome.seq,
          ts: outcome.ts,
        });
        this.stats.acks++;
        this.stats.ackLatencyMs.observe(now - pending.startedAt);
      }
      const conv = this.convs.get(pending.conv);
      if (conv && !outcome.duplicate) {
        const { conv: convId, from, cmid, body } = pending;
        const { membersVersion } = outcome;
        this.sequenced(
          conv,
          { conv: convId, seq: outcome.seq, from, cmid, body, ts: outcome.ts },
          live ? pending.conn : null,
          membersVersion,
        );
        this.publish({
          kind: 'msg',
          origin: this.nodeId,
          message: { conv: convId, seq: outcome.seq, from, cmid, body, ts: outcome.ts },
          ...(membersVersion === undefined ? {} : { membersVersion }),
        });
        conv.markHeard(outcome.seq);
      } else if (conv && (outcome.seq > conv.lastSeq || (this.publishes && !conv.wasHeard(outcome.seq)))) {
        // A duplicate past what this node has seen may never have been pushed (its first node died
        // between the durable write and the push, or lost the store's reply). Read the stored body back
        // and push that. So for one a fleet node knows only from the store: a record read (its sender's
        // welcome here) or a cursor taught it the seq, and its gap fill pushes to this node's devices
        // alone; if its first node never published it, no other node's devices would get it (found in
        // session 26 by a late window of lost store replies in fleet-races).
        this.storeOp(
          { kind: 'read', request: { conv: conv.id, after: outcome.seq - 1, limit: 1 } },
          { kind: 'repush', conv: conv.id, seq: outcome.seq },
        );
      }
    } else if (live) {
      const code =
        outcome.status === 'forbidden'
          ? ErrorCode.forbidden
          : outcome.status === 'not_found'
            ? ErrorCode.notFound
            : ErrorCode.unavailable;
      this.err(pending.conn, code, messageFor(code), pending.cmid, undefined, pending.conv);
    }
    if (this.draining && conn && conn.phase === 'open' && conn.pendingAppends === 0)
      this.close(conn, CloseCode.restart, 'draining');
  }

  /**
   * A message is durable at its seq: push it (small groups) or schedule a notify (large ones). With the
   * store's membership version at its decision newer than the one held here, a membership change made
   * through another node is not known here yet: pushes wait for the record (swarm seed 37885235734724:
   * u31, removed through n1 before seq 13 was decided, got 13 from n2, which had not heard of it).
   */
  private sequenced(
    conv: Conversation,
    message: Message,
    exclude: ConnId | null,
    membersVersion?: number,
  ): void {
    if (message.seq > conv.lastSeq) conv.lastSeq = message.seq;
    if (membersVersion !== undefined && membersVersion > conv.membersVersion) this.readMembers(conv);
    if (conv.heldPushes !== null) {
      conv.heldPushes.push({ message, exclude });
      return;
    }
    if (isLargeGroup(conv, this.limits.largeGroupThreshold)) {
      this.scheduleNotify(conv);
      return;
    }
    const to = this.pushRecipients(conv, message.seq, exclude);
    this.stats.fanoutDeliveries += to.length;
    this.send(to, { t: 'msg', ...message });
    conv.markPushed(message.seq);
    this.checkGap(conv);
  }

  /** Holds the conversation's pushes and reads its record (once at a time). */
  private readMembers(conv: Conversation): void {
    if (conv.heldPushes === null) conv.heldPushes = [];
    else if (conv.membersReadPending) return;
    conv.membersReadPending = true;
    this.storeOp({ kind: 'records', convs: [conv.id] }, { kind: 'members', conv: conv.id });
  }

  private membersRead(pending: Pending & { kind: 'members' }, outcome: StoreOutcome): void {
    const conv = this.convs.get(pending.conv);
    if (conv === undefined) return;
    conv.membersReadPending = false;
    if (outcome.status !== 'ok' || !('records' in outcome)) {
      // The store is away: the pushes wait (a device that reconnects meanwhile resumes from the store).
      this.timers.push(this.now + this.limits.catchUpRetryMs, 'members', conv.id);
      return;
    }
    for (const record of outcome.records) this.applyRecord(record);
    const reads = this.heldReads.get(conv.id) ?? [];
    this.heldReads.delete(conv.id);
    for (const read of reads) this.readDone(read.pending, read.outcome);
    const held = conv.heldPushes ?? [];
    conv.heldPushes = null;
    // A seq may be held twice (its bus event and a gap fill): push it once.
    const seqs = new Set<number>();
    for (const { message, exclude } of held) {
      if (seqs.has(message.seq)) continue;
      seqs.add(message.seq);
      this.sequenced(conv, message, exclude);
    }
    const receipts = conv.heldReceipts;
    conv.heldReceipts = [];
    // A cursor the record moved further was told already, when the record was taken: an older one now
    // would move it back for whoever heard that (cursors are cumulative).
    for (const r of receipts)
      if (r.seq >= conv.cursorOf(r.user)[r.kind]) this.sendReceipt(conv, r.user, r.kind, r.seq, r.skipConn);
  }

  /** A notify carries lastSeq, so it covers every seq up to it: a large group has no gaps to fill. */
  private scheduleNotify(conv: Conversation): void {
    conv.markPushedThrough(conv.lastSeq);
    if (conv.notifyScheduled) return;
    conv.notifyScheduled = true;
    this.timers.push(this.now + this.limits.notifyCoalesceMs, 'notify', conv.id);
  }

  // ---- catching up after lost bus events ----------------------------------------------------

  /**
   * lastSeq is past what this node pushed: a bus event is late (another node's) or lost. After a grace
   * the missing seqs are read from the store and pushed; pushes may repeat, clients drop duplicates.
   */
  private checkGap(conv: Conversation): void {
    if (!conv.behind || conv.gapCheckPending) return;
    conv.gapCheckPending = true;
    this.timers.push(this.now + this.limits.gapGraceMs, 'gap', conv.id);
  }

  private fillGap(convId: string): void {
    const conv = this.convs.get(convId);
    if (conv === undefined) return;
    conv.gapCheckPending = false;
    if (!conv.behind) return;
    if (isLargeGroup(conv, this.limits.largeGroupThreshold)) {
      // The notify covers the missed seqs without reading them: none of them was heard.
      if (this.publishes)
        for (
          let seq = Math.max(conv.pushedThrough, conv.lastSeq - coreLimits.unheardSeqsPerConvMax) + 1;
          seq <= conv.lastSeq;
          seq++
        )
          conv.markUnheard(seq);
      this.scheduleNotify(conv);
      return;
    }
    conv.gapCheckPending = true;
    const after = conv.pushedThrough;
    const through = Math.min(conv.lastSeq, after + protocolLimits.syncLimitMax);
    this.storeOp(
      { kind: 'read', request: { conv: convId, after, limit: through - after } },
      { kind: 'fill', conv: convId, after, through },
    );
  }

  private filled(pending: Pending & { kind: 'fill' }, outcome: StoreOutcome): void {
    const conv = this.convs.get(pending.conv);
    if (conv === undefined) return;
    conv.gapCheckPending = false;
    if (outcome.status !== 'ok' || !('messages' in outcome)) {
      // The store is away: look again later (not a hot loop while it stays away).
      conv.gapCheckPending = true;
      this.timers.push(this.now + this.limits.catchUpRetryMs, 'gap', conv.id);
      return;
    }
    for (const message of outcome.messages)
      if (message.seq > pending.after && message.seq <= pending.through && !conv.wasPushed(message.seq)) {
        this.stats.gapFillPushes++;
        this.sequenced(conv, message, null);
        if (this.publishes) conv.markUnheard(message.seq);
      }
    // What the read could not give, this node cannot push either: clients find it with sync. Counting
    // it as pushed guarantees progress.
    conv.markPushedThrough(Math.min(pending.through, outcome.lastSeq));
    this.checkGap(conv);
  }

  /** The bus was lost: read every conversation again (new ones, membership, lastSeq), then fill gaps. */
  private catchUp(): void {
    this.stats.catchUps++;
    this.storeOp({ kind: 'records' }, { kind: 'catch-up', busLosses: this.busLosses });
  }

  private publishSnapshot(ask: boolean): void {
    this.publish({
      kind: 'presence-snapshot',
      origin: this.nodeId,
      users: this.presence.localSnapshot(this.now, coreLimits.snapshotGoneWithinMs),
      ...(ask ? { ask } : {}),
    });
  }

  private readDone(pending: Pending & { kind: 'read' }, outcome: StoreOutcome): void {
    const conn = this.conns.get(pending.conn);
    if (conn === undefined || conn.phase !== 'open') return;
    if (outcome.status !== 'ok' || !('messages' in outcome)) {
      const code = outcome.status === 'not_found' ? ErrorCode.notFound : ErrorCode.unavailable;
      this.err(pending.conn, code, messageFor(code), 'sync', undefined, pending.conv);
      return;
    }
    const conv = this.convs.get(pending.conv);
    if (
      conv !== undefined &&
      outcome.membersVersion !== undefined &&
      outcome.membersVersion > conv.membersVersion
    ) {
      // Decided under a membership change this node has not heard of (made through another node): the
      // reader may have been removed. Served once the record is read, by the window it gives.
      const { membersVersion: _newer, ...served } = outcome;
      const held = this.heldReads.get(conv.id);
      if (held === undefined) this.heldReads.set(conv.id, [{ pending, outcome: served }]);
      else held.push({ pending, outcome: served });
      this.readMembers(conv);
      return;
    }
    this.send(
      [pending.conn],
      batchFrame(
        pending.conv,
        windowNow(this.convs.get(pending.conv), pending.user, pending.window),
        pending.limit,
        outcome.messages,
        outcome.lastSeq,
      ),
    );
  }

  private cursorDone(pending: Pending & { kind: 'cursor' }, outcome: StoreOutcome): void {
    if (outcome.status !== 'ok' || !('moved' in outcome)) {
      // A cursor frame has no answer when it works, so a refusal is always answered: `unavailable` to be
      // sent again, and the store's `forbidden` or `not_found` as a node that knew would have said it (a
      // user removed through another node, whose removal this node had not heard of).
      if (this.conns.get(pending.conn)?.phase === 'open') {
        const code =
          outcome.status === 'forbidden'
            ? ErrorCode.forbidden
            : outcome.status === 'not_found'
              ? ErrorCode.notFound
              : ErrorCode.unavailable;
        this.err(pending.conn, code, messageFor(code), pending.cursor, undefined, pending.conv);
      }
      return;
    }
    const conv = this.convs.get(pending.conv);
    if (conv === undefined) return;
    const advanced = this.advanceAndRelay(conv, pending.user, pending.cursor, outcome.seq, pending.conn);
    // A write that moved the store's cursor is published though this node's view had moved already:
    // a record it read meanwhile (someone's welcome) told only its own devices, and no other node's
    // write will publish this move.
    if (!advanced && !outcome.moved) return;
    this.publish({
      kind: 'receipt',
      origin: this.nodeId,
      conv: conv.id,
      user: pending.user,
      cursor: pending.cursor,
      seq: outcome.seq,
    });
  }

  /** Connections a pushed message goes to: members when it was sequenced who are members now. */
  protected pushRecipients(conv: Conversation, seq: number, exclude: ConnId | null): ConnId[] {
    return messageRecipients(conv, seq, this.connIndex, exclude);
  }

  /**
   * Moves a cursor this node heard of (its device's write, another node's bus receipt) and tells the
   * members; returns whether it moved. A receipt at a seq this node has not seen (the store clamps
   * cursors to its lastSeq, so the seq exists), or while its pushes wait for a newer membership, waits
   * for the record: this node's members may be stale there (swarm seed 81821908144667: u41, removed
   * through another node at seq 11, was told of read cursor 12 by n3, which had not heard of the removal).
   */
  private advanceAndRelay(
    conv: Conversation,
    user: UserId,
    kind: 'delivered' | 'read',
    seq: number,
    skipConn: ConnId | null,
  ): boolean {
    const unseen = seq > conv.lastSeq;
    if (!conv.advanceCursor(user, kind, seq)) return false;
    if (!unseen && conv.heldPushes === null) this.sendReceipt(conv, user, kind, seq, skipConn);
    else {
      conv.heldReceipts.push({ user, kind, seq, skipConn });
      this.readMembers(conv);
    }
    return true;
  }

  protected sendReceipt(
    conv: Conversation,
    user: UserId,
    kind: 'delivered' | 'read',
    seq: number,
    skipConn: ConnId | null,
  ): void {
    if (isLargeGroup(conv, this.limits.largeGroupThreshold)) return;
    // Only to members who may read that seq: a cursor before someone's join is news about messages
    // that are not theirs.
    this.send(messageRecipients(conv, seq, this.connIndex, skipConn), {
      t: 'receipt',
      conv: conv.id,
      user,
      kind,
      seq,
    });
  }

  // ---- fan-out ------------------------------------------------------------------------------

  protected readonly connIndex: ConnIndex = {
    connsOf: (user: UserId): Iterable<ConnId> | undefined => {
      const conns = this.users.get(user)?.conns ?? null;
      return conns === null ? undefined : smallSetValues(conns);
    },
    recordOf: (user: UserId): UserConns => this.recordOf(user),
  };

  /** The user's record, made on first mention. */
  private recordOf(user: UserId): UserRecord {
    let record = this.users.get(user);
    if (record === undefined) {
      record = { id: user, conns: null, convs: null, pastConvs: null, sends: -1 };
      this.users.set(user, record);
    }
    return record;
  }

  private flushNotify(convId: string): void {
    const conv = this.convs.get(convId);
    if (conv === undefined) return;
    conv.notifyScheduled = false;
    const to = memberConnections(conv, this.connIndex, null);
    this.stats.fanoutDeliveries += to.length;
    this.send(to, { t: 'notify', conv: convId, lastSeq: conv.lastSeq });
  }

  // ---- bus ----------------------------------------------------------------------------------

  private bus(event: BusEvent): void {
    if (event.origin === this.nodeId) return;
    switch (event.kind) {
      case 'msg': {
        const conv = this.convs.get(event.message.conv);
        if (conv) {
          this.sequenced(conv, event.message, null, event.membersVersion);
          conv.markHeard(event.message.seq);
        } else this.keepEarly(event.message.conv, event);
        return;
      }
      case 'conversation':
        this.applyRecord(event.conversation);
        return;
      case 'receipt': {
        const conv = this.convs.get(event.conv);
        // A cursor past what this node saw proves seqs it missed.
        if (conv === undefined) this.keepEarly(event.conv, event);
        else if (this.advanceAndRelay(conv, event.user, event.cursor, event.seq, null)) this.checkGap(conv);
        return;
      }
      case 'typing': {
        const conv = this.convs.get(event.conv);
        if (conv) this.relayTyping(conv, event.user, event.on);
        return;
      }
      case 'presence': {
        const change = this.presence.remote(event.origin, event.user, event.connections, event.lastSeen);
        if (change !== null) this.tellWatchers(change);
        return;
      }
      // A node that (re)started or died may have sequenced messages whose `msg` it never got out: a
      // publish still in its socket, or kept while it was cut from Redis, dies with the node. The
      // store has them; reading every record again finds those past what this node pushed.
      case 'node-up':
        for (const change of this.presence.forgetNode(event.origin, this.now)) this.tellWatchers(change);
        this.publishSnapshot(false);
        this.catchUp();
        return;
      case 'node-down':
        for (const change of this.presence.forgetNode(event.origin, this.now)) this.tellWatchers(change);
        this.catchUp();
        return;
      // A message whose `msg` was dropped is found by gap detection only when a later seq comes: the
      // last one of a quiet conversation would reach this node's members only when they resume.
      case 'events-dropped':
        this.catchUp();
        return;
      case 'presence-snapshot':
        for (const change of this.presence.replaceNode(event.origin, event.users, this.now))
          this.tellWatchers(change);
        if (event.ask) this.publishSnapshot(false);
        return;
    }
  }

  /** Keeps a bus event of a conversation not heard of yet; past the bound the oldest go (a gap fill reads them). */
  private keepEarly(convId: string, event: BusEvent): void {
    const kept = this.earlyEvents.get(convId) ?? [];
    this.earlyEvents.set(convId, kept);
    kept.push(event);
    if (kept.length > coreLimits.unheardSeqsPerConvMax) kept.shift();
  }

  // ---- conversations ------------------------------------------------------------------------

  /**
   * `loaded`: read at start, when this node owes no pushes for what is already there. A conversation
   * first heard of later may hold messages its members' devices on this node never got: all are owed.
   */
  private applyRecord(record: ConversationRecord, loaded = false): Conversation {
    let conv = this.convs.get(record.id);
    const before = conv ? [...conv.current.keys()] : [];
    if (conv === undefined) {
      conv = new Conversation(record.id, record.kind, loaded ? record.lastSeq : 0);
      this.convs.set(record.id, conv);
    }
    const moved = conv.takeRecord(record);
    if (!loaded) this.checkGap(conv);
    for (const user of before) {
      const member = this.users.get(user);
      if (member !== undefined && !conv.current.has(user))
        member.convs = smallSetDelete(member.convs, record.id);
    }
    for (const user of conv.current.keys()) {
      const member = this.recordOf(user);
      member.convs = smallSetAdd(member.convs, record.id);
      member.pastConvs = smallSetDelete(member.pastConvs, record.id);
    }
    for (const user of conv.pastMembers()) {
      const past = this.recordOf(user);
      past.pastConvs = smallSetAdd(past.pastConvs, record.id);
    }
    // protocol.md: a receipt goes to the members when a member's cursor moves forward, however this node
    // learns of it. A record read first (a catch-up, the read before someone's welcome) leaves the bus
    // receipt nothing to move (swarm seed 43242092515799, partition seed 3). Sent once the record's
    // membership is taken, to those it lets read that seq; at load no device is connected yet.
    for (const move of moved) this.sendReceipt(conv, move.user, move.kind, move.seq, null);
    const early = this.earlyEvents.get(record.id);
    this.earlyEvents.delete(record.id);
    for (const event of early ?? []) this.bus(event);
    return conv;
  }

  /** `recheck`: a refusal by this node's view reads the store's record first (a fleet node's first look). */
  private httpContext(recheck: boolean): HttpContext {
    return {
      convs: this.convs,
      recheck,
      reply: (req, status, body) => this.out.push({ type: 'reply', req, status, body }),
      storeOp: (op, pending) => this.storeOp(op, pending),
      applyRecord: (record) => {
        this.applyRecord(record);
        this.publish({ kind: 'conversation', origin: this.nodeId, conversation: record });
      },
      learnRecord: (record) => this.applyRecord(record),
      rehandle: (req, request) => handleHttp(this.httpContext(false), req, request),
    };
  }
}

function refOf(frame: ClientFrame): string {
  return frame.t === 'send' ? frame.cmid : frame.t;
}

function messageFor(code: string): string {
  switch (code) {
    case ErrorCode.forbidden:
      return 'not a member of this conversation';
    case ErrorCode.notFound:
      return 'no such conversation';
    default:
      return 'a dependency is unavailable: nothing was stored, retry with the same cmid';
  }
}

/** A `batch` for a read of `window`, clipped to what the reader may see. */
function batchFrame(
  conv: string,
  window: ReadWindow,
  limit: number,
  messages: readonly Message[],
  storeLastSeq: number,
): ServerFrame {
  return { t: 'batch', conv, ...readPage(window, limit, messages, storeLastSeq) };
}
