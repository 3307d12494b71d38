// The `failedSends` SLO metric, from the history alone (simulated and live runs alike): sends the
// client gave up on. A send refused because the harness itself removed its sender from the
// conversation is what protocol.md demands ("only current members send"), not a failure of the server:
// a member removed while a send waited in an offline device's outbox gets `forbidden` (or its client,
// told by `welcome` it is no longer a member, gives up with `not_member`). Such a refusal is left out
// when the newest change the harness sent touching that user in that conversation was a removal that
// was not refused; every other failure counts.

import { ErrorCode } from '../reference-server/protocol/codes.ts';
import type { MetricSource } from '../scenarios/thresholds.ts';
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
  /** (conv, user) -> the newest change the harness sent touching them. */
  private readonly newest = new Map<string, { id: number; removal: boolean }>();
  /** Change id -> whom it touched, until answered. */
  private readonly open = new Map<number, string[]>();
  /** Counted failures per error code, and the first few of them. */
  private readonly codes = new Map<string, number>();
  private readonly named: string[] = [];

  observe(event: HistoryEvent): void {
    switch (event.k) {
      case 'send':
        this.sent++;
        return;
      case 'members-sent': {
        const touched: string[] = [];
        for (const user of event.add) touched.push(this.touch(event.conv, user, event.id, false));
        for (const user of event.remove) touched.push(this.touch(event.conv, user, event.id, true));
        this.open.set(event.id, touched);
        return;
      }
      case 'members-answered': {
        const touched = this.open.get(event.id);
        this.open.delete(event.id);
        // Refused (4xx): nothing changed, so the removal explains no refusal.
        if (touched === undefined || event.status < 400 || event.status >= 500) return;
        for (const k of touched) if (this.newest.get(k)?.id === event.id) this.newest.delete(k);
        return;
      }
      case 'failed': {
        const refusal = event.code === ErrorCode.forbidden || event.code === notMember;
        if (refusal && this.newest.get(key(event.conv, event.user))?.removal === true)
          this.refusedAfterRemoval++;
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

  private touch(conv: string, user: string, id: number, removal: boolean): string {
    const k = key(conv, user);
    this.newest.set(k, { id, removal });
    return k;
  }
}
