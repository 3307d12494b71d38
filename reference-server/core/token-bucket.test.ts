import { describe, expect, it } from 'vitest';
import { TokenBucket } from './token-bucket.ts';

describe('TokenBucket', () => {
  it('allows a burst, then one token per 1000/perSec ms, and says how long to wait', () => {
    const bucket = new TokenBucket(2, 2, 0);
    expect([bucket.take(0), bucket.take(0), bucket.take(0)]).toEqual([0, 0, 500]);
    expect(bucket.take(250)).toBe(250);
    expect(bucket.take(500)).toBe(0);
    // Refill stops at the burst.
    expect([bucket.take(10_000), bucket.take(10_000), bucket.take(10_000)]).toEqual([0, 0, 500]);
  });

  it('refills from a clock set back, not from the reading that is now an hour ahead', () => {
    const hourMs = 3_600_000;
    const bucket = new TokenBucket(1, 1, hourMs);
    expect(bucket.take(hourMs)).toBe(0);
    expect(bucket.take(1000)).toBe(1000);
    expect(bucket.take(2000)).toBe(0);
  });
});
