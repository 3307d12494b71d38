// The set of seqs each (device, conv) displayed, exact and compact: the newest seq, plus the intervals
// below it that were skipped (membership gaps, or a display that came out of order). A correct client
// displays in seq order, so most pairs hold one number. A pair whose skipped intervals pass
// holeIntervalsPerPairMax switches to a bitset (one bit per seq), so even a client that displays in
// random order is judged exactly. Invariant: intervals are sorted, disjoint and below the newest seq.
// The commonest skipped interval, every seq below a pair's first display (a session or a device that
// began mid-conversation), is a number in a column, not an array in a map: at a million clients those
// arrays were ~60 MiB of the checker thread's heap (docs/benchmarks.md, session 27).

import { int32Column } from './column.ts';
import { defaultCheckerLimits } from './limits.ts';

export type DisplayResult = 'new' | 'duplicate';

export class DisplayedSeqs {
  private readonly newest = int32Column(0);
  /** Per pair: it skipped every seq from 1 to this (its first interval, [1, below]); 0: none. */
  private readonly below = int32Column(0);
  /** Pairs whose `below` is above 0. */
  private belowCount = 0;
  /** Skipped intervals per pair above its `below`, flat [lo, hi, lo, hi, ...]. */
  private readonly holes = new Map<number, number[]>();
  private readonly bitsets = new Map<number, Uint32Array>();

  constructor(private readonly holeIntervalsMax = defaultCheckerLimits.holeIntervalsPerPairMax) {}

  /** The newest seq the pair displayed, 0 if none. */
  newestOf(pair: number): number {
    return this.newest.get(pair);
  }

  /** Records a display; 'duplicate' if the pair had displayed that seq already. */
  add(pair: number, seq: number): DisplayResult {
    const bits = this.bitsets.get(pair);
    if (bits !== undefined) return this.addBit(pair, bits, seq);
    const newest = this.newest.get(pair);
    if (seq === newest) return 'duplicate';
    if (seq > newest) {
      if (seq > newest + 1 && newest === 0) this.skipFirst(pair, seq - 1);
      else if (seq > newest + 1) this.skip(pair, newest + 1, seq - 1);
      this.newest.set(pair, seq);
      if (this.bitsets.has(pair)) this.setBit(pair, seq);
      return 'new';
    }
    return this.fill(pair, seq);
  }

  /** Forgets everything the pair held: it starts again with nothing displayed. */
  clear(pair: number): void {
    this.newest.set(pair, 0);
    this.setBelow(pair, 0);
    this.holes.delete(pair);
    this.bitsets.delete(pair);
  }

  /** Skipped intervals and bitset words held for every pair together: what grows beyond a number a pair. */
  get heldBeyondNewest(): number {
    let held = this.belowCount;
    for (const holes of this.holes.values()) held += holes.length / 2;
    for (const bits of this.bitsets.values()) held += bits.length;
    return held;
  }

  /** Whether the pair displayed seq. */
  has(pair: number, seq: number): boolean {
    if (pair < 0 || seq > this.newest.get(pair)) return false;
    const bits = this.bitsets.get(pair);
    if (bits !== undefined) return testBit(bits, seq);
    if (seq >= 1 && seq <= this.below.get(pair)) return false;
    const holes = this.holes.get(pair);
    return holes === undefined || holeIndex(holes, seq) < 0;
  }

  /** Calls `visit` for each seq in lo..hi the pair (-1: a pair that displayed nothing) did not display. */
  forEachMissing(pair: number, lo: number, hi: number, visit: (seq: number) => void): void {
    const newest = pair < 0 ? 0 : this.newest.get(pair);
    const bits = pair < 0 ? undefined : this.bitsets.get(pair);
    if (bits !== undefined) {
      for (let seq = lo; seq <= Math.min(hi, newest); seq++) if (!testBit(bits, seq)) visit(seq);
    } else {
      const below = pair < 0 ? 0 : this.below.get(pair);
      for (let seq = Math.max(lo, 1); seq <= Math.min(hi, below); seq++) visit(seq);
      const holes = pair < 0 ? undefined : this.holes.get(pair);
      for (let i = 0; holes !== undefined && i < holes.length; i += 2) {
        for (let seq = Math.max(lo, holes[i]!); seq <= Math.min(hi, holes[i + 1]!); seq++) visit(seq);
      }
    }
    for (let seq = Math.max(lo, newest + 1); seq <= hi; seq++) visit(seq);
  }

  /** Skipped intervals the pair holds, its `below` counted: past holeIntervalsMax it turns to a bitset. */
  private intervals(pair: number, holes: number[] | undefined): number {
    return (holes === undefined ? 0 : holes.length / 2) + (this.below.get(pair) > 0 ? 1 : 0);
  }

  /** The pair's first display skipped 1..hi. */
  private skipFirst(pair: number, hi: number): void {
    this.setBelow(pair, hi);
    if (this.intervals(pair, undefined) > this.holeIntervalsMax) this.toBitset(pair);
  }

  private setBelow(pair: number, below: number): void {
    const was = this.below.get(pair);
    if (was === below) return;
    this.belowCount += (below > 0 ? 1 : 0) - (was > 0 ? 1 : 0);
    this.below.set(pair, below);
  }

  private skip(pair: number, lo: number, hi: number): void {
    // A new array two longer, not a push (push grows a full array to 17 slots; most pairs hold one hole).
    const holes = (this.holes.get(pair) ?? []).concat(lo, hi);
    this.holes.set(pair, holes);
    if (this.intervals(pair, holes) > this.holeIntervalsMax) this.toBitset(pair);
  }

  /** A display below the newest: new only if it falls in a skipped interval, which it splits. */
  private fill(pair: number, seq: number): DisplayResult {
    const below = this.below.get(pair);
    if (seq >= 1 && seq <= below) {
      // Into the first interval: it goes into the array, to be split as any other.
      this.holes.set(pair, [1, below].concat(this.holes.get(pair) ?? []));
      this.setBelow(pair, 0);
    }
    const holes = this.holes.get(pair);
    const i = holes === undefined ? -1 : holeIndex(holes, seq);
    if (holes === undefined || i < 0) return 'duplicate';
    const lo = holes[i]!;
    const hi = holes[i + 1]!;
    const parts: number[] = [];
    if (lo < seq) parts.push(lo, seq - 1);
    if (seq < hi) parts.push(seq + 1, hi);
    holes.splice(i, 2, ...parts);
    if (holes.length === 0) this.holes.delete(pair);
    else if (this.intervals(pair, holes) > this.holeIntervalsMax) this.toBitset(pair);
    return 'new';
  }

  private addBit(pair: number, bits: Uint32Array, seq: number): DisplayResult {
    if (seq <= this.newest.get(pair) && testBit(bits, seq)) return 'duplicate';
    this.setBit(pair, seq);
    if (seq > this.newest.get(pair)) this.newest.set(pair, seq);
    return 'new';
  }

  private toBitset(pair: number): void {
    const newest = this.newest.get(pair);
    const bits = new Uint32Array((newest >>> 5) + 1);
    for (let seq = 1; seq <= newest; seq++) bits[seq >>> 5]! |= 1 << (seq & 31);
    const holes = [1, this.below.get(pair)].concat(this.holes.get(pair) ?? []);
    for (let i = 0; i < holes.length; i += 2) {
      for (let seq = holes[i]!; seq <= holes[i + 1]!; seq++) bits[seq >>> 5]! &= ~(1 << (seq & 31));
    }
    this.setBelow(pair, 0);
    this.holes.delete(pair);
    this.bitsets.set(pair, bits);
  }

  private setBit(pair: number, seq: number): void {
    let bits = this.bitsets.get(pair)!;
    if (seq >>> 5 >= bits.length) {
      const grown = new Uint32Array(Math.max(bits.length * 2, (seq >>> 5) + 1));
      grown.set(bits);
      bits = grown;
      this.bitsets.set(pair, bits);
    }
    bits[seq >>> 5]! |= 1 << (seq & 31);
  }
}

function testBit(bits: Uint32Array, seq: number): boolean {
  const word = bits[seq >>> 5];
  return word !== undefined && (word & (1 << (seq & 31))) !== 0;
}

/** The index in `holes` of the interval holding seq, or -1 (binary search over sorted intervals). */
function holeIndex(holes: number[], seq: number): number {
  let lo = 0;
  let hi = holes.length / 2 - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    if (seq < holes[mid * 2]!) hi = mid - 1;
    else if (seq > holes[mid * 2 + 1]!) lo = mid + 1;
    else return mid * 2;
  }
  return -1;
}
