// A device that loses the acks it was given: an app killed after its last send was acked but before it
// kept the ack sends that message again (same conversation, cmid and body) when it next has a session.
// protocol.md: the same (sender, conv, cmid) again yields the same ack, same seq and same ts, and stores
// nothing new, for as long as the store keeps the message. So each session after the first sends the
// last acked message again, and its answer is recorded as `resent-ack` with the first ack beside it,
// for the idempotency checker. Across a node's restart this reaches the store's idempotency index as
// recovery rebuilt it (from a checkpoint's index chunks and the log after it), which no other workload
// asks about a key acked before the restart. An `err` answering it is recorded as `resent-err` (judged
// by idempotency, or by authorization when it says "not a member"); none within the ack timeout, on a
// connection heard from since (the server up), as `unanswered` (read-pages judges silence away from
// faults). A session lost before the answer (a crash, a disconnect) ends the wait unjudged, as the
// outbox's resend-after-welcome does; so does a connection silent since the send (dead, not the server).

import type { AckFrame, ErrFrame, WelcomeFrame } from '../../reference-server/protocol/frames.ts';
import type { PendingSend } from './outbox.ts';
import { VirtualClient } from './virtual-client.ts';
import { clientFrame } from './wire.ts';

type Acked = { conv: string; cmid: string; body: string; seq: number; ts: number };

export class ResendingClient extends VirtualClient {
  private lastAcked: Acked | null = null;
  /** The send made again on this session, until its ack. */
  private resending: (Acked & { at: number }) | null = null;

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
    if (resending === null || frame.ref !== resending.cmid) return;
    if (frame.conv !== undefined && frame.conv !== resending.conv) return;
    this.resending = null;
    this.record({
      k: 'resent-err',
      at: now,
      conv: resending.conv,
      cmid: resending.cmid,
      code: frame.code,
      resentAt: resending.at,
      first: { seq: resending.seq, ts: resending.ts },
      user: this.user,
      device: this.device,
    });
  }

  protected override resendDue(now: number): void {
    const resending = this.resending;
    if (resending === null || now < resending.at + this.config.ackTimeoutMs) return;
    this.resending = null;
    // Nothing heard since the send (not even a ping): the connection is dead, not the server silent.
    if (!this.heardAfter(resending.at)) return;
    this.record({
      k: 'unanswered',
      at: now,
      asked: 'send',
      askedAt: resending.at,
      conv: resending.conv,
      user: this.user,
      device: this.device,
    });
  }

  protected override sessionOpened(welcome: WelcomeFrame, now: number): void {
    super.sessionOpened(welcome, now);
    const last = this.lastAcked;
    if (this.welcomes < 2 || last === null || this.isPastMember(last.conv)) return;
    this.resending = { ...last, at: now };
    this.frame(clientFrame.send(last.conv, last.cmid, last.body));
    this.schedule('resend', now + this.config.ackTimeoutMs);
  }

  protected override sessionLost(reason: string, now: number): void {
    super.sessionLost(reason, now);
    this.resending = null;
  }
}
