import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { LatencyHistogram } from './latency-histogram.ts';

function exactPercentile(sorted: number[], percent: number): number {
  const rank = Math.max(1, Math.ceil((percent / 100) * sorted.length));
  return sorted[rank - 1]!;
}

describe('LatencyHistogram', () => {
  it('is empty until something is recorded', () => {
    const h = new LatencyHistogram();
    expect(h.percentileMs(50)).toBe(0);
    expect(h.meanMs()).toBe(0);
    expect(h.snapshot()).toEqual({ counts: [], total: 0, overflow: 0, minUs: 0, maxUs: 0, sumUs: 0 });
  });

  it('records small values exactly', () => {
    const h = new LatencyHistogram();
    for (let us = 0; us < 100; us++) h.recordUs(us);
    expect(h.percentileMs(50)).toBe(0.049);
    expect(h.percentileMs(100)).toBe(0.099);
    expect(h.percentileMs(0)).toBe(0);
  });

  it('takes milliseconds with fractions', () => {
    const h = new LatencyHistogram();
    h.recordMs(0.25);
    h.recordMs(1.5);
    expect(h.minUs).toBe(250);
    expect(h.maxUs).toBe(1500);
    expect(h.meanMs()).toBe(0.875);
  });

  it('stays within 1/64 of the exact percentile at every magnitude', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 0, max: 50_000_000 }), { minLength: 1, maxLength: 400 }),
        fc.constantFrom(1, 50, 90, 99, 99.9, 100),
        (samples, percent) => {
          const h = new LatencyHistogram();
          for (const s of samples) h.recordUs(s);
          const exact = exactPercentile(
            [...samples].sort((a, b) => a - b),
            percent,
          );
          const got = Math.round(h.percentileMs(percent) * 1000);
          expect(got).toBeGreaterThanOrEqual(exact);
          expect(got).toBeLessThanOrEqual(exact + exact / 64 + 1);
        },
      ),
    );
  });

  it('clamps values past its bound and counts them as overflow', () => {
    const h = new LatencyHistogram(1000);
    h.recordUs(5000);
    h.recordUs(-3);
    expect(h.overflow).toBe(1);
    expect(h.maxUs).toBe(1000);
    expect(h.minUs).toBe(0);
    expect(h.percentileMs(100)).toBe(1);
  });

  it('merges snapshots into the same percentiles as one histogram fed everything', () => {
    const a = new LatencyHistogram();
    const b = new LatencyHistogram();
    const all = new LatencyHistogram();
    for (let i = 1; i <= 5000; i++) {
      const us = (i * 7919) % 200_000;
      (i % 2 === 0 ? a : b).recordUs(us);
      all.recordUs(us);
    }
    const merged = new LatencyHistogram();
    merged.merge(a.snapshot());
    merged.merge(b.snapshot());
    for (const p of [50, 90, 99, 100]) expect(merged.percentileMs(p)).toBe(all.percentileMs(p));
    expect(merged.snapshot()).toEqual(all.snapshot());
  });

  it('refuses a snapshot from a larger histogram', () => {
    const big = new LatencyHistogram(2 ** 30);
    big.recordUs(2 ** 29);
    expect(() => new LatencyHistogram(1000).merge(big.snapshot())).toThrow(RangeError);
  });
});
