// One conversation as one device sees it. Owns exactly-once, in-order display: `displayedUpTo` is
// contiguous, later messages wait in a bounded reorder buffer, duplicates by seq are dropped, and a
// gap (known messages past displayedUpTo) that persists is pulled with `sync`, one at a time.
// Also owns this device's cursors for the conversation and what it saw of the other members'.

import type {
  BatchFrame,
  ConvSummary,
  Message,
  ReceiptFrame,
  TypingServerFrame,
} from '../../reference-server/protocol/frames.ts';
import { protocolLimits } from '../../reference-server/protocol/limits.ts';
import type { Via } from '../history.ts';
import { backoffDelayMs } from './backoff.ts';
import { afterFiring, type ClientHost, needsTimer } from './client-effect.ts';
import { ReorderBuffer } from './reorder-buffer.ts';
import { clientFrame } from './wire.ts';

/** syncState values: nothing asked; named in the hello's resume (welcome pending); a batch is awaited. */
const idle = 0;
const resumed = 1;
const awaiting = 2;

export type Offer = 'shown' | 'held' | 'duplicate' | 'dropped';

export class ConversationView {
  displayedUpTo = 0;
  /** The newest seq this device knows exists and may read (pushes, batches, welcome, notify). */
  knownLastSeq = 0;
  /** Only allocated while something is out of order. */
  private buffer: ReorderBuffer | null = null;
  private syncState = idle;
  /** `after` of the newest sync or resume asked: a batch starting past it proves the gap unreadable. */
  private askAfter = -1;
  private askVia: 'resume' | 'sync' = 'sync';
  private syncDeadline = 0;
  private syncRetries = 0;
  /** v1.1 `err`s in a row naming this conversation in answer to its sync or resume; a batch resets it. */
  private syncErrs = 0;
  /** After such an `err`: no sync before this (0: none waiting). */
  private syncRetryAt = 0;
  /**
   * v1.1: the last welcome listed this conversation with `member: false` (the user was removed). It
   * stays readable up to the removal (`pastHorizon`); this device sends it no message, cursor or
   * typing. A message past that horizon proves the user was added again, and clears it.
   */
  pastMember = false;
  private pastHorizon = 0;
  private gapSince = -1;
  private deliveredSent = 0;
  /** -1: never sent. */
  private deliveredSentAt = -1;
  private readSent = 0;
  private readWanted = 0;
  /** Earliest outstanding timer of each kind (timers are never cancelled, only ignored). */
  private syncTimerAt = 0;
  private gapTimerAt = 0;
  private cursorTimerAt = 0;
  /** This user's delivered cursor as the last welcome reported it. */
  ownDelivered = 0;
  /** The furthest cursors of the other members, from receipts. */
  othersDelivered = 0;
  othersRead = 0;
  private typing: Map<string, number> | null = null;

  constructor(readonly conv: string) {}

  get buffered(): number {
    return this.buffer?.size ?? 0;
  }

  get syncInFlight(): boolean {
    return this.syncState === awaiting;
  }

  /** Takes one message; call `settle` after a run of offers. */
  offer(host: ClientHost, message: Message, via: Via, now: number): Offer {
    const seq = message.seq;
    if (this.pastMember && seq > this.pastHorizon) this.pastMember = false;
    if (seq > this.knownLastSeq) this.knownLastSeq = seq;
    if (seq <= this.displayedUpTo) return 'duplicate';
    if (seq === this.displayedUpTo + 1) {
      this.show(host, message, via, now);
      this.drain(host, now);
      return 'shown';
    }
    this.buffer ??= new ReorderBuffer();
    return this.buffer.hold(message, via, host.config.reorderBufferMax);
  }

  /** After displaying: coalesced `delivered`, and a sync if a gap has persisted long enough. */
  settle(host: ClientHost, now: number): void {
    this.scheduleDelivered(host, now);
    this.checkBehind(host, now);
  }

  /** Takes a sync or resume answer; returns how many of its messages were duplicates. */
  batch(host: ClientHost, frame: BatchFrame, now: number): number {
    const answering = this.syncState === awaiting;
    const before = this.displayedUpTo;
    if (this.askAfter >= 0) {
      // A correct server starts a batch at the first seq this user may read after `after`: what
      // lies between was sequenced while the user was not a member and will never come.
      const first = frame.msgs[0];
      if (first !== undefined) {
        if (first.seq > this.askAfter + 1) this.skipTo(host, first.seq - 1, now);
      } else if (!frame.more && frame.lastSeq > this.askAfter) this.skipTo(host, frame.lastSeq, now);
    }
    let duplicates = 0;
    for (const message of frame.msgs)
      if (this.offer(host, message, this.askVia, now) === 'duplicate') duplicates++;
    if (frame.lastSeq > this.knownLastSeq) this.knownLastSeq = frame.lastSeq;
    if (answering) {
      this.syncState = idle;
      this.syncRetries = 0;
      this.syncErrs = 0;
      const progressed = this.displayedUpTo > before;
      if (progressed && (frame.more || this.knownLastSeq > this.displayedUpTo)) this.requestSync(host, now);
    }
    this.settle(host, now);
    return duplicates;
  }

  notify(host: ClientHost, lastSeq: number, now: number): void {
    if (lastSeq > this.knownLastSeq) this.knownLastSeq = lastSeq;
    if (lastSeq > this.displayedUpTo) this.requestSync(host, now);
  }

  /** The hello names this conversation in `resume` with what the device holds. */
  markResumed(): void {
    this.syncState = resumed;
    this.askAfter = this.displayedUpTo;
    this.askVia = 'resume';
  }

  welcome(host: ClientHost, summary: ConvSummary, now: number): void {
    this.pastMember = summary.member === false;
    this.pastHorizon = summary.lastSeq;
    if (summary.lastSeq > this.knownLastSeq) this.knownLastSeq = summary.lastSeq;
    for (const kind of ['delivered', 'read'] as const) {
      host.record({
        k: 'cursor-seen',
        at: now,
        conv: this.conv,
        of: host.user,
        kind,
        seq: summary[kind],
        lastSeq: summary.lastSeq,
        source: 'welcome',
        user: host.user,
        device: host.device,
      });
    }
    this.ownDelivered = summary.delivered;
    // The server's cursors are the truth: one lost to a store fault is sent again.
    this.deliveredSent = summary.delivered;
    this.readSent = summary.read;
    if (summary.lastSeq > this.displayedUpTo) {
      if (this.syncState === resumed) {
        // The server answers the resume with a batch right after the welcome.
        this.syncState = awaiting;
        this.armSync(host, now);
      } else this.requestSync(host, now);
    } else if (this.syncState === resumed) this.syncState = idle;
    if (this.readWanted > this.readSent && !this.pastMember)
      this.sendCursor(host, 'read', this.readWanted, now);
    this.scheduleDelivered(host, now);
  }

  /**
   * After a welcome: a resumed conversation the welcome did not list (the user was removed) may still
   * hold messages sequenced before the removal that this device never got, and the server's answer to
   * the resume may be lost to a store fault: ask with a sync, which the server answers up to the
   * user's horizon.
   */
  endResume(host: ClientHost, now: number): void {
    if (this.syncState !== resumed) return;
    this.syncState = idle;
    this.requestSync(host, now);
  }

  connectionLost(): void {
    this.syncState = idle;
    this.syncRetries = 0;
    this.syncErrs = 0;
    this.syncRetryAt = 0;
  }

  /**
   * v1.1: an `err` naming this conversation answered its sync or resume. Ask again at once instead of
   * waiting out syncTimeoutMs; after that first retry, back off (jittered, capped at syncTimeoutMs, and
   * never before the err's retryAfterMs). The connection is kept: the server answered, the path works.
   */
  syncFailed(host: ClientHost, retryAfterMs: number, now: number): void {
    if (this.syncState === idle) return;
    this.syncState = idle;
    const { sendRetryBaseMs, syncTimeoutMs, jitter } = host.config;
    const backoff =
      this.syncErrs === 0
        ? 0
        : backoffDelayMs(this.syncErrs - 1, sendRetryBaseMs, syncTimeoutMs, jitter, () => host.random());
    this.syncErrs++;
    const at = now + Math.max(backoff, retryAfterMs);
    if (at <= now) return this.requestSync(host, now);
    this.syncRetryAt = at;
    this.armSyncTimer(host, at);
  }

  markRead(host: ClientHost, now: number): void {
    if (this.displayedUpTo > this.readWanted) this.readWanted = this.displayedUpTo;
    if (this.readWanted > this.readSent && host.canSend() && !this.pastMember)
      this.sendCursor(host, 'read', this.readWanted, now);
  }

  receipt(host: ClientHost, frame: ReceiptFrame, now: number): void {
    host.record({
      k: 'cursor-seen',
      at: now,
      conv: this.conv,
      of: frame.user,
      kind: frame.kind,
      seq: frame.seq,
      lastSeq: Math.max(this.knownLastSeq, this.displayedUpTo),
      source: 'receipt',
      user: host.user,
      device: host.device,
    });
    if (frame.user === host.user) return;
    if (frame.kind === 'delivered') this.othersDelivered = Math.max(this.othersDelivered, frame.seq);
    else this.othersRead = Math.max(this.othersRead, frame.seq);
  }

  /** Status of this device's own acked message at `seq`, from the other members' cursors. */
  statusOf(seq: number): 'sent' | 'delivered' | 'read' {
    return seq <= this.othersRead ? 'read' : seq <= this.othersDelivered ? 'delivered' : 'sent';
  }

  typingFrame(host: ClientHost, frame: TypingServerFrame, now: number): void {
    if (!frame.on) {
      this.typing?.delete(frame.user);
      return;
    }
    this.typing ??= new Map();
    this.typing.delete(frame.user);
    if (this.typing.size >= host.config.typingUsersMax) {
      const oldest = this.typing.keys().next().value;
      if (oldest !== undefined) this.typing.delete(oldest);
    }
    this.typing.set(frame.user, now + frame.ttlMs);
  }

  /** Users shown as typing at `now`, in the order their typing began. */
  typingUsers(now: number): string[] {
    const users: string[] = [];
    if (this.typing === null) return users;
    for (const [user, until] of this.typing) {
      if (until > now) users.push(user);
      else this.typing.delete(user);
    }
    if (this.typing.size === 0) this.typing = null;
    return users;
  }

  onGapTimer(host: ClientHost, now: number): void {
    this.gapTimerAt = afterFiring(this.gapTimerAt, now);
    this.checkBehind(host, now);
  }

  onCursorTimer(host: ClientHost, now: number): void {
    this.cursorTimerAt = afterFiring(this.cursorTimerAt, now);
    this.scheduleDelivered(host, now);
  }

  /** Re-sends an unanswered sync; true when too many went unanswered (the caller reconnects). */
  onSyncTimer(host: ClientHost, now: number): boolean {
    this.syncTimerAt = afterFiring(this.syncTimerAt, now);
    if (this.syncRetryAt !== 0 && this.syncState === idle) {
      if (now < this.syncRetryAt) this.armSyncTimer(host, this.syncRetryAt);
      else this.requestSync(host, now);
      return false;
    }
    if (this.syncState !== awaiting) return false;
    if (now < this.syncDeadline) {
      this.armSyncTimer(host, this.syncDeadline);
      return false;
    }
    this.syncState = idle;
    if (++this.syncRetries > host.config.syncRetriesMax) {
      this.syncRetries = 0;
      return true;
    }
    this.requestSync(host, now);
    return false;
  }

  requestSync(host: ClientHost, now: number): void {
    if (this.syncState === awaiting || !host.canSend() || now < this.syncRetryAt) return;
    this.syncRetryAt = 0;
    this.syncState = awaiting;
    this.askAfter = this.displayedUpTo;
    this.askVia = 'sync';
    this.gapSince = -1;
    const limited = host.config.syncLimit < protocolLimits.syncLimitMax;
    host.frame(clientFrame.sync(this.conv, this.displayedUpTo, limited ? host.config.syncLimit : undefined));
    host.record({
      k: 'sync-sent',
      at: now,
      conv: this.conv,
      after: this.displayedUpTo,
      ...(limited ? { limit: host.config.syncLimit } : {}),
      user: host.user,
      device: host.device,
    });
    this.armSync(host, now);
  }

  private checkBehind(host: ClientHost, now: number): void {
    if (this.displayedUpTo >= this.knownLastSeq) {
      this.gapSince = -1;
      return;
    }
    if (this.syncState === awaiting) return;
    if (this.gapSince < 0) this.gapSince = now;
    const due = this.gapSince + host.config.gapTimeoutMs;
    if (now >= due) this.requestSync(host, now);
    else if (needsTimer(this.gapTimerAt, due)) {
      this.gapTimerAt = due;
      host.schedule('gap', due, this.conv);
    }
  }

  private scheduleDelivered(host: ClientHost, now: number): void {
    if (!host.config.deliveredCursors || this.displayedUpTo <= this.deliveredSent || !host.canSend()) return;
    if (this.pastMember) return;
    const at = this.deliveredSentAt < 0 ? now : this.deliveredSentAt + host.config.cursorIntervalMs;
    if (now >= at) this.sendCursor(host, 'delivered', this.displayedUpTo, now);
    else if (needsTimer(this.cursorTimerAt, at)) {
      this.cursorTimerAt = at;
      host.schedule('cursor', at, this.conv);
    }
  }

  private sendCursor(host: ClientHost, kind: 'delivered' | 'read', seq: number, now: number): void {
    if (kind === 'delivered') {
      this.deliveredSent = seq;
      this.deliveredSentAt = now;
    } else this.readSent = seq;
    host.frame(clientFrame.cursor(kind, this.conv, seq));
    host.record({
      k: 'cursor-sent',
      at: now,
      conv: this.conv,
      kind,
      seq,
      user: host.user,
      device: host.device,
    });
  }

  private armSync(host: ClientHost, now: number): void {
    this.syncDeadline = now + host.config.syncTimeoutMs;
    this.armSyncTimer(host, this.syncDeadline);
  }

  private armSyncTimer(host: ClientHost, at: number): void {
    if (!needsTimer(this.syncTimerAt, at)) return;
    this.syncTimerAt = at;
    host.schedule('sync', at, this.conv);
  }

  private show(host: ClientHost, message: Message, via: Via, now: number): void {
    this.displayedUpTo = message.seq;
    host.record({ k: 'display', at: now, via, message, user: host.user, device: host.device });
  }

  private drain(host: ClientHost, now: number): void {
    const buffer = this.buffer;
    if (buffer === null) return;
    for (let held = buffer.take(this.displayedUpTo + 1); held; held = buffer.take(this.displayedUpTo + 1))
      this.show(host, held.message, held.via, now);
    if (buffer.size === 0) this.buffer = null;
  }

  /** Seqs up to `seq` will never come to this device (not readable by it): move past them. */
  private skipTo(host: ClientHost, seq: number, now: number): void {
    if (seq <= this.displayedUpTo) return;
    this.displayedUpTo = seq;
    this.buffer?.dropUpTo(seq);
    this.drain(host, now);
  }
}
