// Maps a key of two unsigned 32-bit words, such as (device id, conv id) or (conv id, seq), to a dense
// slot 0, 1, 2, ... so per-key state can live in Columns. Open addressing over typed arrays: a few
// bytes per key where a Map of objects would cost a hundred, and no Map size ceiling (2^24 in V8).
// Invariants: slots are handed out in insertion order without holes; a key keeps its slot until
// `retain` drops keys (a checker that judged them against a read during the run), which renumbers the
// kept ones in their order.

import { fmix32 } from '../kernel/prng.ts';
import { columnGrowth } from './column.ts';
import { defaultCheckerLimits } from './limits.ts';

const emptyIndex = 0;
/** Most keys per bucket before the index doubles. */
const loadMax = 0.75;
/** A bucket's low bits: its slot + 1; the high bits: the top bits of its key's hash. */
const slotBits = 27;
const slotMask = (1 << slotBits) - 1;
/** The most keys a table can number in its buckets' slot bits. */
export const slotTableEntriesMax = slotMask;

export class SlotTable {
  /**
   * Open-addressed index, one word a bucket: slot + 1 (0 where empty) in the low 27 bits, the top 5
   * bits of the key's hash above them, so a probe reads the key (in `keys`) only when those 5 bits
   * match: 1 in 32 of the other keys it meets. Three words a bucket (slot and both key words) held
   * the keys twice, 16 to 32 bytes a key where one word is 5 to 11 (docs/benchmarks.md, mem17).
   * Kept at most three quarters full: half full, a table of a million keys took four million buckets.
   */
  private index: Uint32Array;
  private mask: number;
  /** The keys by slot (keyA, keyB): what a probe compares and a slot's key is read back from; grown as columns are. */
  private keys: Uint32Array;
  private count = 0;
  private lastA = -1;
  private lastB = -1;
  private lastSlot = -1;

  constructor(
    capacity = defaultCheckerLimits.tableEntriesInitial,
    private readonly entriesMax = defaultCheckerLimits.tableEntriesMax,
  ) {
    if (entriesMax > slotTableEntriesMax)
      throw new Error(
        `a slot table numbers at most ${slotTableEntriesMax} keys, not tableEntriesMax ${entriesMax}`,
      );
    let size = 16;
    while (size * loadMax < capacity) size *= 2;
    this.index = new Uint32Array(size);
    this.mask = size - 1;
    this.keys = new Uint32Array(capacity * 2);
  }

  get size(): number {
    return this.count;
  }

  /** The key's slot, or -1 if it has none. */
  find(a: number, b: number): number {
    const index = this.index;
    const keys = this.keys;
    const wordA = a >>> 0;
    const wordB = b >>> 0;
    const hash = mix(a, b);
    const tag = hash >>> slotBits;
    let at = hash & this.mask;
    for (;;) {
      const entry = index[at]!;
      if (entry === emptyIndex) return -1;
      if (entry >>> slotBits === tag) {
        const slot = (entry & slotMask) - 1;
        if (keys[slot * 2] === wordA && keys[slot * 2 + 1] === wordB) return slot;
      }
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
      // As columns grow (by half, a table of a million keys held up to 1.5 million keys' room).
      const keys = new Uint32Array(Math.max(32, 2 * Math.ceil((this.keys.length / 2) * columnGrowth)));
      keys.set(this.keys);
      this.keys = keys;
    }
    const slot = this.count++;
    this.keys[slot * 2] = a;
    this.keys[slot * 2 + 1] = b;
    this.place(slot);
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
    for (let slot = 0; slot < kept; slot++) this.place(slot);
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
    for (let slot = this.count - 1; slot >= size; slot--) this.unplace(slot);
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

  /** Puts `slot` (its key already in `keys`) in the first empty bucket of its key's probe. */
  private place(slot: number): void {
    const index = this.index;
    const hash = mix(this.keys[slot * 2]!, this.keys[slot * 2 + 1]!);
    let at = hash & this.mask;
    while (index[at] !== emptyIndex) at = (at + 1) & this.mask;
    index[at] = (((hash >>> slotBits) << slotBits) | (slot + 1)) >>> 0;
  }

  /**
   * Empties the slot's bucket. Only ever the newest slot present (truncate goes newest first): a key is
   * placed in the first empty bucket of its probe, so no older key's probe runs through a newer key's
   * bucket (a grow re-places keys oldest first, keeping that), and emptying it breaks no probe.
   */
  private unplace(slot: number): void {
    const index = this.index;
    const hash = mix(this.keys[slot * 2]!, this.keys[slot * 2 + 1]!);
    for (let at = hash & this.mask; index[at] !== emptyIndex; at = (at + 1) & this.mask) {
      if ((index[at]! & slotMask) !== slot + 1) continue;
      index[at] = emptyIndex;
      return;
    }
  }

  private grow(): void {
    const size = (this.mask + 1) * 2;
    this.index = new Uint32Array(size);
    this.mask = size - 1;
    for (let slot = 0; slot < this.count; slot++) this.place(slot);
  }
}

/** Spreads both words over the index bits (murmur3's finaliser), so dense ids do not cluster. */
function mix(a: number, b: number): number {
  return fmix32(Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b);
}
