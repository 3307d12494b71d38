// Maps a key of two unsigned 32-bit words, such as (device id, conv id) or (conv id, seq), to a dense
// slot 0, 1, 2, ... so per-key state can live in Columns. Open addressing over typed arrays: a few
// bytes per key where a Map of objects would cost a hundred, and no Map size ceiling (2^24 in V8).
// Invariants: a key keeps its slot forever; slots are handed out in insertion order without holes.

import { fmix32 } from '../kernel/prng.ts';
import { defaultCheckerLimits } from './limits.ts';

const emptyIndex = 0;

export class SlotTable {
  /** Open-addressed index: slot + 1, or 0 where empty. Kept at most half full. */
  private index: Int32Array;
  private mask: number;
  private keysA: Uint32Array;
  private keysB: Uint32Array;
  private count = 0;
  private lastA = -1;
  private lastB = -1;
  private lastSlot = -1;

  constructor(
    capacity = defaultCheckerLimits.tableEntriesInitial,
    private readonly entriesMax = defaultCheckerLimits.tableEntriesMax,
  ) {
    let size = 16;
    while (size < capacity * 2) size *= 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    this.keysA = new Uint32Array(size / 2);
    this.keysB = new Uint32Array(size / 2);
  }

  get size(): number {
    return this.count;
  }

  /** The key's slot, or -1 if it has none. */
  find(a: number, b: number): number {
    let at = mix(a, b) & this.mask;
    for (;;) {
      const entry = this.index[at]!;
      if (entry === emptyIndex) return -1;
      const slot = entry - 1;
      if (this.keysA[slot] === a >>> 0 && this.keysB[slot] === b >>> 0) return slot;
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
    if ((this.count + 1) * 2 > this.index.length) this.grow();
    const slot = this.count++;
    this.keysA[slot] = a;
    this.keysB[slot] = b;
    this.place(slot);
    return slot;
  }

  keyA(slot: number): number {
    return this.keysA[slot]!;
  }

  keyB(slot: number): number {
    return this.keysB[slot]!;
  }

  private place(slot: number): void {
    let at = mix(this.keysA[slot]!, this.keysB[slot]!) & this.mask;
    while (this.index[at] !== emptyIndex) at = (at + 1) & this.mask;
    this.index[at] = slot + 1;
  }

  private grow(): void {
    const size = this.index.length * 2;
    this.index = new Int32Array(size);
    this.mask = size - 1;
    const keysA = new Uint32Array(size / 2);
    const keysB = new Uint32Array(size / 2);
    keysA.set(this.keysA);
    keysB.set(this.keysB);
    this.keysA = keysA;
    this.keysB = keysB;
    for (let slot = 0; slot < this.count; slot++) this.place(slot);
  }
}

/** Spreads both words over the index bits (murmur3's finaliser), so dense ids do not cluster. */
function mix(a: number, b: number): number {
  return fmix32(Math.imul(a ^ 0x9e3779b9, 0x85ebca6b) ^ b);
}
