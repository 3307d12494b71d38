import { describe, expect, it } from 'vitest';
import { TokenBuckets } from './token-bucket.ts';

describe('TokenBuckets', () => {
  it('allows a burst, then one token per 1000/perSec ms, and says how long to wait', () => {
    const buckets = new TokenBuckets(2, 2);
    const bucket = buckets.add(0);
    expect([buckets.take(bucket, 0), buckets.take(bucket, 0), buckets.take(bucket, 0)]).toEqual([0, 0, 500]);
    expect(buckets.take(bucket, 250)).toBe(250);
    expect(buckets.take(bucket, 500)).toBe(0);
    // Refill stops at the burst.
    expect([
      buckets.take(bucket, 10_000),
      buckets.take(bucket, 10_000),
      buckets.take(bucket, 10_000),
    ]).toEqual([0, 0, 500]);
  });

  it('refills from a clock set back, not from the reading that is now an hour ahead', () => {
    const hourMs = 3_600_000;
    const buckets = new TokenBuckets(1, 1);
    const bucket = buckets.add(hourMs);
    expect(buckets.take(bucket, hourMs)).toBe(0);
    expect(buckets.take(bucket, 1000)).toBe(1000);
    expect(buckets.take(bucket, 2000)).toBe(0);
  });

  it('keeps each row to itself, and a released row comes back full as of its new start', () => {
    const buckets = new TokenBuckets(1, 1);
    const rows = Array.from({ length: 100 }, () => buckets.add(0));
    expect(new Set(rows).size).toBe(100);
    expect(buckets.take(rows[7]!, 0)).toBe(0);
    expect(buckets.take(rows[7]!, 0)).toBe(1000);
    // Its neighbours (and the rows copied when the columns grew) are untouched.
    expect(buckets.take(rows[6]!, 0)).toBe(0);
    expect(buckets.take(rows[99]!, 0)).toBe(0);
    buckets.release(rows[7]!);
    const again = buckets.add(5000);
    expect(again).toBe(rows[7]);
    expect(buckets.take(again, 5000)).toBe(0);
    expect(buckets.take(again, 5000)).toBe(1000);
  });
});
