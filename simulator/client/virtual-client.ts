// The sans-I/O virtual client: one device of one user. Time arrives as `now`, randomness from the
// injected `rng`, and what it wants done leaves as ClientEffect values, so the simulator drives a
// million of them on a virtual clock and a live runtime drives the same class over real sockets.
// This file routes server frames and the workload's requests to the outbox, the conversation views
// and the adversary; the connection lifecycle is ClientConnection's. Per-client state is small:
// every map is allocated on first use.

import { ErrorCode, isNotNow } from '../../reference-server/protocol/codes.ts';
import type {
  AckFrame,
  BatchFrame,
  ErrFrame,
  HelloFrame,
  Message,
  MsgFrame,
  ServerFrame,
  WelcomeFrame,
} from '../../reference-server/protocol/frames.ts';
import { protocolLimits } from '../../reference-server/protocol/limits.ts';
import type { Via } from '../history.ts';
import { Adversary, type AdversaryHost } from './adversary.ts';
import {
  ClientConnection,
  type ClientIdentity,
  type ClientServices,
  messageOf,
  noEffects,
  type VirtualClientOptions,
} from './client-connection.ts';
import type { ClientEffect, ClientTimerKind } from './client-effect.ts';
import { clientCount } from './client-times.ts';
import { ConversationView, type Offer } from './conversation-view.ts';
import { errProblem, welcomeProblem } from './frame-shape.ts';
import { Outbox, type PendingSend } from './outbox.ts';
import { type Views, viewCount, viewIn, viewsIn, withView } from './view-table.ts';
import { clientFrame } from './wire.ts';

export type {
  ClientIdentity,
  ClientServices,
  ConnectionState,
  VirtualClientOptions,
} from './client-connection.ts';
export type { ClientEffect, ClientTimerKind } from './client-effect.ts';

export type SendStatus = 'sending' | 'sent' | 'delivered' | 'read' | 'failed';

export type ClientCounters = {
  welcomes: number;
  reconnects: number;
  idleCloses: number;
  displayed: number;
  duplicates: number;
  errors: number;
  sendsRequested: number;
  acked: number;
  failed: number;
  resent: number;
};

export class VirtualClient extends ClientConnection implements AdversaryHost {
  /** One view is the view itself; more are a table that remembers the one found last (view-table.ts). */
  private convs: Views = null;
  private outbox: Outbox | null = null;
  /**
   * Users watched: one user as its string, more as an array (not a Set: a client watches a few users,
   * and there are a million clients, most watching one; a one-element array costs 56 bytes more).
   */
  private watched: string | string[] | null = null;
  /** Users watched on this session whose first `presence` has not come yet. */
  private watchUnanswered: string[] | null = null;
  private readonly adversary: Adversary | null;

  /** One client's own options, or its identity and services shared with other clients (see ClientServices). */
  constructor(options: VirtualClientOptions);
  constructor(identity: ClientIdentity, services: ClientServices);
  constructor(identity: ClientIdentity, services: ClientServices = identity as VirtualClientOptions) {
    super(identity, services);
    const adversarial = this.config.adversary.length > 0;
    if (adversarial && services.attemptId === undefined)
      throw new Error('an adversarial client needs options.attemptId for run-wide unique attempt ids');
    if (this.config.adversary.includes('forged-token') && services.badToken === undefined)
      throw new Error('the forged-token behaviour needs options.badToken');
    this.adversary = adversarial ? new Adversary(this.config.adversary) : null;
  }

  /** Messages displayed, duplicates dropped and errs received: in the client's row of counters. */
  get displayed(): number {
    return this.countOf(clientCount.displayed);
  }

  set displayed(count: number) {
    this.setCount(clientCount.displayed, count);
  }

  get duplicates(): number {
    return this.countOf(clientCount.duplicates);
  }

  set duplicates(count: number) {
    this.setCount(clientCount.duplicates, count);
  }

  get errors(): number {
    return this.countOf(clientCount.errors);
  }

  set errors(count: number) {
    this.setCount(clientCount.errors, count);
  }

  // ---- inputs -------------------------------------------------------------------------------

  received(frame: ServerFrame, now: number): readonly ClientEffect[] {
    if (this.state !== 'hello' && this.state !== 'open') return noEffects;
    this.receivedAt(now);
    switch (frame.t) {
      case 'welcome':
        this.judgeShape('welcome', welcomeProblem(frame, this.user), now);
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
        // With its lastSeq (delivery-mode judges how soon a notify names a seq after its ack): as an
        // object, not packed by its fields (ClientServices.convFrame carries one seq, not a lastSeq).
        this.convFrame(frame.conv, 'notify', undefined, now, undefined, undefined, frame.lastSeq);
        if (!this.isForeign(frame.conv)) this.view(frame.conv)?.notify(this, frame.lastSeq, now);
        break;
      case 'receipt':
        this.recordConvFrame(frame.conv, 'receipt', frame.seq, now);
        if (!this.isForeign(frame.conv)) this.view(frame.conv)?.receipt(this, frame, now);
        break;
      case 'typing':
        this.convFrame(frame.conv, 'typing', undefined, now, frame.user);
        if (!this.isForeign(frame.conv)) this.view(frame.conv)?.typingFrame(this, frame, now);
        break;
      case 'presence':
        if (this.adversary?.onPresence(this, frame, now)) break;
        if (this.watchUnanswered !== null) {
          const at = this.watchUnanswered.indexOf(frame.user);
          if (at >= 0) this.watchUnanswered.splice(at, 1);
          if (this.watchUnanswered.length === 0) this.watchUnanswered = null;
        }
        this.record({
          k: 'presence-seen',
          at: now,
          of: frame.user,
          online: frame.online,
          lastSeen: frame.lastSeen,
          ...(this.node === undefined ? {} : { node: this.node }),
          user: this.user,
          device: this.device,
        });
        break;
      case 'err':
        this.judgeShape('err', errProblem(frame), now);
        this.err(frame, now);
        break;
      case 'drain':
        this.drain(frame.reconnectInMs, now);
        break;
    }
    return this.flush();
  }

  timer(kind: ClientTimerKind, key: string | undefined, now: number): readonly ClientEffect[] {
    if (this.lifecycleTimer(kind, now)) return this.flush();
    switch (kind) {
      case 'outbox':
        // An ack overdue on a connection silent since the send: it is dead (a blackhole), so start
        // afresh now rather than after the idle timeout, and resend after the welcome.
        if (this.outbox?.onTimer(this, now) === true) this.restartConnection('idle', now);
        else this.closeIfDrained(now);
        break;
      case 'gap':
        viewIn(this.convs, key ?? '')?.onGapTimer(this, now);
        break;
      case 'cursor':
        viewIn(this.convs, key ?? '')?.onCursorTimer(this, now);
        break;
      case 'sync':
        // Syncs that keep going unanswered on a connection that still pings: start afresh.
        if (viewIn(this.convs, key ?? '')?.onSyncTimer(this, now)) this.restartConnection('client', now);
        break;
      case 'adversary':
        this.adversary?.onTimer(this, now);
        break;
      case 'resend':
        this.resendDue(now);
        break;
    }
    return this.flush();
  }

  /**
   * The user presses past its send burst: `count` sends to `conv` in this one instant (the outbox
   * still keeps at most its window in flight). Recorded as `press`, so checkers know it was meant.
   */
  press(conv: string, count: number, body: (n: number) => string, now: number): readonly ClientEffect[] {
    this.record({ k: 'press', at: now, conv, count, user: this.user, device: this.device });
    this.outbox ??= new Outbox();
    for (let n = 0; n < count; n++) this.outbox.add(this, conv, body(n), now);
    return this.flush();
  }

  sendMessage(conv: string, body: string, now: number): readonly ClientEffect[] {
    return this.sendKeyed(conv, body, now).effects;
  }

  /** `sendMessage`, telling the cmid it gave the message (to follow it with `status`). */
  sendKeyed(conv: string, body: string, now: number): { cmid: string; effects: readonly ClientEffect[] } {
    this.outbox ??= new Outbox();
    const cmid = this.outbox.add(this, conv, body, now);
    return { cmid, effects: this.flush() };
  }

  /** This device sends no cursor of `conv` from now on (ConversationView.muteCursors). */
  muteCursors(conv: string): void {
    this.view(conv)?.muteCursors();
  }

  markRead(conv: string, now: number): readonly ClientEffect[] {
    viewIn(this.convs, conv)?.markRead(this, now);
    return this.flush();
  }

  /**
   * The app was told its user was added to `conv` (the harness's admin request was answered): it opens
   * the conversation and pulls it, a member again if it had been one before.
   */
  openConversation(conv: string, now: number): readonly ClientEffect[] {
    const view = this.view(conv);
    if (view !== undefined) {
      view.pastMember = false;
      view.requestSync(this, now);
      this.memberAgain(now);
    }
    return this.flush();
  }

  /** The app opens the conversation's history now: it pulls with `sync` from what it displayed. */
  pull(conv: string, now: number): readonly ClientEffect[] {
    viewIn(this.convs, conv)?.requestSync(this, now);
    return this.flush();
  }

  setTyping(conv: string, on: boolean, now: number): readonly ClientEffect[] {
    if (this.canSend() && !this.isPastMember(conv)) {
      this.record({ k: 'typing-sent', at: now, conv, on, user: this.user, device: this.device });
      this.frame(clientFrame.typing(conv, on));
    }
    return this.flush();
  }

  watch(users: readonly string[], now: number): readonly ClientEffect[] {
    const watched = this.watchedUsers();
    const added: string[] = [];
    for (const user of users) {
      if (watched.length + added.length >= this.config.watchedUsersMax) continue;
      if (watched.includes(user) || added.includes(user)) continue;
      added.push(user);
    }
    // Exactly as long as needed (an array grown from empty by push reserves room for 17).
    if (added.length > 0) {
      const all = watched.concat(added);
      this.watched = all.length === 1 ? all[0]! : all;
    }
    if (this.canSend()) this.sendWatch(added, now);
    return this.flush();
  }

  // ---- read-only views ----------------------------------------------------------------------

  /** The users this client watches (never mutate it). */
  get watching(): readonly string[] {
    return this.watchedUsers();
  }

  /** Users watched on the current session with no `presence` answer yet. */
  get watchesUnanswered(): number {
    return this.watchUnanswered?.length ?? 0;
  }

  /** Unacked messages in the outbox. */
  get outboxSize(): number {
    return this.outbox?.size ?? 0;
  }

  /** A send made again after its ack still waits for its answer (ResendingClient): the run has not settled. */
  get resendPending(): boolean {
    return false;
  }

  /** The cmid given to the latest `sendMessage`, or undefined before the first. */
  get lastCmid(): string | undefined {
    const n = this.outbox?.lastCmid ?? 0;
    return n > 0 ? `${this.cmidPrefix}-${n}` : undefined;
  }

  /** undefined for a cmid this client never issued or has forgotten (past settledKeptMax). */
  status(cmid: string): SendStatus | undefined {
    if (this.outbox === null) return undefined;
    if (this.outbox.has(cmid)) return 'sending';
    const settled = this.outbox.settledOf(cmid);
    if (settled === undefined) return undefined;
    if (settled.seq === 0) return 'failed';
    return viewIn(this.convs, settled.conv)?.statusOf(settled.seq) ?? 'sent';
  }

  /** Adversarial attempts made before `at` that have no outcome yet (0 for an honest client). */
  attemptsPendingBefore(at: number): number {
    return this.adversary?.pendingBefore(at) ?? 0;
  }

  displayedUpTo(conv: string): number {
    return viewIn(this.convs, conv)?.displayedUpTo ?? 0;
  }

  typingUsers(conv: string, now: number): string[] {
    return viewIn(this.convs, conv)?.typingUsers(now) ?? [];
  }

  conversations(): string[] {
    return viewsIn(this.convs).map((view) => view.conv);
  }

  get counters(): ClientCounters {
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

  // ---- AdversaryHost ------------------------------------------------------------------------

  override display(message: Message, via: Via, now: number): void {
    this.displayed++;
    super.display(message, via, now);
  }

  nextAttemptId(): number {
    return this.services.attemptId!();
  }

  badToken(now: number): string {
    return this.services.badToken!(now);
  }

  views(): Iterable<ConversationView> {
    return viewsIn(this.convs);
  }

  isPastMember(conv: string): boolean {
    return this.pastMemberSince(conv) !== null;
  }

  pastMemberSince(conv: string): number | null {
    const view = viewIn(this.convs, conv);
    return view?.pastMember === true ? view.pastSince : null;
  }

  memberAgain(now: number): void {
    this.outbox?.fill(this, now);
  }

  // ---- the session --------------------------------------------------------------------------

  protected helloToken(now: number): string {
    return this.adversary?.helloToken(this, now) ?? this.services.token(now, this.user);
  }

  protected addResume(frame: HelloFrame, pipelines: boolean, now: number): void {
    if (this.convs !== null && !pipelines) {
      const resume: Record<string, number> = {};
      let count = 0;
      for (const view of viewsIn(this.convs)) {
        if (count++ >= this.config.resumeConvsMax) break;
        resume[view.conv] = view.displayedUpTo;
        view.markResumed();
      }
      frame.resume = resume;
    }
    this.adversary?.addResume(this, frame, now);
  }

  /**
   * A sync of each conversation (as many as a resume would name, at most pipelinedSyncsMax), sent after
   * the hello without waiting for the welcome: the server answers them once the session opens.
   */
  protected pipelineAfterHello(now: number): void {
    let count = 0;
    const most = Math.min(this.config.resumeConvsMax, this.config.pipelinedSyncsMax);
    for (const view of viewsIn(this.convs)) {
      if (count++ >= most) break;
      view.syncBeforeWelcome(this, now);
    }
  }

  protected withholdsHello(now: number): boolean {
    return this.adversary?.withholdsHello(this, now) ?? false;
  }

  protected helloWithheld(): boolean {
    return this.adversary?.silent === true;
  }

  protected afterHello(now: number): void {
    this.adversary?.afterHello(this, now);
  }

  protected sessionOpened(welcome: WelcomeFrame, now: number): void {
    this.adversary?.onWelcome(this, welcome, now);
    for (const summary of welcome.convs) this.view(summary.conv)?.welcome(this, summary, now);
    for (const view of viewsIn(this.convs)) view.endResume(this, now);
    this.watchUnanswered = null;
    const watched = this.watched;
    if (watched !== null) this.sendWatch(typeof watched === 'string' ? [watched] : watched.slice(), now);
    this.outbox?.fill(this, now);
  }

  protected sessionLost(reason: string, now: number): void {
    this.outbox?.connectionLost();
    for (const view of viewsIn(this.convs)) view.connectionLost();
    this.adversary?.onDisconnect(this, reason, now);
  }

  protected sendsInFlight(): number {
    return this.outbox?.inFlight ?? 0;
  }

  protected unansweredSince(): number {
    let since = this.outbox?.inFlightSince(this.config.ackTimeoutMs) ?? Number.POSITIVE_INFINITY;
    for (const view of viewsIn(this.convs))
      since = Math.min(since, view.syncAskedAt(this.config.syncTimeoutMs));
    return since;
  }

  // ---- frames -------------------------------------------------------------------------------

  private ack(frame: AckFrame, now: number): void {
    if (this.adversary?.onAck(this, frame, now)) return;
    const entry = this.outbox?.ack(this, frame, now);
    if (entry !== undefined) {
      const view = this.view(frame.conv);
      if (view !== undefined) {
        const { conv, seq, cmid, ts } = frame;
        this.tally(view.offer(this, { conv, seq, from: this.user, cmid, body: entry.body, ts }, 'own', now));
        view.settle(this, now);
      }
      this.sendAcked(entry, frame, now);
    } else this.otherAck(frame, now);
    this.closeIfDrained(now);
  }

  /** One of the outbox's sends was acked (ResendingClient keeps the last). */
  protected sendAcked(_entry: PendingSend, _frame: AckFrame, _now: number): void {}

  /** An ack for none of the outbox's sends (ResendingClient's answer to a send made again). */
  protected otherAck(_frame: AckFrame, _now: number): void {}

  /** An `err` naming none of the outbox's sends (ResendingClient's answer to a send made again). */
  protected otherErr(_frame: ErrFrame, _now: number): void {}

  /** A `resend` timer (ResendingClient's wait for the answer to a send made again). */
  protected resendDue(_now: number): void {}

  private msg(frame: MsgFrame, now: number): void {
    this.recordConvFrame(frame.conv, 'msg', frame.seq, now);
    if (this.isForeign(frame.conv)) return;
    const view = this.view(frame.conv);
    if (view === undefined) return;
    if (frame.seq <= view.displayedUpTo) {
      this.duplicates++;
      return;
    }
    // A carrier that takes displays by their fields (ClientServices.display) reads the message's fields
    // from the frame itself: the message's copy, an object per push, is made only for a display event.
    this.tally(view.offer(this, this.services.display === undefined ? messageOf(frame) : frame, 'push', now));
    view.settle(this, now);
  }

  private batch(frame: BatchFrame, now: number): void {
    this.convFrame(
      frame.conv,
      'batch',
      frame.msgs.map((m) => m.seq),
      now,
      undefined,
      frame,
    );
    if (this.adversary?.onBatch(this, frame, now)) return;
    this.duplicates += this.view(frame.conv)?.batch(this, frame, now) ?? 0;
  }

  private rateLimited(frame: ErrFrame, now: number): void {
    const ref = frame.ref ?? '';
    const cmid = this.outbox?.has(ref) ? ref : undefined;
    this.record({
      k: 'rate-limited',
      at: now,
      ref,
      ...(cmid === undefined ? {} : { cmid }),
      ...(frame.conv === undefined ? {} : { conv: frame.conv }),
      ...(frame.retryAfterMs === undefined ? {} : { retryAfterMs: frame.retryAfterMs }),
      user: this.user,
      device: this.device,
    });
  }

  /** A welcome or err that breaks protocol.md's shape is recorded (the server-frames checker fails it). */
  private judgeShape(t: 'welcome' | 'err', problem: string | null, now: number): void {
    if (problem !== null)
      this.record({ k: 'bad-frame', at: now, t, problem, user: this.user, device: this.device });
  }

  private err(frame: ErrFrame, now: number): void {
    this.errors++;
    // "A dependency is down": only a fault explains it (no-spurious-unavailable judges it).
    if (frame.code === ErrorCode.unavailable)
      this.record({
        k: 'unavailable',
        at: now,
        ...(frame.ref === undefined ? {} : { ref: frame.ref }),
        ...(frame.conv === undefined ? {} : { conv: frame.conv }),
        ...(this.state === 'open' && this.node !== '' ? { node: this.node } : {}),
        user: this.user,
        device: this.device,
      });
    // An adversary's malformed text may be answered with no `ref` (it named no frame type).
    if (this.adversary?.onErr(this, frame, now)) return;
    if (frame.ref === undefined) return;
    if (frame.conv !== undefined && (frame.ref === 'read' || frame.ref === 'delivered'))
      this.record({
        k: 'cursor-refused',
        at: now,
        conv: frame.conv,
        kind: frame.ref,
        code: frame.code,
        user: this.user,
        device: this.device,
      });
    else if (
      frame.conv !== undefined &&
      (frame.ref === 'sync' || frame.ref === 'typing') &&
      (frame.code === ErrorCode.forbidden || frame.code === ErrorCode.notFound)
    )
      this.record({
        k: 'refused',
        at: now,
        conv: frame.conv,
        ref: frame.ref,
        code: frame.code,
        user: this.user,
        device: this.device,
      });
    if (frame.code === ErrorCode.rateLimited) this.rateLimited(frame, now);
    // A cursor the server could not take now goes again (protocol.md: `unavailable`, `rate_limited`);
    // an err without `conv` (a v1 server) does not say which: every conversation's goes again.
    if ((frame.ref === 'read' || frame.ref === 'delivered') && isNotNow(frame.code)) {
      const views = frame.conv === undefined ? viewsIn(this.convs) : [viewIn(this.convs, frame.conv)];
      for (const view of views) view?.cursorRefused(this, frame.ref, frame.retryAfterMs ?? 0, now);
    }
    // v1.1: an err that names a conversation and answers a sync or a resume: ask again at once.
    if (frame.conv !== undefined && (frame.ref === 'sync' || frame.ref === 'hello')) {
      viewIn(this.convs, frame.conv)?.syncFailed(this, frame.retryAfterMs ?? 0, now);
      return;
    }
    if (this.outbox?.errored(this, frame, now) !== true) this.otherErr(frame, now);
    this.closeIfDrained(now);
  }

  private convFrame(
    conv: string,
    t: string,
    seqs: number[] | undefined,
    now: number,
    of?: string,
    page?: BatchFrame,
    lastSeq?: number,
  ): void {
    const event = this.convFrameEvent(conv, t, seqs, now);
    if (of !== undefined) event.of = of;
    if (lastSeq !== undefined) event.lastSeq = lastSeq;
    // A page's claims, judged by read-pages (`more` must be true exactly when more readable seqs exist).
    if (page !== undefined) {
      event.lastSeq = page.lastSeq;
      event.more = page.more;
    }
    this.record(event);
  }

  /** Never mutate the array returned: it may be the client's own. */
  private watchedUsers(): readonly string[] {
    const watched = this.watched;
    return watched === null ? [] : typeof watched === 'string' ? [watched] : watched;
  }

  private sendWatch(users: readonly string[], now: number): void {
    if (users.length === 0) return;
    // `users` holds no user twice, nor one already waiting for its answer (see watch, sessionOpened).
    this.watchUnanswered = this.watchUnanswered === null ? users.slice() : this.watchUnanswered.concat(users);
    this.record({ k: 'watch-sent', at: now, users, user: this.user, device: this.device });
    for (let i = 0; i < users.length; i += protocolLimits.watchUsersMax)
      this.frame(clientFrame.watch(users.slice(i, i + protocolLimits.watchUsersMax)));
  }

  private isForeign(conv: string): boolean {
    return this.adversary?.isForeign(this, conv) === true;
  }

  /** The view of `conv`, created on first mention; undefined past convsMax. */
  private view(conv: string): ConversationView | undefined {
    let view = viewIn(this.convs, conv);
    if (view === undefined) {
      if (viewCount(this.convs) >= this.config.convsMax) return undefined;
      view = new ConversationView(conv);
      this.convs = withView(this.convs, view);
    }
    return view;
  }

  private tally(offer: Offer): void {
    if (offer === 'duplicate') this.duplicates++;
  }
}
