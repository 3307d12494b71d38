// Whether the faults left a stretch of the run alone: a checker that judges what only a healed world
// owes (an answer to a request, at last the ack of a send made again) judges it only when no fault was
// open at any moment from the request on. Fed the run's `fault` events in order.

import type { HistoryEventOf } from '../history.ts';

export class FaultQuiet {
  private open = 0;
  /** When the last fault started or healed. */
  lastAt = Number.NEGATIVE_INFINITY;

  observe(event: HistoryEventOf<'fault'>): void {
    this.open = Math.max(0, this.open + (event.phase === 'start' ? 1 : -1));
    this.lastAt = event.at;
  }

  get anyOpen(): boolean {
    return this.open > 0;
  }

  /** No fault is open at `now`, and the last one started or healed `ms` or more before it. */
  healedFor(now: number, ms: number): boolean {
    return this.open === 0 && this.lastAt <= now - ms;
  }

  /** No fault is open now, and none started or healed from `from` on. */
  quietSince(from: number): boolean {
    return this.open === 0 && this.lastAt < from;
  }
}
