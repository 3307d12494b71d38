// Repeated pushes, the `repeatedPushes` threshold metric: `msg` frames carrying a seq the device had
// already displayed (by push, sync, resume, or as the sender of it). protocol.md lets pushes repeat, so
// no property judges them; a server whose fan-out bookkeeping pushes messages again (a gap fill that
// re-reads what was pushed, a push sent twice) loses nothing and only costs its users bandwidth, which
// this measures. Judged from the same history events in simulation and live runs; it keeps one number
// per (device, conversation), so a run measures it only when a scenario sets a threshold on it.

import type { MetricSource } from '../scenarios/thresholds.ts';
import type { HistoryEvent } from './history.ts';

export class RepeatedPushes {
  pushed = 0;
  repeated = 0;
  /** `user device conv` -> the newest seq displayed there (displays come in seq order, at most once). */
  private readonly displayedUpTo = new Map<string, number>();

  observe(event: HistoryEvent): void {
    if (event.k === 'display') {
      this.displayedUpTo.set(
        `${event.user}\u0000${event.device}\u0000${event.message.conv}`,
        event.message.seq,
      );
      return;
    }
    if (event.k !== 'conv-frame' || event.t !== 'msg') return;
    const upTo = this.displayedUpTo.get(`${event.user}\u0000${event.device}\u0000${event.conv}`) ?? 0;
    for (const seq of event.seqs ?? []) {
      this.pushed++;
      if (seq <= upTo) this.repeated++;
    }
  }

  source(): MetricSource {
    return this.pushed === 0 ? {} : { count: this.repeated, rate: this.repeated / this.pushed };
  }
}
