// The generators' histories merged into one, in time order. Each generator streams its own events in
// the order it saw them, every `at` on the same clock (the machine's, from the run's origin); batches
// from different generators reach the driver in no particular order, so a frame one generator
// received could reach the checkers before the send another generator made that caused it (a typing
// "nobody typed"). Each batch carries the generator's promise that no later event of its will be
// earlier than `upTo`; an event is released once every generator still running has promised past it,
// earliest first, each generator's own order kept.

import type { HistoryEvent } from '../history.ts';

type Source = { queue: HistoryEvent[]; head: number; upTo: number; open: boolean };

export class HistoryMerge {
  private readonly sources: Source[] = [];

  constructor(private readonly deliver: (event: HistoryEvent) => void) {}

  /** A new generator's stream; nothing it holds is released before it promises a time. */
  addSource(): number {
    this.sources.push({ queue: [], head: 0, upTo: Number.NEGATIVE_INFINITY, open: true });
    return this.sources.length - 1;
  }

  /** A batch of one source, in its own order; `upTo`: none of its later events is earlier (null: no promise). */
  push(source: number, events: readonly HistoryEvent[], upTo: number | null): void {
    const s = this.sources[source]!;
    for (const event of events) s.queue.push(event);
    if (upTo !== null && upTo > s.upTo) s.upTo = upTo;
    this.release();
  }

  /** The source has ended (its report came, or it died): everything it sent can go. */
  close(source: number): void {
    const s = this.sources[source];
    if (s === undefined || !s.open) return;
    s.open = false;
    s.upTo = Number.POSITIVE_INFINITY;
    this.release();
  }

  /** The time up to which every open source's events have been released (how far the checkers got). */
  get watermark(): number {
    let watermark = Number.POSITIVE_INFINITY;
    for (const s of this.sources) if (s.open && s.upTo < watermark) watermark = s.upTo;
    return watermark;
  }

  /** Events held back, waiting for a slower generator's promise. */
  get held(): number {
    return this.sources.reduce((n, s) => n + s.queue.length - s.head, 0);
  }

  private release(): void {
    let watermark = Number.POSITIVE_INFINITY;
    for (const s of this.sources) if (s.upTo < watermark) watermark = s.upTo;
    for (;;) {
      let next: Source | null = null;
      for (const s of this.sources) {
        const event = s.queue[s.head];
        if (
          event !== undefined &&
          event.at <= watermark &&
          (next === null || event.at < next.queue[next.head]!.at)
        )
          next = s;
      }
      if (next === null) break;
      this.deliver(next.queue[next.head]!);
      next.head++;
      if (next.head === next.queue.length) {
        next.queue = [];
        next.head = 0;
      } else if (next.head > 4096 && next.head * 2 > next.queue.length) {
        next.queue = next.queue.slice(next.head);
        next.head = 0;
      }
    }
  }
}
