// Fan-out lag, the `fanoutLag` threshold metric: per message, the time from its first recipient's
// display to its last's (other devices than the sender's own), over messages shown on at least two.
// Judged from the same history events in simulation and live runs. It keeps two numbers per message
// until the end, so a run measures it only when a scenario sets a `fanoutLag` threshold.

import { LatencyHistogram } from '../bench/latency-histogram.ts';
import type { HistoryEvent } from './history.ts';

export class FanoutLagMeter {
  private readonly spans = new Map<string, { first: number; last: number; displays: number }>();

  /** Messages sent before `fromMs` (the warm-up, clients still connecting) are not judged. */
  constructor(private readonly fromMs: number) {}

  observe(event: HistoryEvent): void {
    if (event.k !== 'display' || event.via === 'own' || event.message.ts < 0) return;
    const key = `${event.message.conv}\u0000${event.message.seq}`;
    const span = this.spans.get(key);
    if (span === undefined) {
      if (event.at < this.fromMs) return;
      this.spans.set(key, { first: event.at, last: event.at, displays: 1 });
      return;
    }
    span.last = Math.max(span.last, event.at);
    span.displays++;
  }

  /** The per-message lags, in ms, of every message displayed on two devices or more. */
  histogram(): LatencyHistogram {
    const histogram = new LatencyHistogram();
    for (const { first, last, displays } of this.spans.values())
      if (displays >= 2) histogram.recordMs(last - first);
    return histogram;
  }
}
