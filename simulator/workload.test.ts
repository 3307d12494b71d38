import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { protocolLimits } from '../reference-server/protocol/limits.ts';
import { encodeJsonFrame } from '../reference-server/store/record-codec.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { SeedStreams } from './kernel/prng.ts';
import { arrivals, messageBody } from './workload.ts';

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

  it('ramping-arrival-rate: over any stages, arrivals match the rate integral, and none while the target is 0', () => {
    const steady = loadScenario('steady');
    const stage = fc.record({
      durationMs: fc.integer({ min: 500, max: 8000 }),
      target: fc.oneof(fc.constant(0), fc.double({ min: 0, max: 3, noNaN: true })),
    });
    fc.assert(
      fc.property(fc.array(stage, { minLength: 1, maxLength: 5 }), fc.nat(), (stages, seed) => {
        const scenario = {
          ...steady,
          workload: { ...steady.workload, executor: 'ramping-arrival-rate' as const, stages },
        };
        // 1,000 msgs/s at target 1 (200 per 1k clients, 5k clients); a quiet stage of 0 after the ramp.
        const clients = 5000;
        const endMs = stages.reduce((sum, s) => sum + s.durationMs, 0) + 2000;
        const quiet = [...stages, { durationMs: 2000, target: 0 }];
        const source = arrivals(
          { ...scenario, workload: { ...scenario.workload, stages: quiet } },
          clients,
          new SeedStreams(seed).stream('workload'),
          endMs,
        );
        let count = 0;
        let last = 0;
        for (let t = source.next(0); t !== null; t = source.next(t)) {
          count++;
          last = t;
        }
        // The integral of a piecewise-linear rate: each stage's mean target times its length.
        let from = 0;
        let expected = 0;
        for (const { durationMs, target } of stages) {
          expected += ((from + target) / 2) * durationMs; // 1 msg/ms at target 1
          from = target;
        }
        expected += (from / 2) * 2000; // the ramp down to 0 over the quiet stage
        // Poisson: within 6 standard deviations (plus a little for tiny expectations).
        expect(Math.abs(count - expected)).toBeLessThanOrEqual(6 * Math.sqrt(expected) + 3);
        if (from === 0) expect(last).toBeLessThanOrEqual(endMs - 2000);
      }),
      { numRuns: 40 },
    );
  });
});

describe('message bodies', () => {
  it("pads to the scenario size, and makes a share of them the protocol's largest, awkward to store", () => {
    expect(messageBody('d1', 7, 16)).toBe('d1#7............');
    const bodies = Array.from({ length: 2000 }, (_, n) => messageBody('d1', n, 16, 0.1));
    const large = bodies.filter((body) => body.length > 16);
    // About the share asked for, chosen by hash (the same body every run).
    expect(large.length).toBeGreaterThan(140);
    expect(large.length).toBeLessThan(260);
    expect(bodies).toEqual(Array.from({ length: 2000 }, (_, n) => messageBody('d1', n, 16, 0.1)));
    for (const body of large.slice(0, 20)) {
      expect(Buffer.byteLength(body)).toBe(protocolLimits.bodyBytesMax);
      expect(body).toMatch(/^d1#\d+é"✓\\😀\n\u0001/u);
      // As a stored record it outgrows the log's 4 KiB read-ahead.
      expect(encodeJsonFrame({ t: 'append', body }).length).toBeGreaterThan(4096 + 1000);
    }
    expect(new Set(large).size).toBe(large.length);
  });
});
