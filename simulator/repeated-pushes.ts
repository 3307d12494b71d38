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
  /**
   * user -> device -> conv -> the newest seq displayed there (displays come in seq order, at most once).
   * Keyed by the event's own strings, whose hashes they keep: a key joined per display and push was
   * built and hashed anew each time (1.4% of the gate's CPU, docs/benchmarks.md session 30).
   */
  private readonly displayedUpTo = new Map<string, Map<string, Map<string, number>>>();

  observe(event: HistoryEvent): void {
    if (event.k === 'display') {
      let devices = this.displayedUpTo.get(event.user);
      if (devices === undefined) {
        devices = new Map();
        this.displayedUpTo.set(event.user, devices);
      }
      let convs = devices.get(event.device);
      if (convs === undefined) {
        convs = new Map();
        devices.set(event.device, convs);
      }
      convs.set(event.message.conv, event.message.seq);
      return;
    }
    if (event.k !== 'conv-frame' || event.t !== 'msg') return;
    const upTo = this.displayedUpTo.get(event.user)?.get(event.device)?.get(event.conv) ?? 0;
    for (const seq of event.seqs ?? []) {
      this.pushed++;
      if (seq <= upTo) this.repeated++;
    }
  }

  source(): MetricSource {
    return this.pushed === 0 ? {} : { count: this.repeated, rate: this.repeated / this.pushed };
  }
}
