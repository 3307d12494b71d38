import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { SeedStreams } from './kernel/prng.ts';
import { arrivals } from './workload.ts';

/** Arrivals of `scenario` for `clients` clients, counted per window of `windowMs` until `endMs`. */
function countPerWindow(name: string, clients: number, windowMs: number, endMs: number): number[] {
  const source = arrivals(loadScenario(name), clients, new SeedStreams(7).stream('workload'), endMs);
  const counts = new Array(Math.ceil(endMs / windowMs)).fill(0);
  for (let t = source.next(0); t !== null; t = source.next(t)) counts[Math.floor(t / windowMs)]++;
  return counts;
}

describe('open-model executors', () => {
  it('constant-arrival-rate holds its rate', () => {
    // steady: 200 msgs/s per 1k clients -> 2,000/s for 10k clients, 4,000 per 2 s window.
    for (const count of countPerWindow('steady', 10_000, 2000, 24_000))
      expect(Math.abs(count - 4000) / 4000).toBeLessThan(0.06);
  });

  it('ramping-arrival-rate follows its stages (the reconnect-storm scenario ramps to twice the rate)', () => {
    const scenario = loadScenario('reconnect-storm');
    expect(scenario.workload.executor).toBe('ramping-arrival-rate');
    // Stages: 0 -> 1x over 4 s, 1x -> 2x over 8 s, 2x -> 1x over 12 s; 1x = 2,000/s for 10k clients.
    const expected = (t0: number, t1: number): number => {
      const rate = (t: number) =>
        t < 4000 ? t / 4000 : t < 12_000 ? 1 + (t - 4000) / 8000 : 2 - (t - 12_000) / 12_000;
      return ((rate(t0) + rate(t1)) / 2) * 2 * (t1 - t0);
    };
    const counts = countPerWindow('reconnect-storm', 10_000, 2000, 24_000);
    counts.forEach((count, i) => {
      const want = expected(i * 2000, (i + 1) * 2000);
      expect(
        Math.abs(count - want) / want,
        `window ${i}: ${count} arrivals, expected about ${want}`,
      ).toBeLessThan(0.08);
    });
    // Not a constant rate in disguise: the peak window carries clearly more than the first.
    expect(counts[5]!).toBeGreaterThan(3 * counts[0]!);
  });
});
