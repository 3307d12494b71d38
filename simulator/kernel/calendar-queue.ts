// A calendar queue (Brown, 1988) for the simulator's agenda: events fall into 1 ms buckets on a
// ring, so push and pop are O(1) amortized however many events wait (a heap pays log n cache misses
// per operation at a million clients). Events past the ring's horizon wait in a heap. The pop order
// is exactly the heap's: (time, insertion order), so a run's trace does not depend on which is used.

import { EventQueue } from './event-queue.ts';

/** What the queue holds: the item itself carries its time and insertion order (no wrapper per event). */
export type Timed = { at: number; order: number };

/** 2^16 buckets of 1 ms: 65 s ahead in the ring, later events in the overflow heap. */
const ringBits = 16;
const ringSize = 1 << ringBits;
const ringMask = ringSize - 1;

export class CalendarQueue<T extends Timed> {
  private readonly ring: (T[] | undefined)[] = new Array(ringSize);
  /** Whether a bucket has had pushes since it was last sorted. */
  private readonly dirty = new Uint8Array(ringSize);
  private readonly overflow = new EventQueue<T>();
  /** The ms of the bucket being drained, and the next entry in it. */
  private base = 0;
  private cursor = 0;
  private order = 0;
  private inRing = 0;

  get size(): number {
    return this.inRing + this.overflow.size;
  }

  /** Sets `item.at` and `item.order` and queues it. */
  push(at: number, entry: T): void {
    entry.at = at;
    entry.order = this.order++;
    const ms = Math.floor(at);
    if (ms >= this.base + ringSize) {
      this.overflow.push(at, entry);
      return;
    }
    // Never earlier than what is being drained: the simulator only schedules at or after `now`.
    const slot = (ms < this.base ? this.base : ms) & ringMask;
    let bucket = this.ring[slot];
    if (bucket === undefined) {
      bucket = [];
      this.ring[slot] = bucket;
    }
    this.inRing++;
    if (ms <= this.base && !this.dirty[slot]) {
      // Into the bucket being drained: keep its undrained part sorted (this entry's order is the largest).
      let lo = this.cursor;
      let hi = bucket.length;
      while (lo < hi) {
        const mid = (lo + hi) >> 1;
        if (bucket[mid]!.at <= at) lo = mid + 1;
        else hi = mid;
      }
      bucket.splice(lo, 0, entry);
    } else {
      bucket.push(entry);
      this.dirty[slot] = 1;
    }
  }

  peekTime(): number | undefined {
    const entry = this.next();
    return entry?.at;
  }

  /** Removes the earliest event; call only when size > 0. */
  pop(): T {
    const entry = this.next()!;
    this.cursor++;
    this.inRing--;
    return entry;
  }

  /** The earliest entry, moving `base` forward over drained buckets as needed. */
  private next(): T | undefined {
    if (this.size === 0) return undefined;
    for (;;) {
      const slot = this.base & ringMask;
      const bucket = this.ring[slot];
      if (bucket !== undefined && this.cursor < bucket.length) {
        if (this.dirty[slot]) {
          sortFrom(bucket, this.cursor);
          this.dirty[slot] = 0;
        }
        return bucket[this.cursor];
      }
      if (bucket !== undefined) bucket.length = 0;
      this.cursor = 0;
      this.dirty[slot] = 0;
      // Nothing left in the ring: jump straight to the overflow's earliest time.
      this.base =
        this.inRing === 0 ? Math.max(this.base + 1, Math.floor(this.overflow.peekTime()!)) : this.base + 1;
      this.refill();
    }
  }

  /** Moves overflow events that now fall inside the ring into their buckets. */
  private refill(): void {
    const horizon = this.base + ringSize;
    for (let t = this.overflow.peekTime(); t !== undefined && t < horizon; t = this.overflow.peekTime()) {
      const entry = this.overflow.pop();
      const slot = Math.floor(entry.at) & ringMask;
      let bucket = this.ring[slot];
      if (bucket === undefined) {
        bucket = [];
        this.ring[slot] = bucket;
      }
      bucket.push(entry);
      this.dirty[slot] = 1;
      this.inRing++;
    }
  }
}

/**
 * Sorts `bucket[from..]` by (time, insertion order) in place. Not Array.prototype.sort: that copies the
 * range (and slicing it out first copied it again), and every bucket is sorted once, about 500 events a
 * millisecond at a million clients. The order is total (insertion orders are unique), so any correct
 * sort gives the same result.
 */
export function sortFrom<T extends Timed>(bucket: T[], from: number): void {
  quicksort(bucket, from, bucket.length - 1);
}

/** Ranges this short are finished by insertion sort. */
const insertionSortMax = 16;

function before(a: Timed, b: Timed): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}

function quicksort<T extends Timed>(items: T[], lo: number, hi: number): void {
  while (hi - lo >= insertionSortMax) {
    // Median of three as the pivot, so runs already in order (the common case) split evenly.
    const mid = (lo + hi) >>> 1;
    if (before(items[mid]!, items[lo]!)) swap(items, mid, lo);
    if (before(items[hi]!, items[lo]!)) swap(items, hi, lo);
    if (before(items[hi]!, items[mid]!)) swap(items, hi, mid);
    const pivot = items[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (before(items[i]!, pivot)) i++;
      while (before(pivot, items[j]!)) j--;
      if (i <= j) swap(items, i++, j--);
    }
    // Recurse into the smaller side, loop on the larger: the stack stays logarithmic.
    if (j - lo < hi - i) {
      quicksort(items, lo, j);
      lo = i;
    } else {
      quicksort(items, i, hi);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const item = items[i]!;
    let j = i - 1;
    while (j >= lo && before(item, items[j]!)) {
      items[j + 1] = items[j]!;
      j--;
    }
    items[j + 1] = item;
  }
}

function swap<T>(items: T[], a: number, b: number): void {
  const item = items[a]!;
  items[a] = items[b]!;
  items[b] = item;
}
