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
        else this.failed++;
        return;
      }
    }
  }

  source(): MetricSource {
    return failedSendsSource({ sent: this.sent, failed: this.failed });
  }

  private touch(conv: string, user: string, id: number, removal: boolean): string {
    const k = key(conv, user);
    this.newest.set(k, { id, removal });
    return k;
  }
}
