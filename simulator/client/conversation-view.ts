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

/**
 * A view's sync and resume bookkeeping, made at its first resume or sync: most views of a scale run
 * never need one (a million views of 25 fields each were 224 bytes apiece, docs/benchmarks.md).
 */
class SyncProgress {
  state = idle;
  /** `after` of the newest sync or resume asked: a batch starting past it proves the gap unreadable. */
  askAfter = -1;
  askVia: 'resume' | 'sync' = 'sync';
  /** The newest seq known when it was asked (a resume: the welcome's lastSeq), for `unanswered`. */
  askUpTo = 0;
  deadline = 0;
  retries = 0;
  /** v1.1 `err`s in a row naming this conversation in answer to its sync or resume; a batch resets it. */
  errs = 0;
  /** After such an `err`: no sync before this (0: none waiting). */
  retryAt = 0;
  /** Earliest outstanding `sync` timer (timers are never cancelled, only ignored). */
  timerAt = 0;
}

/**
 * A view's gaps, its reorder buffer and a removed member's horizon, made at its first gap, out-of-order
 * message or removal: four fields most views of a scale run never set (a view is 80 bytes, not 112).
 */
class GapProgress {
  /** When the current gap (known messages past displayedUpTo) was first seen; -1: none. */
  since = -1;
  /** Earliest outstanding `gap` timer. */
  timerAt = 0;
  /** Only allocated while something is out of order. */
  buffer: ReorderBuffer | null = null;
  /** While pastMember: the last seq the removed user may read. */
  pastHorizon = 0;
}

/** This device's cursors and what it saw of the other members': made when one is not 0. */
class CursorProgress {
  deliveredSent = 0;
  /** -1: never sent. */
  deliveredSentAt = -1;
  readSent = 0;
  readWanted = 0;
  /** Earliest outstanding `cursor` timer. */
  timerAt = 0;
  /** Cursor frames refused `unavailable` or `rate_limited` since the last welcome (the backoff's step). */
  refusals = 0;
  /** After such a refusal: no cursor is sent again before this (0: none waiting). */
  retryAt = 0;
  /** This user's delivered cursor as the last welcome reported it. */
  ownDelivered = 0;
  /** The furthest cursors of the other members, from receipts. */
  othersDelivered = 0;
  othersRead = 0;
  /** Other members typing: user -> until when, in the order their typing began. */
  typing: Map<string, number> | null = null;
  /** The app no longer sends this conversation's cursors (`ConversationView.muteCursors`). */
  muted = false;
}

const noSync: Readonly<SyncProgress> = Object.freeze(new SyncProgress());
const noGaps: Readonly<GapProgress> = Object.freeze(new GapProgress());
const noCursors: Readonly<CursorProgress> = Object.freeze(new CursorProgress());

export class ConversationView {
  displayedUpTo = 0;
  /** The newest seq this device knows exists and may read (pushes, batches, welcome, notify). */
  knownLastSeq = 0;
  /**
   * v1.1: the last welcome listed this conversation with `member: false` (the user was removed). It
   * stays readable up to the removal (`pastHorizon`); this device sends it no message, cursor or
   * typing. A message past that horizon proves the user was added again, and clears it.
   */
  pastMember = false;
  /** While pastMember: when a welcome first told the device so (sends issued before it may be held). */
  pastSince = 0;
  private syncProgress: SyncProgress | null = null;
  private cursorProgress: CursorProgress | null = null;
  private gapProgress: GapProgress | null = null;

  constructor(readonly conv: string) {}

  /** This user's delivered cursor as the last welcome reported it. */
  get ownDelivered(): number {
    return this.cursors.ownDelivered;
  }

  private get sync(): Readonly<SyncProgress> {
    return this.syncProgress ?? noSync;
  }

  private syncing(): SyncProgress {
    this.syncProgress ??= new SyncProgress();
    return this.syncProgress;
  }

  private get gaps(): Readonly<GapProgress> {
    return this.gapProgress ?? noGaps;
  }

  private gapping(): GapProgress {
    this.gapProgress ??= new GapProgress();
    return this.gapProgress;
  }

  private get cursors(): Readonly<CursorProgress> {
    return this.cursorProgress ?? noCursors;
  }

  private cursoring(): CursorProgress {
    this.cursorProgress ??= new CursorProgress();
    return this.cursorProgress;
  }

  get buffered(): number {
    return this.gaps.buffer?.size ?? 0;
  }

  get syncInFlight(): boolean {
    return this.sync.state === awaiting;
  }

  /** Takes one message; call `settle` after a run of offers. */
  offer(host: ClientHost, message: Message, via: Via, now: number): Offer {
    const seq = message.seq;
    if (this.pastMember && seq > this.gaps.pastHorizon) {
      this.pastMember = false;
      host.memberAgain(now);
    }
    if (seq > this.knownLastSeq) this.knownLastSeq = seq;
    if (seq <= this.displayedUpTo) return 'duplicate';
    if (seq === this.displayedUpTo + 1) {
      this.show(host, message, via, now);
      this.drain(host, now);
      return 'shown';
    }
    const gaps = this.gapping();
    gaps.buffer ??= new ReorderBuffer();
    return gaps.buffer.hold(message, via, host.config.reorderBufferMax);
  }

  /** After displaying: coalesced `delivered`, and a sync if a gap has persisted long enough. */
  settle(host: ClientHost, now: number): void {
    this.scheduleDelivered(host, now);
    this.checkBehind(host, now);
  }

  /** Takes a sync or resume answer; returns how many of its messages were duplicates. */
  batch(host: ClientHost, frame: BatchFrame, now: number): number {
    const answering = this.sync.state === awaiting;
    const before = this.displayedUpTo;
    const askAfter = this.sync.askAfter;
    if (askAfter >= 0) {
      // A correct server starts a batch at the first seq this user may read after `after`: what
      // lies between was sequenced while the user was not a member and will never come.
      const first = frame.msgs[0];
      if (first !== undefined) {
        if (first.seq > askAfter + 1) this.skipTo(host, first.seq - 1, now);
      } else if (!frame.more && frame.lastSeq > askAfter) this.skipTo(host, frame.lastSeq, now);
    }
    let duplicates = 0;
    for (const message of frame.msgs)
      if (this.offer(host, message, this.sync.askVia, now) === 'duplicate') duplicates++;
    if (frame.lastSeq > this.knownLastSeq) this.knownLastSeq = frame.lastSeq;
    if (answering) {
      const sync = this.syncing();
      sync.state = idle;
      sync.retries = 0;
      sync.errs = 0;
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
    const sync = this.syncing();
    sync.state = resumed;
    sync.askAfter = this.displayedUpTo;
    sync.askVia = 'resume';
  }

  welcome(host: ClientHost, summary: ConvSummary, now: number): void {
    const wasPast = this.pastMember;
    this.pastMember = summary.member === false;
    if (this.pastMember && !wasPast) this.pastSince = now;
    // Read only while pastMember: a view of a current member needs no GapProgress for it.
    if (this.pastMember || this.gapProgress !== null) this.gapping().pastHorizon = summary.lastSeq;
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
        ...(summary.member === undefined ? {} : { member: summary.member }),
        user: host.user,
        device: host.device,
      });
    }
    if (this.cursorProgress !== null || summary.delivered !== 0 || summary.read !== 0) {
      const cursors = this.cursoring();
      cursors.ownDelivered = summary.delivered;
      // The server's cursors are the truth: one lost to a store fault is sent again.
      cursors.deliveredSent = summary.delivered;
      cursors.readSent = summary.read;
      cursors.refusals = 0;
      cursors.retryAt = 0;
    }
    if (summary.lastSeq > this.displayedUpTo) {
      if (this.sync.state === resumed) {
        // The server answers the resume with a batch right after the welcome.
        this.syncing().state = awaiting;
        this.syncing().askUpTo = summary.lastSeq;
        this.armSync(host, now);
      } else this.requestSync(host, now);
    } else if (this.sync.state === resumed) this.syncing().state = idle;
    const { readWanted, readSent } = this.cursors;
    if (readWanted > readSent && !this.pastMember) this.sendCursor(host, 'read', readWanted, now);
    this.scheduleDelivered(host, now);
  }

  /**
   * After a welcome: a resumed conversation the welcome did not list (the user was removed) may still
   * hold messages sequenced before the removal that this device never got, and the server's answer to
   * the resume may be lost to a store fault: ask with a sync, which the server answers up to the
   * user's horizon.
   */
  endResume(host: ClientHost, now: number): void {
    // A sync awaited at the welcome was asked on this connection, maybe pipelined after the hello (a
    // lost connection idles its view's sync): the server owes its answer from the welcome on.
    if (this.sync.state === awaiting) return this.armSync(host, now);
    if (this.sync.state !== resumed) return;
    this.syncing().state = idle;
    this.requestSync(host, now);
  }

  /**
   * When the sync or resume awaiting its batch was asked (a pipelined one: from the welcome, when its
   * wait began); +Infinity when none is awaited, or one pipelined before a welcome not yet come.
   */
  syncAskedAt(syncTimeoutMs: number): number {
    const sync = this.syncProgress;
    return sync === null || sync.state !== awaiting
      ? Number.POSITIVE_INFINITY
      : sync.deadline - syncTimeoutMs;
  }

  connectionLost(): void {
    const sync = this.syncProgress;
    if (sync === null) return;
    sync.state = idle;
    sync.retries = 0;
    sync.errs = 0;
    sync.retryAt = 0;
  }

  /**
   * v1.1: an `err` naming this conversation answered its sync or resume. Ask again at once instead of
   * waiting out syncTimeoutMs; after that first retry, back off (jittered, capped at syncTimeoutMs, and
   * never before the err's retryAfterMs). The connection is kept: the server answered, the path works.
   */
  syncFailed(host: ClientHost, retryAfterMs: number, now: number): void {
    if (this.sync.state === idle) return;
    const sync = this.syncing();
    sync.state = idle;
    const { sendRetryBaseMs, syncTimeoutMs, jitter } = host.config;
    const backoff =
      sync.errs === 0
        ? 0
        : backoffDelayMs(sync.errs - 1, sendRetryBaseMs, syncTimeoutMs, jitter, () => host.random());
    sync.errs++;
    const at = now + Math.max(backoff, retryAfterMs);
    if (at <= now) return this.requestSync(host, now);
    sync.retryAt = at;
    this.armSyncTimer(host, at);
  }

  markRead(host: ClientHost, now: number): void {
    if (this.displayedUpTo > this.cursors.readWanted) this.cursoring().readWanted = this.displayedUpTo;
    const { readWanted, readSent, retryAt } = this.cursors;
    if (readWanted > readSent && host.canSend() && !this.pastMember && now >= retryAt)
      this.sendCursor(host, 'read', readWanted, now);
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
    const cursors = this.cursoring();
    if (frame.kind === 'delivered') cursors.othersDelivered = Math.max(cursors.othersDelivered, frame.seq);
    else cursors.othersRead = Math.max(cursors.othersRead, frame.seq);
  }

  /** Status of this device's own acked message at `seq`, from the other members' cursors. */
  statusOf(seq: number): 'sent' | 'delivered' | 'read' {
    const { othersRead, othersDelivered } = this.cursors;
    return seq <= othersRead ? 'read' : seq <= othersDelivered ? 'delivered' : 'sent';
  }

  typingFrame(host: ClientHost, frame: TypingServerFrame, now: number): void {
    if (!frame.on) {
      this.cursorProgress?.typing?.delete(frame.user);
      return;
    }
    const cursors = this.cursoring();
    cursors.typing ??= new Map();
    const typing = cursors.typing;
    typing.delete(frame.user);
    if (typing.size >= host.config.typingUsersMax) {
      const oldest = typing.keys().next().value;
      if (oldest !== undefined) typing.delete(oldest);
    }
    typing.set(frame.user, now + frame.ttlMs);
  }

  /** Users shown as typing at `now`, in the order their typing began. */
  typingUsers(now: number): string[] {
    const users: string[] = [];
    const cursors = this.cursorProgress;
    const typing = cursors?.typing ?? null;
    if (typing === null) return users;
    for (const [user, until] of typing) {
      if (until > now) users.push(user);
      else typing.delete(user);
    }
    if (typing.size === 0) cursors!.typing = null;
    return users;
  }

  onGapTimer(host: ClientHost, now: number): void {
    const gaps = this.gapping();
    gaps.timerAt = afterFiring(gaps.timerAt, now);
    this.checkBehind(host, now);
  }

  onCursorTimer(host: ClientHost, now: number): void {
    const cursors = this.cursoring();
    cursors.timerAt = afterFiring(cursors.timerAt, now);
    // A read cursor refused earlier goes again (what was read stays as it was: this reads nothing more).
    if (now >= cursors.retryAt && cursors.readWanted > cursors.readSent && host.canSend() && !this.pastMember)
      this.sendCursor(host, 'read', cursors.readWanted, now);
    this.scheduleDelivered(host, now);
  }

  /**
   * A cursor frame answered `unavailable` (the store was away) or `rate_limited` moved nothing, and the
   * protocol says to send again: this kind is taken as unsent and goes again, with its newest value
   * (cursors are cumulative), after a jittered backoff and never before the err's retryAfterMs.
   */
  cursorRefused(host: ClientHost, kind: 'delivered' | 'read', retryAfterMs: number, now: number): void {
    if (this.pastMember) return;
    const cursors = this.cursoring();
    if (kind === 'delivered') cursors.deliveredSent = 0;
    else cursors.readSent = 0;
    const { sendRetryBaseMs, cursorRetryCapMs, jitter } = host.config;
    const backoff = backoffDelayMs(cursors.refusals++, sendRetryBaseMs, cursorRetryCapMs, jitter, () =>
      host.random(),
    );
    cursors.retryAt = now + Math.max(backoff, retryAfterMs, 1);
    if (needsTimer(cursors.timerAt, cursors.retryAt)) {
      cursors.timerAt = cursors.retryAt;
      host.schedule('cursor', cursors.retryAt, this.conv);
    }
  }

  /** Re-sends an unanswered sync; true when too many went unanswered (the caller reconnects). */
  onSyncTimer(host: ClientHost, now: number): boolean {
    const sync = this.syncing();
    sync.timerAt = afterFiring(sync.timerAt, now);
    if (sync.retryAt !== 0 && sync.state === idle) {
      if (now < sync.retryAt) this.armSyncTimer(host, sync.retryAt);
      else this.requestSync(host, now);
      return false;
    }
    if (sync.state !== awaiting) return false;
    if (now < sync.deadline) {
      // A sync pipelined before the welcome has no deadline yet: endResume arms it at the welcome.
      if (sync.deadline !== Number.POSITIVE_INFINITY) this.armSyncTimer(host, sync.deadline);
      return false;
    }
    sync.state = idle;
    // Silence, which read-pages judges: the request was sent syncTimeoutMs ago (armSync).
    host.record({
      k: 'unanswered',
      at: now,
      asked: sync.askVia,
      askedAt: sync.deadline - host.config.syncTimeoutMs,
      conv: this.conv,
      after: sync.askAfter,
      lastSeq: sync.askUpTo,
      heardAt: host.lastHeard(),
      user: host.user,
      device: host.device,
    });
    if (++sync.retries > host.config.syncRetriesMax) {
      sync.retries = 0;
      return true;
    }
    this.requestSync(host, now);
    return false;
  }

  requestSync(host: ClientHost, now: number): void {
    if (this.sync.state === awaiting || !host.canSend() || now < this.sync.retryAt) return;
    this.issueSync(host, false, now);
    this.armSync(host, now);
  }

  /**
   * Pipelined: sent right after the hello, before its welcome (`ClientServices.pipelines`). Nothing is
   * owed before the session opens (the hello's own silence is judged), so its timeout starts at the
   * welcome; a connection lost first leaves it unanswered and the next session asks afresh.
   */
  syncBeforeWelcome(host: ClientHost, now: number): void {
    if (this.sync.state === awaiting) return;
    this.issueSync(host, true, now);
    // Not owed before the welcome: the deadline of a sync answered on an earlier session must not
    // give it up when that sync's timer fires (timers are never cancelled), while the node holds the
    // hello (swarm seed 81821908144667: given up before any welcome, as asked 10 s before).
    this.syncing().deadline = Number.POSITIVE_INFINITY;
  }

  private issueSync(host: ClientHost, beforeWelcome: boolean, now: number): void {
    const sync = this.syncing();
    sync.retryAt = 0;
    sync.state = awaiting;
    sync.askAfter = this.displayedUpTo;
    sync.askVia = 'sync';
    sync.askUpTo = this.knownLastSeq;
    if (this.gapProgress !== null) this.gapProgress.since = -1;
    const limited = host.config.syncLimit < protocolLimits.syncLimitMax;
    host.frame(clientFrame.sync(this.conv, this.displayedUpTo, limited ? host.config.syncLimit : undefined));
    host.record({
      k: 'sync-sent',
      at: now,
      conv: this.conv,
      after: this.displayedUpTo,
      ...(limited ? { limit: host.config.syncLimit } : {}),
      ...(beforeWelcome ? { beforeWelcome } : {}),
      user: host.user,
      device: host.device,
    });
  }

  private checkBehind(host: ClientHost, now: number): void {
    if (this.displayedUpTo >= this.knownLastSeq) {
      if (this.gapProgress !== null) this.gapProgress.since = -1;
      return;
    }
    if (this.sync.state === awaiting) return;
    const gaps = this.gapping();
    if (gaps.since < 0) gaps.since = now;
    const due = gaps.since + host.config.gapTimeoutMs;
    if (now >= due) this.requestSync(host, now);
    else if (needsTimer(gaps.timerAt, due)) {
      gaps.timerAt = due;
      host.schedule('gap', due, this.conv);
    }
  }

  private scheduleDelivered(host: ClientHost, now: number): void {
    const cursors = this.cursors;
    if (!host.config.deliveredCursors || this.displayedUpTo <= cursors.deliveredSent || !host.canSend())
      return;
    if (this.pastMember) return;
    const next = cursors.deliveredSentAt < 0 ? now : cursors.deliveredSentAt + host.config.cursorIntervalMs;
    const at = Math.max(next, cursors.retryAt);
    if (now >= at) this.sendCursor(host, 'delivered', this.displayedUpTo, now);
    else if (needsTimer(cursors.timerAt, at)) {
      this.cursoring().timerAt = at;
      host.schedule('cursor', at, this.conv);
    }
  }

  /**
   * From now on this device sends no cursor of the conversation, delivered or read (an app whose user
   * muted it; the harness's cursor-free group, workload.quietRacesAtMs): a node then hears of its
   * messages' delivery from nobody, so nothing but its own timers moves what it holds.
   */
  muteCursors(): void {
    this.cursoring().muted = true;
  }

  private sendCursor(host: ClientHost, kind: 'delivered' | 'read', seq: number, now: number): void {
    if (this.cursors.muted) return;
    const cursors = this.cursoring();
    if (kind === 'delivered') {
      cursors.deliveredSent = seq;
      cursors.deliveredSentAt = now;
    } else cursors.readSent = seq;
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
    const sync = this.syncing();
    sync.deadline = now + host.config.syncTimeoutMs;
    this.armSyncTimer(host, sync.deadline);
  }

  private armSyncTimer(host: ClientHost, at: number): void {
    const sync = this.syncing();
    if (!needsTimer(sync.timerAt, at)) return;
    sync.timerAt = at;
    host.schedule('sync', at, this.conv);
  }

  private show(host: ClientHost, message: Message, via: Via, now: number): void {
    this.displayedUpTo = message.seq;
    host.display(message, via, now);
  }

  private drain(host: ClientHost, now: number): void {
    const gaps = this.gapProgress;
    const buffer = gaps === null ? null : gaps.buffer;
    if (buffer === null) return;
    for (let held = buffer.take(this.displayedUpTo + 1); held; held = buffer.take(this.displayedUpTo + 1))
      this.show(host, held.message, held.via, now);
    if (buffer.size === 0) gaps!.buffer = null;
  }

  /** Seqs up to `seq` will never come to this device (not readable by it): move past them. */
  private skipTo(host: ClientHost, seq: number, now: number): void {
    if (seq <= this.displayedUpTo) return;
    this.displayedUpTo = seq;
    this.gapProgress?.buffer?.dropUpTo(seq);
    this.drain(host, now);
  }
}
