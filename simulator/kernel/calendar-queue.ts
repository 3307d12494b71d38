// A calendar queue (Brown, 1988) for the simulator's agenda: events fall into 1 ms buckets on a
// ring, so push and pop are O(1) amortized however many events wait (a heap pays log n cache misses
// per operation at a million clients). Events past the ring's horizon wait in a heap. The pop order
// is exactly the heap's: (time, insertion order), so a run's trace does not depend on which is used.

import { EventQueue } from './event-queue.ts';
import { grown } from './typed-arrays.ts';

/** 2^16 buckets of 1 ms: 65 s ahead in the ring, later events in the overflow heap. */
const ringBits = 16;
const ringSize = 1 << ringBits;
const ringMask = ringSize - 1;

/**
 * A handle's row, 32 bytes: its time and insertion order (doubles), then three 32-bit words the caller
 * gives with it (the agenda: an event's kind, target and instance). Sorting a bucket reads a handle's
 * time and order, and popping it its words: one cache line a handle, where four columns cost four
 * misses an event at a million clients (the handles in a bucket come in any order).
 */
const rowDoubles = 4;
const timeDouble = 0;
const orderDouble = 1;
/** The first of the caller's words, as a 32-bit index into the row (after the two doubles). */
const firstWord = 4;
/** How many words a row holds for the caller. */
export const calendarWords = 3;

/**
 * Queued entries are handles: small non-negative integers the caller gives (each queued at most once at
 * a time) and keeps whatever the entry is about by. The queue keeps each handle's time, insertion
 * order and the caller's three words in one row, so an entry costs no object and no boxed time (an
 * event object of six fields and its boxed time were 88 bytes a pending event, about one per client at
 * every moment).
 */
export class CalendarQueue {
  private readonly ring: (number[] | undefined)[] = new Array(ringSize);
  /** Whether a bucket has had pushes since it was last sorted. */
  private readonly dirty = new Uint8Array(ringSize);
  private readonly overflow = new EventQueue<number>();
  /** By handle: its row while it is queued (as doubles and as 32-bit words: one buffer, replaced when grown). */
  private rows = new Float64Array(1024 * rowDoubles);
  private words = new Int32Array(this.rows.buffer);
  /** The ms of the bucket being drained, and the next entry in it. */
  private base = 0;
  private cursor = 0;
  private order = 0;
  private inRing = 0;

  get size(): number {
    return this.inRing + this.overflow.size;
  }

  /** The time `handle` was queued at (while queued, and after it is popped until it is queued again). */
  timeOf(handle: number): number {
    return this.rows[handle * rowDoubles + timeDouble]!;
  }

  /** The caller's word `k` (0 to 2) given with `handle` (while queued, and after it is popped until it is queued again). */
  wordOf(handle: number, k: number): number {
    return this.words[handle * 2 * rowDoubles + firstWord + k]!;
  }

  /** Queues `handle` at time `at`, with three 32-bit words of the caller's (see wordOf). */
  push(at: number, handle: number, word0 = 0, word1 = 0, word2 = 0): void {
    if (handle * rowDoubles >= this.rows.length) this.grow(handle);
    const rows = this.rows;
    const row = handle * rowDoubles;
    rows[row + timeDouble] = at;
    rows[row + orderDouble] = this.order++;
    const words = this.words;
    const word = 2 * row + firstWord;
    words[word] = word0;
    words[word + 1] = word1;
    words[word + 2] = word2;
    const ms = Math.floor(at);
    if (ms >= this.base + ringSize) {
      this.overflow.push(at, handle);
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
        if (rows[bucket[mid]! * rowDoubles + timeDouble]! <= at) lo = mid + 1;
        else hi = mid;
      }
      bucket.splice(lo, 0, handle);
    } else {
      bucket.push(handle);
      this.dirty[slot] = 1;
    }
  }

  peekTime(): number | undefined {
    const handle = this.next();
    return handle === -1 ? undefined : this.rows[handle * rowDoubles + timeDouble];
  }

  /** Removes the earliest entry and returns its handle; call only when size > 0. */
  pop(): number {
    const handle = this.next();
    this.cursor++;
    this.inRing--;
    return handle;
  }

  /** Grows the rows to hold `handle` (by half again: they are sized by the most entries ever queued). */
  private grow(handle: number): void {
    const rowCount = Math.max(handle + 1, Math.ceil((this.rows.length / rowDoubles) * 1.5));
    // Byte for byte: half of a row is no double.
    this.words = grown(this.words, rowCount * 2 * rowDoubles);
    this.rows = new Float64Array(this.words.buffer);
  }

  /** The earliest entry (-1: none), moving `base` forward over drained buckets as needed. */
  private next(): number {
    if (this.size === 0) return -1;
    for (;;) {
      const slot = this.base & ringMask;
      const bucket = this.ring[slot];
      if (bucket !== undefined && this.cursor < bucket.length) {
        if (this.dirty[slot]) {
          sortFrom(bucket, this.cursor, this.rows);
          this.dirty[slot] = 0;
        }
        return bucket[this.cursor]!;
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

  /** Moves overflow entries that now fall inside the ring into their buckets. */
  private refill(): void {
    const horizon = this.base + ringSize;
    for (let t = this.overflow.peekTime(); t !== undefined && t < horizon; t = this.overflow.peekTime()) {
      const handle = this.overflow.pop();
      const slot = Math.floor(this.rows[handle * rowDoubles + timeDouble]!) & ringMask;
      let bucket = this.ring[slot];
      if (bucket === undefined) {
        bucket = [];
        this.ring[slot] = bucket;
      }
      bucket.push(handle);
      this.dirty[slot] = 1;
      this.inRing++;
    }
  }
}

/**
 * Sorts the handles `bucket[from..]` in place by (time, insertion order), read from each handle's row in
 * `rows` (`sortRow` doubles a row: its time, then its order). Not Array.prototype.sort: that copies the range (and slicing it out first copied it again),
 * and every bucket is sorted once, about 500 events a millisecond at a million clients. The order is
 * total (insertion orders are unique), so any correct sort gives the same result.
 */
export function sortFrom(bucket: number[], from: number, rows: Float64Array): void {
  quicksort(bucket, from, bucket.length - 1, rows);
}

/** A row's width in doubles, as sortFrom reads `rows`. */
export const sortRow = rowDoubles;

/** Ranges this short are finished by insertion sort. */
const insertionSortMax = 16;

function before(a: number, b: number, rows: Float64Array): boolean {
  const at = rows[a * rowDoubles + timeDouble]!;
  const bt = rows[b * rowDoubles + timeDouble]!;
  return at < bt || (at === bt && rows[a * rowDoubles + orderDouble]! < rows[b * rowDoubles + orderDouble]!);
}

function quicksort(items: number[], lo: number, hi: number, rows: Float64Array): void {
  while (hi - lo >= insertionSortMax) {
    // Median of three as the pivot, so runs already in order (the common case) split evenly.
    const mid = (lo + hi) >>> 1;
    if (before(items[mid]!, items[lo]!, rows)) swap(items, mid, lo);
    if (before(items[hi]!, items[lo]!, rows)) swap(items, hi, lo);
    if (before(items[hi]!, items[mid]!, rows)) swap(items, hi, mid);
    const pivot = items[mid]!;
    let i = lo;
    let j = hi;
    while (i <= j) {
      while (before(items[i]!, pivot, rows)) i++;
      while (before(pivot, items[j]!, rows)) j--;
      if (i <= j) swap(items, i++, j--);
    }
    // Recurse into the smaller side, loop on the larger: the stack stays logarithmic.
    if (j - lo < hi - i) {
      quicksort(items, lo, j, rows);
      lo = i;
    } else {
      quicksort(items, i, hi, rows);
      hi = j;
    }
  }
  for (let i = lo + 1; i <= hi; i++) {
    const item = items[i]!;
    let j = i - 1;
    while (j >= lo && before(item, items[j]!, rows)) {
      items[j + 1] = items[j]!;
      j--;
    }
    items[j + 1] = item;
  }
}

function swap(items: number[], a: number, b: number): void {
  const item = items[a]!;
  items[a] = items[b]!;
  items[b] = item;
}
