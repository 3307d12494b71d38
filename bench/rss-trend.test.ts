import { describe, expect, it } from 'vitest';
import { rssTrend } from './rss-trend.ts';

const mib = 1048576;
/** One sample a minute for `minutes`, resident set from `rss(minute)`. */
const curve = (minutes: number, rss: (minute: number) => number) =>
  Array.from({ length: minutes + 1 }, (_, minute) => [minute * 60_000, rss(minute), 10]);

describe('rssTrend', () => {
  it('judges a heap that breathes around a level flat, whatever the climb while clients connect', () => {
    const trend = rssTrend(curve(30, (m) => (m < 2 ? 50 * mib : 100 * mib + (m % 2) * 3 * mib)))!;
    expect(trend.flat).toBe(true);
    expect(trend.fromMs).toBe(15 * 60_000);
    expect(trend.points).toBe(16);
    expect(Math.abs(trend.slopeBytesPerMin)).toBeLessThan(0.1 * mib);
  });

  it('judges a steady climb in the second half a leak', () => {
    // 0.5 MiB a minute on 100 MiB: 7.5 MiB over the judged 15 minutes, past 5% of the mean.
    const trend = rssTrend(curve(30, (m) => 100 * mib + m * 0.5 * mib))!;
    expect(trend.flat).toBe(false);
    expect(trend.slopeBytesPerMin).toBeCloseTo(0.5 * mib, -2);
    expect(trend.growthBytes).toBeCloseTo(7.5 * mib, -2);
  });

  it('a climb that stops before the second half is flat', () => {
    expect(rssTrend(curve(30, (m) => 100 * mib + Math.min(m, 10) * mib))!.flat).toBe(true);
  });

  it('a heap that gives memory back is flat (the bound is on growth)', () => {
    const trend = rssTrend(curve(30, (m) => 200 * mib - m * mib))!;
    expect(trend.growthBytes).toBeLessThan(-10 * mib);
    expect(trend.flat).toBe(true);
  });

  it('says nothing on too few samples', () => {
    expect(rssTrend(curve(2, () => mib))).toBeNull();
  });
});
