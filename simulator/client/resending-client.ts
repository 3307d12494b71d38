// A device that loses the acks it was given: an app killed after its last send was acked but before it
// kept the ack sends that message again (same conversation, cmid and body) when it next has a session.
// protocol.md: the same (sender, conv, cmid) again yields the same ack, same seq and same ts, and stores
// nothing new, for as long as the store keeps the message. So each session after the first sends the
// last acked message again, and its answer is recorded as `resent-ack` with the first ack beside it,
// for the idempotency checker. Across a node's restart this reaches the store's idempotency index as
// recovery rebuilt it (from a checkpoint's index chunks and the log after it), which no other workload
// asks about a key acked before the restart. A "not now" (`rate_limited`, `unavailable`: retry with the
// same cmid) sends it again by the outbox's own rule (outbox.ts `notNowRetry`: `retryAfterMs`, else its
// backoff, bounded in attempts and patience); a send that used them all up without its ack is recorded
// as `resent-err` with its code and `tries` (judged by idempotency: the server never gave the same
// ack). Any other `err` is recorded as `resent-err` at once (judged by idempotency, or by authorization
// when it says "not a member"); no answer within the ack timeout, on a connection heard from since (the
// server up), as `unanswered` (read-pages judges silence away from faults). A session lost before the
// answer (a crash, a disconnect) ends the wait unjudged, as the outbox's resend-after-welcome does; so
// does a connection silent since the send (dead, not the server). Until then the run does not settle
// (`resendPending`), as it waits for the outbox.

import { isNotNow } from '../../reference-server/protocol/codes.ts';
import type { AckFrame, ErrFrame, WelcomeFrame } from '../../reference-server/protocol/frames.ts';
import { notNowRetry, PendingSend } from './outbox.ts';
import { VirtualClient } from './virtual-client.ts';
import { clientFrame } from './wire.ts';

type Acked = { conv: string; cmid: string; body: string; seq: number; ts: number };

/**
 * The send made again on this session, until its answer: `at` when it was first made again; `tries`
 * the sends so far; `waiting` while a "not now" holds it back until `entry.dueAt` (else `entry.dueAt`
 * is the current try's ack deadline). `entry` counts its "not now" answers as the outbox counts a
 * send's (its `sentAt` is `at`: the patience runs from the resend).
 */
type Resending = Acked & { at: number; tries: number; triedAt: number; waiting: boolean; entry: PendingSend };

export class ResendingClient extends VirtualClient {
  private lastAcked: Acked | null = null;
  private resending: Resending | null = null;

  /** A send made again is waiting for its answer or for its retry: the run has not settled. */
  override get resendPending(): boolean {
    return this.resending !== null;
  }

  protected override sendAcked(entry: PendingSend, frame: AckFrame, _now: number): void {
    this.lastAcked = { conv: frame.conv, cmid: frame.cmid, body: entry.body, seq: frame.seq, ts: frame.ts };
  }

  protected override otherAck(frame: AckFrame, now: number): void {
    const resending = this.resending;
    if (resending === null || frame.cmid !== resending.cmid || frame.conv !== resending.conv) return;
    this.resending = null;
    this.record({
      k: 'resent-ack',
      at: now,
      conv: frame.conv,
      cmid: frame.cmid,
      seq: frame.seq,
      ts: frame.ts,
      resentAt: resending.at,
      first: { seq: resending.seq, ts: resending.ts },
      user: this.user,
      device: this.device,
    });
  }

  protected override otherErr(frame: ErrFrame, now: number): void {
    const resending = this.resending;
    if (resending === null || resending.waiting || frame.ref !== resending.cmid) return;
    if (frame.conv !== undefined && frame.conv !== resending.conv) return;
    if (isNotNow(frame.code)) {
      const retry = notNowRetry(this, resending.entry, frame, now);
      if (retry !== null) {
        resending.waiting = true;
        resending.entry.dueAt = retry.at;
        this.schedule('resend', retry.at);
        return;
      }
    }
    this.resending = null;
    this.record({
      k: 'resent-err',
      at: now,
      conv: resending.conv,
      cmid: resending.cmid,
      code: frame.code,
      resentAt: resending.at,
      first: { seq: resending.seq, ts: resending.ts },
      ...(resending.tries > 1 || isNotNow(frame.code) ? { tries: resending.tries } : {}),
      user: this.user,
      device: this.device,
    });
  }

  protected override resendDue(now: number): void {
    const resending = this.resending;
    if (resending === null || now < resending.entry.dueAt) return;
    if (resending.waiting) {
      resending.waiting = false;
      // A drain: the session is ending, and with it the wait (unjudged), as when it is lost.
      if (this.canSend()) this.tryAgain(resending, now);
      else this.resending = null;
      return;
    }
    this.resending = null;
    // Nothing heard since the send (not even a ping): the connection is dead, not the server silent.
    if (!this.heardAfter(resending.triedAt)) return;
    this.record({
      k: 'unanswered',
      at: now,
      asked: 'send',
      askedAt: resending.triedAt,
      conv: resending.conv,
      heardAt: this.lastHeard(),
      user: this.user,
      device: this.device,
    });
  }

  protected override sessionOpened(welcome: WelcomeFrame, now: number): void {
    super.sessionOpened(welcome, now);
    const last = this.lastAcked;
    if (this.welcomes < 2 || last === null || this.isPastMember(last.conv)) return;
    const entry = new PendingSend(last.conv, last.cmid, last.body, now);
    this.resending = { ...last, at: now, tries: 0, triedAt: now, waiting: false, entry };
    this.tryAgain(this.resending, now);
  }

  protected override unansweredSince(): number {
    const resending = this.resending;
    const since = super.unansweredSince();
    return resending === null || resending.waiting ? since : Math.min(since, resending.triedAt);
  }

  protected override sessionLost(reason: string, now: number): void {
    super.sessionLost(reason, now);
    this.resending = null;
  }

  private tryAgain(resending: Resending, now: number): void {
    resending.tries++;
    resending.triedAt = now;
    resending.entry.dueAt = now + this.config.ackTimeoutMs;
    this.frame(clientFrame.send(resending.conv, resending.cmid, resending.body));
    this.schedule('resend', resending.entry.dueAt);
  }
}
