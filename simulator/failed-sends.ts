// The `failedSends` SLO metric, from the history alone (simulated and live runs alike): sends the
// client gave up on. A send refused because the harness itself removed its sender from the
// conversation is what protocol.md demands ("only current members send"), not a failure of the server:
// a member removed while a send waited in an offline device's outbox gets `forbidden` (or its client,
// told by `welcome` it is no longer a member, holds the send and gives up with `not_member` when its
// patience ends). Such a refusal is left out when the harness asked to remove that user from that
// conversation (a removal not refused, sent before the refusal) and the user was not surely a member
// from the send's first issue to the refusal (the membership oracle's judgement by time: a re-add
// still unanswered when the send went out leaves it unsure); every other failure counts. Whether a
// refusal of a sure member is a violation is member-refusals' to judge; this only keeps the SLO from
// counting what the harness caused.

import { ErrorCode } from '../reference-server/protocol/codes.ts';
import type { MetricSource } from '../scenarios/thresholds.ts';
import {
  answeredStatus,
  type ChangeTimes,
  type PairChangeOf,
  surelyMemberThroughoutOf,
} from './checkers/membership-oracle.ts';
import { notMember } from './client/outbox.ts';
import type { HistoryEvent } from './history.ts';
import { failedSendsSource } from './verdict.ts';

const key = (conv: string, user: string): string => `${conv}\u0000${user}`;

/** Failed sends named one by one in a breach's detail; the rest are counted by code. */
const namedMax = 5;

export class FailedSends {
  sent = 0;
  /** Sends given up on that count against the SLO. */
  failed = 0;
  /** Sends refused after the harness removed the sender: expected, not counted. */
  refusedAfterRemoval = 0;
  /** (conv, user) -> every change the harness sent touching them, in request order. */
  private readonly changes = new Map<string, PairChangeOf<ChangeTimes>[]>();
  /** Change id -> its times and status, until answered. */
  private readonly open = new Map<number, ChangeTimes>();
  /** Counted failures per error code, and the first few of them. */
  private readonly codes = new Map<string, number>();
  private readonly named: string[] = [];

  observe(event: HistoryEvent): void {
    switch (event.k) {
      case 'send':
        this.sent++;
        return;
      case 'members-sent': {
        const change: ChangeTimes = { sentAt: event.at, answeredAt: Number.NaN, status: 'pending' };
        for (const user of event.remove) this.touch(event.conv, user, { change, add: false });
        for (const user of event.add) this.touch(event.conv, user, { change, add: true });
        this.open.set(event.id, change);
        return;
      }
      case 'members-answered': {
        const change = this.open.get(event.id);
        this.open.delete(event.id);
        if (change === undefined) return;
        change.answeredAt = event.at;
        // Refused (4xx): nothing changed, so the removal explains no refusal.
        change.status = answeredStatus(event.status);
        return;
      }
      case 'failed': {
        const refusal = event.code === ErrorCode.forbidden || event.code === notMember;
        if (refusal && this.causedByRemoval(event)) this.refusedAfterRemoval++;
        else this.count(event);
        return;
      }
    }
  }

  source(): MetricSource {
    return failedSendsSource({
      sent: this.sent,
      failed: this.failed,
      ...(this.failed > 0 ? { detail: this.detail() } : {}),
    });
  }

  /** By code, then the first few: `by code: unavailable 2; first: u1-d0 in g1 (cmid u1-5) unavailable after 30012 ms, at 41000 ms; ...`. */
  detail(): string {
    const codes = [...this.codes].map(([code, n]) => `${code} ${n}`).join(', ');
    const more = this.failed > this.named.length ? `, and ${this.failed - this.named.length} more` : '';
    return `by code: ${codes}; first: ${this.named.join('; ')}${more}`;
  }

  private count(event: Extract<HistoryEvent, { k: 'failed' }>): void {
    this.failed++;
    this.codes.set(event.code, (this.codes.get(event.code) ?? 0) + 1);
    if (this.named.length < namedMax)
      this.named.push(
        `${event.device} in ${event.conv} (cmid ${event.cmid}) ${event.code} after ${event.at - event.sentAt} ms, at ${event.at} ms`,
      );
  }

  private touch(conv: string, user: string, change: PairChangeOf<ChangeTimes>): void {
    const k = key(conv, user);
    const list = this.changes.get(k);
    if (list === undefined) this.changes.set(k, [change]);
    else list.push(change);
  }

  /** A removal the harness asked for may explain the refusal: the sender was not surely a member throughout. */
  private causedByRemoval(event: Extract<HistoryEvent, { k: 'failed' }>): boolean {
    const changes = this.changes.get(key(event.conv, event.user));
    if (changes === undefined) return false;
    const removed = changes.some(
      ({ change, add }) => !add && change.status !== 'refused' && change.sentAt <= event.at,
    );
    // With such a removal, whether the user was a member from the creation cannot make it surely one.
    return removed && !surelyMemberThroughoutOf(changes, false, event.sentAt, event.at);
  }
}
