// Maps a key of two unsigned 32-bit words, such as (device id, conv id) or (conv id, seq), to a dense
// slot 0, 1, 2, ... so per-key state can live in Columns. Open addressing over typed arrays: a few
// bytes per key where a Map of objects would cost a hundred, and no Map size ceiling (2^24 in V8).
// Invariants: slots are handed out in insertion order without holes; a key keeps its slot until
// `retain` drops keys (a checker that judged them against a read during the run), which renumbers the
// kept ones in their order.

import { fmix32 } from '../kernel/prng.ts';
import { defaultCheckerLimits } from './limits.ts';

const emptyIndex = 0;
/** Most keys per bucket before the index doubles. */
const loadMax = 0.75;

export class SlotTable {
  /**
   * Open-addressed index, three words a bucket: slot + 1 (0 where empty) and the key's two words, so
   * a probe reads one cache line, not the index and then two key arrays. Kept at most three quarters
   * full: half full, a table of a million keys took four million buckets (64 MB with its keys), and
   * five buckets share a cache line, so a longer probe is still mostly one line.
   */
  private index: Uint32Array;
  private mask: number;
  /** The keys by slot (keyA, keyB), for reading a slot's key back; grown on its own, by half. */
  private keys: Uint32Array;
  private count = 0;
  private lastA = -1;
  private lastB = -1;
  private lastSlot = -1;

  constructor(
    capacity = defaultCheckerLimits.tableEntriesInitial,
    private readonly entriesMax = defaultCheckerLimits.tableEntriesMax,
  ) {
    let size = 16;
    while (size * loadMax < capacity) size *= 2;
    this.index = new Uint32Array(size * 3);
    this.mask = size - 1;
    this.keys = new Uint32Array(capacity * 2);
  }

  get size(): number {
    return this.count;
  }

  /** The key's slot, or -1 if it has none. */
  find(a: number, b: number): number {
    const index = this.index;
    const wordA = a >>> 0;
    const wordB = b >>> 0;
    let at = mix(a, b) & this.mask;
    for (;;) {
      const bucket = at * 3;
      const entry = index[bucket]!;
      if (entry === emptyIndex) return -1;
      if (index[bucket + 1] === wordA && index[bucket + 2] === wordB) return entry - 1;
      at = (at + 1) & this.mask;
    }
  }

  /** The key's slot, giving it the next one if it has none. */
  intern(a: number, b: number): number {
    // Checkers sharing a table look up the same event's key in turn: the last answer is the likely one.
    if (a === this.lastA && b === this.lastB) return this.lastSlot;
    const slot = this.internSlow(a, b);
    this.lastA = a;
    this.lastB = b;
    this.lastSlot = slot;
    return slot;
  }

  private internSlow(a: number, b: number): number {
    const found = this.find(a, b);
    if (found >= 0) return found;
    if (this.count >= this.entriesMax) {
      throw new Error(`checker slot table is over tableEntriesMax ${this.entriesMax}: the run is too big`);
    }
    if (this.count + 1 > (this.mask + 1) * loadMax) this.grow();
    if ((this.count + 1) * 2 > this.keys.length) {
      const keys = new Uint32Array(Math.max(32, Math.ceil(this.keys.length * 1.5)));
      keys.set(this.keys);
      this.keys = keys;
    }
    const slot = this.count++;
    this.keys[slot * 2] = a;
    this.keys[slot * 2 + 1] = b;
    this.place(slot, a >>> 0, b >>> 0);
    return slot;
  }

  /**
   * Keeps the slots `keep` says yes to, renumbered in their order, and returns old slot -> new slot
   * (-1: dropped) for the columns (Column.compact). The arrays keep their capacity: a table that is
   * pruned as fast as it fills stays the same size.
   */
  retain(keep: (slot: number) => boolean): Int32Array {
    const moves = new Int32Array(this.count);
    let kept = 0;
    for (let slot = 0; slot < this.count; slot++) {
      if (!keep(slot)) {
        moves[slot] = -1;
        continue;
      }
      moves[slot] = kept;
      this.keys[kept * 2] = this.keys[slot * 2]!;
      this.keys[kept * 2 + 1] = this.keys[slot * 2 + 1]!;
      kept++;
    }
    this.count = kept;
    this.index.fill(emptyIndex);
    for (let slot = 0; slot < kept; slot++) this.place(slot, this.keys[slot * 2]!, this.keys[slot * 2 + 1]!);
    this.lastA = -1;
    this.lastB = -1;
    this.lastSlot = -1;
    return moves;
  }

  /**
   * Drops the newest slots, from `size` on, and keeps the others as they were (no renumbering, so no
   * column needs compacting): what a checker interned for one conversation of a final read and no longer
   * needs once that conversation is judged. Newest first, so each key's bucket simply empties (unplace).
   */
  truncate(size: number): void {
    for (let slot = this.count - 1; slot >= size; slot--)
      this.unplace(this.keys[slot * 2]! >>> 0, this.keys[slot * 2 + 1]! >>> 0);
    if (size < this.count) this.count = Math.max(0, size);
    this.lastA = -1;
    this.lastB = -1;
    this.lastSlot = -1;
  }

  keyA(slot: number): number {
    return this.keys[slot * 2]!;
  }

  keyB(slot: number): number {
    return this.keys[slot * 2 + 1]!;
  }

  private place(slot: number, a: number, b: number): void {
    const index = this.index;
    let at = mix(a, b) & this.mask;
    while (index[at * 3] !== emptyIndex) at = (at + 1) & this.mask;
    index[at * 3] = slot + 1;
    index[at * 3 + 1] = a;
    index[at * 3 + 2] = b;
  }

  /**
   * Empties the key's bucket. Only ever the newest key present (truncate goes newest first): a key is
   * placed in the first empty bucket of its probe, so no older key's probe runs through a newer key's
   * bucket (a grow re-places keys oldest first, keeping that), and emptying it breaks no probe.
   */
  private unplace(a: number, b: number): void {
    const index = this.index;
    for (let at = mix(a, b) & this.mask; index[at * 3] !== emptyIndex; at = (at + 1) & this.mask) {
      if (index[at * 3 + 1] !== a || index[at * 3 + 2] !== b) continue;
      index[at * 3] = emptyIndex;
      return;
    }
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    this.index = new Uint32Array(size * 3);
    this.mask = size - 1;
    const keys = this.keys;
    for (let slot = 0; slot < this.count; slot++) this.place(slot, keys[slot * 2]!, keys[slot * 2 + 1]!);
  }
}

/** Spreads both words over the index bits (murmur3's finaliser), so dense ids do not cluster. */
function mix(a: number, b: number): number {
  return fmix32(Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b);
}
