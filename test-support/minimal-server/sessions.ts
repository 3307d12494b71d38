// The WebSocket side of the minimal server: hello, the frames of protocol v1, pushes, receipts,
// typing, presence, heartbeats, slow consumers and drain. Every handler runs to completion in one tick
// (state change, journal append, outputs), so the journal's order is the order the server decided
// things in, and every output goes through the journal's gate: nothing leaves before what it shows is
// durable.

import type WebSocket from 'ws';
import { type ClientFrame, checkFrame, checkHello, parseFrame, type Refusal } from './frames.ts';
import type { Journal } from './journal.ts';
import { fixedLimits, type MinimalLimits } from './limits.ts';
import type { ChatState, Conversation, CursorKind, JournalRecord, Message } from './state.ts';
import { verifyToken } from './token.ts';

export type SessionOptions = {
  state: ChatState;
  journal: Journal;
  limits: MinimalLimits;
  secret: string;
  nodeId: string;
  closeTimeoutMs: number;
};

type Conn = {
  readonly id: string;
  readonly ws: WebSocket;
  user: string | null;
  badFrames: number;
  unansweredPings: number;
  /** No more input is handled (a close is on its way through the gate). */
  closing: boolean;
  /** No more output is written (the close frame went out, or the socket is gone). */
  closed: boolean;
  readonly watching: Set<string>;
  helloTimer: NodeJS.Timeout | null;
};

type Frame = { t: string } & Record<string, unknown>;

export class Sessions {
  readonly stats = { slowConsumerCloses: 0, messages: 0 };
  private readonly conns = new Set<Conn>();
  private readonly connsOf = new Map<string, Set<Conn>>();
  private readonly watchers = new Map<string, Set<Conn>>();
  private readonly lastSeen = new Map<string, number>();
  private readonly buckets = new Map<string, { tokens: number; atMs: number }>();
  private readonly typingRelayedAt = new Map<string, number>();
  private readonly notifyPending = new Set<string>();
  private readonly heartbeat: NodeJS.Timeout;
  private connCount = 0;
  private readonly connPrefix = Date.now().toString(36);

  constructor(private readonly o: SessionOptions) {
    this.heartbeat = setInterval(() => this.beat(), o.limits.heartbeatMs);
    this.heartbeat.unref();
  }

  get connectionCount(): number {
    return this.conns.size;
  }

  accept(ws: WebSocket): void {
    const conn: Conn = {
      id: `${this.connPrefix}-${++this.connCount}`,
      ws,
      user: null,
      badFrames: 0,
      unansweredPings: 0,
      closing: false,
      closed: false,
      watching: new Set(),
      helloTimer: null,
    };
    this.conns.add(conn);
    conn.helloTimer = setTimeout(() => {
      if (!conn.user) this.closeLater(conn, 4408, 'no hello in time');
    }, this.o.limits.helloTimeoutMs);
    ws.on('message', (data, isBinary) => this.receive(conn, data as Buffer, isBinary));
    ws.on('pong', () => {
      conn.unansweredPings = 0;
    });
    ws.on('error', () => {
      // ws closes the socket after an error (1009 for an oversized frame); 'close' cleans up.
    });
    ws.on('close', () => this.gone(conn));
  }

  /** Announces the drain to every connection and closes each with 1012; resolves when all are gone. */
  async drain(): Promise<void> {
    clearInterval(this.heartbeat);
    for (const conn of this.conns) {
      this.out(conn, { t: 'drain', reconnectInMs: this.o.limits.drainReconnectMs });
      this.closeLater(conn, 1012, 'restart');
    }
    const deadline = Date.now() + this.o.limits.drainTimeoutMs;
    while (this.conns.size > 0 && Date.now() < deadline) await new Promise((r) => setTimeout(r, 20));
    this.terminateAll();
  }

  terminateAll(): void {
    clearInterval(this.heartbeat);
    for (const conn of this.conns) conn.ws.terminate();
  }

  private receive(conn: Conn, data: Buffer, isBinary: boolean): void {
    if (conn.closing) return;
    if (!conn.user) return this.hello(conn, isBinary ? null : parseFrame(data.toString('utf8')));
    if (isBinary) return this.refuse(conn, { code: 'bad_request', message: 'binary frames are not v1' });
    const value = parseFrame(data.toString('utf8'));
    if (!value) return this.refuse(conn, { code: 'bad_request', message: 'not a JSON object with a t' });
    const frame = checkFrame(value);
    if ('code' in frame) return this.refuse(conn, frame);
    this.handle(conn, conn.user, frame);
  }

  private hello(conn: Conn, value: Record<string, unknown> | null): void {
    const hello = checkHello(value);
    if (!hello) return this.closeLater(conn, 4401, 'the first frame must be a hello');
    const claims = verifyToken(hello.token, this.o.secret, Date.now());
    if ('refused' in claims) return this.closeLater(conn, 4401, `unauthorized: ${claims.refused}`);
    const user = claims.user;
    conn.user = user;
    clearTimeout(conn.helloTimer!);
    const conns = setOf(this.connsOf, user);
    conns.add(conn);
    if (conns.size === 1) this.announcePresence(user);
    const convs = this.o.state.currentConvs(user).map((c) => ({
      conv: c.id,
      lastSeq: c.lastSeq,
      ...c.cursorsOf(user),
    }));
    const { heartbeatMs } = this.o.limits;
    this.out(conn, { t: 'welcome', user, conn: conn.id, node: this.o.nodeId, heartbeatMs, convs });
    for (const [id, held] of Object.entries(hello.resume ?? {})) {
      const c = this.o.state.get(id);
      if (!c?.mayRead(user)) continue;
      const page = c.readable(user, held, fixedLimits.syncLimitMax);
      if (page.msgs.length > 0) this.out(conn, { t: 'batch', conv: id, ...page, lastSeq: c.lastSeq });
    }
  }

  private handle(conn: Conn, user: string, frame: ClientFrame): void {
    if (frame.t === 'hello') return; // checkFrame refuses a second hello
    if (frame.t === 'watch') return this.watch(conn, frame.users);
    const c = this.o.state.get(frame.conv);
    const ref = frame.t === 'send' ? frame.cmid : frame.t;
    if (!c) return this.err(conn, 'not_found', `no conversation ${frame.conv}`, ref);
    switch (frame.t) {
      case 'send':
        return this.send(conn, user, c, frame.cmid, frame.body);
      case 'sync':
        if (!c.mayRead(user)) return this.err(conn, 'forbidden', `not a member of ${c.id}`, ref);
        return this.out(conn, {
          t: 'batch',
          conv: c.id,
          ...c.readable(user, frame.after, frame.limit),
          lastSeq: c.lastSeq,
        });
      case 'delivered':
      case 'read':
        if (!c.members.has(user)) return this.err(conn, 'forbidden', `not a member of ${c.id}`, ref);
        return this.cursor(conn, user, c, frame.t, frame.seq);
      case 'typing':
        if (!c.members.has(user)) return this.err(conn, 'forbidden', `not a member of ${c.id}`, ref);
        return this.typing(user, c, frame.on);
    }
  }

  private send(conn: Conn, user: string, c: Conversation, cmid: string, body: string): void {
    const known = c.seqOf(user, cmid);
    if (known !== undefined) {
      const { seq, ts } = c.messages[known - 1]!;
      return this.out(conn, { t: 'ack', conv: c.id, cmid, seq, ts });
    }
    if (!c.members.has(user)) return this.err(conn, 'forbidden', `not a member of ${c.id}`, cmid);
    const retryAfterMs = this.takeToken(user);
    if (retryAfterMs > 0)
      return this.out(conn, {
        t: 'err',
        code: 'rate_limited',
        message: 'too many sends: retry the same cmid after retryAfterMs',
        ref: cmid,
        retryAfterMs,
      });
    const message: Message = { conv: c.id, seq: c.lastSeq + 1, from: user, cmid, body, ts: Date.now() };
    this.commit({ k: 'msg', ...message });
    this.stats.messages++;
    this.out(conn, { t: 'ack', conv: c.id, cmid, seq: message.seq, ts: message.ts });
    if (c.members.size > this.o.limits.largeGroupThreshold) return this.scheduleNotify(c);
    this.toMembers(c, (other) => other !== conn, { t: 'msg', ...message });
  }

  /** Large groups: one `notify` per conversation per notifyCoalesceMs, with the lastSeq of its moment. */
  private scheduleNotify(c: Conversation): void {
    if (this.notifyPending.has(c.id)) return;
    this.notifyPending.add(c.id);
    const timer = setTimeout(() => {
      this.notifyPending.delete(c.id);
      this.toMembers(c, () => true, { t: 'notify', conv: c.id, lastSeq: c.lastSeq });
    }, this.o.limits.notifyCoalesceMs);
    timer.unref();
  }

  private cursor(conn: Conn, user: string, c: Conversation, kind: CursorKind, seq: number): void {
    const clamped = Math.min(seq, c.lastSeq);
    if (clamped <= c.cursorsOf(user)[kind]) return;
    this.commit({ k: 'cursor', conv: c.id, user, kind, seq: clamped });
    if (c.members.size > this.o.limits.largeGroupThreshold) return;
    this.toMembers(c, (other) => other !== conn, { t: 'receipt', conv: c.id, user, kind, seq: clamped });
  }

  private typing(user: string, c: Conversation, on: boolean): void {
    const key = `${user}\n${c.id}`;
    const now = Date.now();
    const last = this.typingRelayedAt.get(key);
    if (last !== undefined && now - last < this.o.limits.typingThrottleMs) return;
    this.typingRelayedAt.set(key, now);
    const ttlMs = this.o.limits.typingTtlMs;
    this.toMembers(c, (other) => other.user !== user, { t: 'typing', conv: c.id, user, on, ttlMs });
  }

  private watch(conn: Conn, users: string[]): void {
    const added = users.filter((user) => !conn.watching.has(user));
    if (conn.watching.size + new Set(added).size > this.o.limits.watchedUsersPerConnMax)
      return this.refuse(conn, {
        code: 'bad_request',
        message: `a connection watches at most ${this.o.limits.watchedUsersPerConnMax} users`,
        ref: 'watch',
      });
    for (const user of users) {
      conn.watching.add(user);
      setOf(this.watchers, user).add(conn);
      this.out(conn, this.presenceOf(user));
    }
  }

  private presenceOf(user: string): Frame {
    const online = (this.connsOf.get(user)?.size ?? 0) > 0;
    return { t: 'presence', user, online, lastSeen: online ? Date.now() : (this.lastSeen.get(user) ?? 0) };
  }

  private announcePresence(user: string): void {
    const frame = this.presenceOf(user);
    for (const watcher of this.watchers.get(user) ?? []) this.out(watcher, frame);
  }

  private gone(conn: Conn): void {
    conn.closed = true;
    conn.closing = true;
    if (conn.helloTimer) clearTimeout(conn.helloTimer);
    this.conns.delete(conn);
    for (const user of conn.watching) {
      const set = this.watchers.get(user);
      set?.delete(conn);
      if (set?.size === 0) this.watchers.delete(user);
    }
    if (!conn.user) return;
    const conns = this.connsOf.get(conn.user)!;
    conns.delete(conn);
    if (conns.size > 0) return;
    this.connsOf.delete(conn.user);
    this.lastSeen.set(conn.user, Date.now());
    this.announcePresence(conn.user);
  }

  private toMembers(c: Conversation, include: (conn: Conn) => boolean, frame: Frame): void {
    for (const member of c.members)
      for (const other of this.connsOf.get(member) ?? []) if (include(other)) this.out(other, frame);
  }

  /** Charges one send to `user`'s token bucket; 0 if allowed, else how long until a token is back. */
  private takeToken(user: string): number {
    const { userSendsPerSec: rate, userSendBurst: burst } = this.o.limits;
    const now = Date.now();
    const bucket = this.buckets.get(user) ?? { tokens: burst, atMs: now };
    bucket.tokens = Math.min(burst, bucket.tokens + ((now - bucket.atMs) * rate) / 1000);
    bucket.atMs = now;
    this.buckets.set(user, bucket);
    if (bucket.tokens >= 1) {
      bucket.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - bucket.tokens) * 1000) / rate));
  }

  private commit(record: JournalRecord): void {
    this.o.state.apply(record);
    this.o.journal.append(record);
  }

  private refuse(conn: Conn, refusal: Refusal): void {
    if (refusal.code === 'bad_request' && ++conn.badFrames > this.o.limits.badFramesMax)
      return this.closeLater(conn, 4400, 'too many bad frames');
    this.err(conn, refusal.code, refusal.message, refusal.ref);
  }

  private err(conn: Conn, code: string, message: string, ref?: string): void {
    this.out(conn, ref === undefined ? { t: 'err', code, message } : { t: 'err', code, message, ref });
  }

  private out(conn: Conn, frame: Frame): void {
    this.o.journal.gate(() => this.write(conn, frame));
  }

  private write(conn: Conn, frame: Frame): void {
    if (conn.closed) return;
    conn.ws.send(JSON.stringify(frame));
    if (conn.ws.bufferedAmount > this.o.limits.sendBufferBytesMax) {
      this.stats.slowConsumerCloses++;
      this.closeNow(conn, 4509, 'slow consumer');
    }
  }

  private closeLater(conn: Conn, code: number, reason: string): void {
    conn.closing = true;
    this.o.journal.gate(() => this.closeNow(conn, code, reason));
  }

  private closeNow(conn: Conn, code: number, reason: string): void {
    if (conn.closed) return;
    conn.closed = true;
    conn.closing = true;
    conn.ws.close(code, reason);
    const timer = setTimeout(() => conn.ws.terminate(), this.o.closeTimeoutMs);
    timer.unref();
    conn.ws.once('close', () => clearTimeout(timer));
  }

  private beat(): void {
    for (const conn of this.conns) {
      if (conn.unansweredPings >= 2) {
        conn.ws.terminate();
        continue;
      }
      conn.unansweredPings++;
      if (!conn.closed) conn.ws.ping();
    }
    const now = Date.now();
    for (const [key, at] of this.typingRelayedAt)
      if (now - at >= this.o.limits.typingThrottleMs) this.typingRelayedAt.delete(key);
    const { userSendsPerSec: rate, userSendBurst: burst } = this.o.limits;
    for (const [user, bucket] of this.buckets)
      if (bucket.tokens + ((now - bucket.atMs) * rate) / 1000 >= burst) this.buckets.delete(user);
  }
}

/** The set under `key`, created empty if missing. */
export function setOf<K, V>(map: Map<K, Set<V>>, key: K): Set<V> {
  let set = map.get(key);
  if (!set) {
    set = new Set();
    map.set(key, set);
  }
  return set;
}
