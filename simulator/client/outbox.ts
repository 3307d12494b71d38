// The outbox: every message the workload asks to send, under one cmid (the idempotency key) for its
// whole life, until it is acked or given up. It keeps sends across disconnects and resends every
// unacked one under the same cmid; at most `sendWindow` are in flight on a connection; every retry
// (ack timeout, `unavailable`, `rate_limited`) is bounded and ends in an ack or a `failed` record (an
// `unavailable` or timed-out send is bounded in attempts and in time: `sendPatienceMs`); an
// ack timeout on a connection silent since the send is the connection's death, not an attempt.
// A send to a conversation the last welcome listed as a past membership (v1.1 `member: false`) never
// leaves while it is listed so. One issued before that welcome arrived is held, unsent, until the
// membership shows again (a message past the horizon, a later welcome listing it as current, the app
// told of a re-add: `fill` runs then) or `pastMemberHoldMs` after that welcome (or the outbox's patience,
// if sooner) ends, and then fails with `not_member`: a fleet node's welcome is a snapshot, built from a store read
// served before a re-add that the node's bus had not told it of yet, so it may list a membership as over
// that is not, and such a node applies the re-add's bus event just after. One issued after the welcome
// fails at once. Holding such sends for the whole patience kept live runs from settling (CI, session 18).

import { ErrorCode, isNotNow } from '../../reference-server/protocol/codes.ts';
import type { AckFrame, ErrFrame } from '../../reference-server/protocol/frames.ts';
import { backoffDelayMs } from './backoff.ts';
import { afterFiring, type ClientHost, needsTimer } from './client-effect.ts';
import { clientFrame } from './wire.ts';

/** The failure code of a send the client refuses itself: v1.1 listed its conversation `member: false`. */
export const notMember = 'not_member';

export class PendingSend {
  inFlight = false;
  /** Ack timeouts and `unavailable` answers so far. */
  attempts = 0;
  /** `rate_limited` answers in a row (an `unavailable` answer got past the limit, and resets it). */
  throttled = 0;
  /** In flight: the ack deadline. Waiting: the earliest time it may be sent (0: at once). */
  dueAt = 0;
  constructor(
    readonly conv: string,
    readonly cmid: string,
    readonly body: string,
    /** When the workload first issued it (its `send` event): its ack tells the oracle it was sequenced after. */
    readonly sentAt: number,
  ) {}
}

/**
 * A send answered "not now" (codes.ts `isNotNow`): when it may go again, and whether every send of the device
 * waits until then (`rate_limited`: the server's bucket is per user); null once it has used its
 * retries (limits.ts). Counts the answer against the send. The outbox's sends and a send made again
 * after its ack (resending-client.ts) retry by this one rule.
 */
export function notNowRetry(
  host: ClientHost,
  entry: PendingSend,
  frame: ErrFrame,
  now: number,
): { at: number; pauseAll: boolean } | null {
  const config = host.config;
  if (frame.code === ErrorCode.rateLimited) {
    if (++entry.throttled > config.rateLimitedRetriesMax) return null;
    return { at: now + (frame.retryAfterMs ?? config.sendRetryBaseMs), pauseAll: true };
  }
  // It got past the rate limit: only `rate_limited` answers in a row count against it.
  entry.throttled = 0;
  if (givesUp(host, entry, now)) return null;
  const delay =
    frame.retryAfterMs ??
    backoffDelayMs(entry.attempts - 1, config.sendRetryBaseMs, config.sendRetryCapMs, config.jitter, () =>
      host.random(),
    );
  const deadline = entry.sentAt + config.sendPatienceMs;
  // One attempt lands at the deadline, however long the backoff drew.
  return { at: now < deadline ? Math.min(now + delay, deadline) : now + delay, pauseAll: false };
}

/** Counts a failed attempt; true once the send has used its attempts and its patience (limits.ts). */
function givesUp(host: ClientHost, entry: PendingSend, now: number): boolean {
  const config = host.config;
  return ++entry.attempts >= config.sendAttemptsMax && now - entry.sentAt >= config.sendPatienceMs;
}

/** An acked (seq > 0) or failed (seq 0) send, remembered for `status(cmid)`. */
export type SettledSend = { readonly cmid: string; readonly conv: string; readonly seq: number };

export class Outbox {
  /** Unacked sends in cmid-issue order; dropped while empty (most clients, most of the time). */
  private pending: Map<string, PendingSend> | null = null;
  private settled: SettledSend[] | null = null;
  private settledNext = 0;
  private nextCmid = 1;
  inFlight = 0;
  /** No send leaves before this (the server said `rate_limited`: its bucket is per user). */
  private pausedUntil = 0;
  /** The earliest outstanding `outbox` timer. */
  private timerAt = 0;
  requested = 0;
  acked = 0;
  failed = 0;
  resent = 0;

  get size(): number {
    return this.pending?.size ?? 0;
  }

  get lastCmid(): number {
    return this.nextCmid - 1;
  }

  has(cmid: string): boolean {
    return this.pending?.has(cmid) === true;
  }

  settledOf(cmid: string): SettledSend | undefined {
    return this.settled?.find((send) => send.cmid === cmid);
  }

  /** Takes a new message; returns its cmid. Recorded as `send` now, whatever happens later. */
  add(host: ClientHost, conv: string, body: string, now: number): string {
    const cmid = `${host.cmidPrefix}-${this.nextCmid++}`;
    this.requested++;
    host.record({ k: 'send', at: now, conv, cmid, body, user: host.user, device: host.device });
    if (this.size >= host.config.outboxMax) {
      this.settle(host, conv, cmid, 0);
      host.record({
        k: 'failed',
        at: now,
        conv,
        cmid,
        code: 'outbox_full',
        sentAt: now,
        user: host.user,
        device: host.device,
      });
      this.failed++;
      return cmid;
    }
    this.pending ??= new Map();
    this.pending.set(cmid, new PendingSend(conv, cmid, body, now));
    this.fill(host, now);
    return cmid;
  }

  /** Sends waiting messages, oldest first, while the window and the server's rate limit allow. */
  fill(host: ClientHost, now: number): void {
    if (this.pending === null || !host.canSend()) return;
    if (now < this.pausedUntil) {
      if (this.pending.size > this.inFlight) this.arm(host, this.pausedUntil);
      return;
    }
    const window = host.config.sendWindow;
    for (const entry of this.pending.values()) {
      if (this.inFlight >= window) return;
      if (entry.inFlight) continue;
      const pastSince = host.pastMemberSince(entry.conv);
      if (pastSince !== null) {
        // Held only if issued before the welcome told the device: that welcome may be older than a re-add
        // (see the header). One issued after it fails at once: the app knew.
        const holdEnds = Math.min(
          entry.sentAt + host.config.sendPatienceMs,
          pastSince + host.config.pastMemberHoldMs,
        );
        if (entry.sentAt < pastSince && now < holdEnds) this.arm(host, holdEnds);
        else this.fail(host, entry, notMember, now);
        continue;
      }
      if (entry.dueAt > now) this.arm(host, entry.dueAt);
      else this.issue(host, entry, now);
    }
  }

  /** The entry acked, or undefined when the ack is not for a pending send of ours. */
  ack(host: ClientHost, frame: AckFrame, now: number): PendingSend | undefined {
    const entry = this.pending?.get(frame.cmid);
    if (entry === undefined || entry.conv !== frame.conv) return undefined;
    this.remove(entry);
    this.settle(host, entry.conv, entry.cmid, frame.seq);
    this.acked++;
    host.record({
      k: 'ack',
      at: now,
      conv: frame.conv,
      cmid: frame.cmid,
      seq: frame.seq,
      ts: frame.ts,
      sentAt: entry.sentAt,
      user: host.user,
      device: host.device,
    });
    this.fill(host, now);
    return entry;
  }

  /** Handles an `err` whose ref is one of our cmids; false when it is not. */
  errored(host: ClientHost, frame: ErrFrame, now: number): boolean {
    const entry = frame.ref === undefined ? undefined : this.pending?.get(frame.ref);
    if (entry === undefined) return false;
    if (isNotNow(frame.code)) {
      const retry = notNowRetry(host, entry, frame, now);
      if (retry === null) this.fail(host, entry, frame.code, now);
      else {
        if (retry.pauseAll) this.pausedUntil = Math.max(this.pausedUntil, retry.at);
        this.wait(host, entry, retry.at);
      }
    } else this.fail(host, entry, frame.code, now);
    this.fill(host, now);
    return true;
  }

  /**
   * Ack deadlines and retry waits. True when an ack timed out on a connection that has been silent
   * since the send left (not even a ping): the connection is dead, not the server slow, so the wait
   * is no attempt; the caller restarts the connection and the send goes again after the welcome.
   */
  onTimer(host: ClientHost, now: number): boolean {
    this.timerAt = afterFiring(this.timerAt, now);
    if (this.pending === null) return false;
    for (const entry of this.pending.values()) {
      if (!entry.inFlight || entry.dueAt > now) continue;
      if (!host.heardAfter(entry.dueAt - host.config.ackTimeoutMs)) return true;
      if (givesUp(host, entry, now)) this.fail(host, entry, 'timeout', now);
      else if (host.canSend()) {
        this.resent++;
        this.inFlight--;
        this.issue(host, entry, now);
      } else this.wait(host, entry, now);
    }
    this.fill(host, now);
    if (this.pending !== null)
      for (const entry of this.pending.values()) if (entry.inFlight) this.arm(host, entry.dueAt);
    return false;
  }

  /** When the oldest send in flight went out (its ack is due `ackTimeoutMs` after); +Infinity: none. */
  inFlightSince(ackTimeoutMs: number): number {
    let since = Number.POSITIVE_INFINITY;
    if (this.inFlight === 0 || this.pending === null) return since;
    for (const entry of this.pending.values())
      if (entry.inFlight) since = Math.min(since, entry.dueAt - ackTimeoutMs);
    return since;
  }

  /** The connection is gone: nothing is in flight any more; everything is resent after the next welcome. */
  connectionLost(): void {
    if (this.pending === null) return;
    for (const entry of this.pending.values()) {
      if (!entry.inFlight) continue;
      entry.inFlight = false;
      entry.dueAt = 0;
    }
    this.inFlight = 0;
  }

  private issue(host: ClientHost, entry: PendingSend, now: number): void {
    entry.inFlight = true;
    this.inFlight++;
    entry.dueAt = now + host.config.ackTimeoutMs;
    host.frame(clientFrame.send(entry.conv, entry.cmid, entry.body));
    this.arm(host, entry.dueAt);
  }

  private wait(host: ClientHost, entry: PendingSend, at: number): void {
    if (entry.inFlight) {
      entry.inFlight = false;
      this.inFlight--;
    }
    entry.dueAt = at;
    if (host.canSend()) this.arm(host, at);
  }

  private fail(host: ClientHost, entry: PendingSend, code: string, now: number): void {
    this.remove(entry);
    this.settle(host, entry.conv, entry.cmid, 0);
    this.failed++;
    host.record({
      k: 'failed',
      at: now,
      conv: entry.conv,
      cmid: entry.cmid,
      code,
      sentAt: entry.sentAt,
      user: host.user,
      device: host.device,
    });
  }

  private remove(entry: PendingSend): void {
    this.pending?.delete(entry.cmid);
    if (this.pending?.size === 0) this.pending = null;
    if (entry.inFlight) this.inFlight--;
  }

  private settle(host: ClientHost, conv: string, cmid: string, seq: number): void {
    const max = host.config.settledKeptMax;
    if (max <= 0) return;
    const send = { cmid, conv, seq };
    // Exactly as long as it holds until full (an array grown from empty reserves room for 17, and most
    // of a million clients settle a send or two): a new array per settle only while it fills.
    if (this.settled === null) this.settled = [send];
    else if (this.settled.length < max) this.settled = this.settled.concat(send);
    else this.settled[this.settledNext] = send;
    this.settledNext = (this.settledNext + 1) % max;
  }

  private arm(host: ClientHost, at: number): void {
    if (!needsTimer(this.timerAt, at)) return;
    this.timerAt = at;
    host.schedule('outbox', at);
  }
}
