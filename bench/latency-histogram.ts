// An HDR-style log-linear latency histogram in microseconds: constant memory whatever the sample
// count, relative error under 1/64 (1.6%) at every magnitude, and mergeable across load processes
// (workers ship their counts to the parent as sparse [index, count] pairs).

import { benchLimits } from './limits.ts';

/** Sub-buckets per power of two: 2^subBits. Values below 2^subBits are recorded exactly. */
const subBits = 7;
const subCount = 1 << subBits;
const halfCount = subCount >> 1;

export type HistogramSnapshot = {
  counts: Array<[index: number, count: number]>;
  total: number;
  overflow: number;
  minUs: number;
  maxUs: number;
  sumUs: number;
};

function indexOf(valueUs: number): number {
  if (valueUs < subCount) return valueUs;
  const exponent = 31 - Math.clz32(valueUs);
  const shift = exponent - subBits + 1;
  const sub = valueUs >>> shift;
  return subCount + (exponent - subBits) * halfCount + (sub - halfCount);
}

/** The highest value that lands in bucket `index` (HDR's "highest equivalent value"). */
function highestValueOf(index: number): number {
  if (index < subCount) return index;
  const offset = index - subCount;
  const exponent = Math.floor(offset / halfCount) + subBits;
  const sub = (offset % halfCount) + halfCount;
  const shift = exponent - subBits + 1;
  return (sub + 1) * 2 ** shift - 1;
}

export class LatencyHistogram {
  private readonly counts: Float64Array;
  private readonly valueUsMax: number;
  total = 0;
  overflow = 0;
  minUs = Number.POSITIVE_INFINITY;
  maxUs = 0;
  sumUs = 0;

  constructor(valueUsMax: number = benchLimits.latencyUsMax) {
    if (!Number.isSafeInteger(valueUsMax) || valueUsMax < 1 || valueUsMax >= 2 ** 31) {
      throw new RangeError(`valueUsMax must be an integer in [1, 2^31): ${valueUsMax}`);
    }
    this.valueUsMax = valueUsMax;
    this.counts = new Float64Array(indexOf(valueUsMax) + 1);
  }

  /** Records one latency given in milliseconds (fractions kept down to the microsecond). */
  recordMs(ms: number): void {
    this.recordUs(Math.round(ms * 1000));
  }

  recordUs(us: number): void {
    let value = us > 0 ? Math.floor(us) : 0;
    if (value > this.valueUsMax) {
      value = this.valueUsMax;
      this.overflow++;
    }
    this.counts[indexOf(value)]!++;
    this.total++;
    this.sumUs += value;
    if (value < this.minUs) this.minUs = value;
    if (value > this.maxUs) this.maxUs = value;
  }

  /** The latency (ms) at or below which `percent` of the samples lie; 0 when empty. */
  percentileMs(percent: number): number {
    if (this.total === 0) return 0;
    const rank = Math.max(1, Math.ceil((Math.min(100, Math.max(0, percent)) / 100) * this.total));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return Math.min(highestValueOf(i), this.maxUs) / 1000;
    }
    return this.maxUs / 1000;
  }

  meanMs(): number {
    return this.total === 0 ? 0 : this.sumUs / this.total / 1000;
  }

  snapshot(): HistogramSnapshot {
    const counts: Array<[number, number]> = [];
    for (let i = 0; i < this.counts.length; i++) {
      const count = this.counts[i]!;
      if (count > 0) counts.push([i, count]);
    }
    return {
      counts,
      total: this.total,
      overflow: this.overflow,
      minUs: this.total === 0 ? 0 : this.minUs,
      maxUs: this.maxUs,
      sumUs: this.sumUs,
    };
  }

  /** Adds another histogram's samples (same valueUsMax) to this one. */
  merge(other: HistogramSnapshot): void {
    for (const [index, count] of other.counts) {
      if (index < 0 || index >= this.counts.length) throw new RangeError(`bucket ${index} out of range`);
      this.counts[index]! += count;
    }
    if (other.total > 0) {
      this.minUs = Math.min(this.minUs, other.minUs);
      this.maxUs = Math.max(this.maxUs, other.maxUs);
    }
    this.total += other.total;
    this.overflow += other.overflow;
    this.sumUs += other.sumUs;
  }
}
