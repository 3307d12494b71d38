import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Histogram, latencyBucketsMs } from './stats.ts';

/** The exact nearest-rank percentile: the smallest observation with at least q of them at or below it. */
function exactQuantile(sorted: readonly number[], q: number): number {
  const rank = Math.max(1, Math.ceil(Number((q * sorted.length).toPrecision(12))));
  return sorted[rank - 1]!;
}

/** The upper bound of the bucket an observation falls in (Infinity past the last bound). */
function bucketBound(bounds: readonly number[], value: number): number {
  return bounds.find((bound) => value <= bound) ?? Number.POSITIVE_INFINITY;
}

describe('Histogram.quantile', () => {
  it('is the bound of the bucket holding the exact nearest-rank percentile', () => {
    fc.assert(
      fc.property(
        fc.array(fc.double({ min: 0, max: 10_000, noNaN: true }), { minLength: 1, maxLength: 300 }),
        fc.oneof(
          fc.constantFrom(0, 0.07, 0.5, 0.99, 1),
          fc.integer({ min: 0, max: 1000 }).map((m) => m / 1000),
        ),
        (values, q) => {
          const histogram = new Histogram();
          for (const value of values) histogram.observe(value);
          const sorted = [...values].sort((a, b) => a - b);
          expect(histogram.quantile(q)).toBe(bucketBound(latencyBucketsMs, exactQuantile(sorted, q)));
        },
      ),
      { numRuns: 500 },
    );
  });

  it('gets the ranks right where q * count is not exact in floating point', () => {
    // 0.07 * 100 is 7.000000000000001: the 7th observation, not the 8th.
    const histogram = new Histogram([1, 2, 3]);
    for (let i = 0; i < 7; i++) histogram.observe(1);
    for (let i = 0; i < 93; i++) histogram.observe(3);
    expect(histogram.quantile(0.07)).toBe(1);
    expect(histogram.quantile(0.08)).toBe(3);
  });

  it('takes the smallest observation as quantile 0, and 0 for an empty histogram', () => {
    const histogram = new Histogram([1, 2, 3]);
    expect(histogram.quantile(0.5)).toBe(0);
    histogram.observe(2.5);
    expect(histogram.quantile(0)).toBe(3);
    histogram.observe(99);
    expect(histogram.quantile(1)).toBe(Number.POSITIVE_INFINITY);
  });
});
