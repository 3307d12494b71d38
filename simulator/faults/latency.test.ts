import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, quantile, runFault } from './fault-harness.ts';

/** Round trips (send to ack) of sends issued between `from` and `to`, in ms. */
function roundTrips(run: FaultRun, from: number, to: number): number[] {
  return run
    .of('ack')
    .filter((e) => e.sentAt >= from && e.sentAt < to)
    .map((e) => e.at - e.sentAt);
}

describe('latency', () => {
  const latencyMs = 200;
  const jitterMs = 100;
  let run: FaultRun;
  let before: number[] = [];
  let during: number[] = [];
  beforeAll(async () => {
    run = await runFault(
      { type: 'latency', atMs: 0, durationMs: 4000, fraction: 1, latencyMs, jitterMs },
      { clients: { count: 200 } },
    );
    before = roundTrips(run, 1000, run.start);
    during = roundTrips(run, run.start + 100, run.heal - 1000);
  }, faultRunTimeoutMs);

  it('shifts delivery by the configured delay on both legs of a round trip', async () => {
    expect(before.length).toBeGreaterThan(20);
    expect(during.length).toBeGreaterThan(50);
    // One-way extra delay latencyMs ± jitterMs (uniform) each way: the median round trip grows by
    // about 2 * latencyMs, and no round trip by less than 2 * (latencyMs - jitterMs).
    const shift = quantile(during, 0.5) - quantile(before, 0.5);
    expect(shift).toBeGreaterThan(2 * latencyMs - 40);
    expect(shift).toBeLessThan(2 * latencyMs + 40);
    expect(quantile(during, 0)).toBeGreaterThanOrEqual(2 * (latencyMs - jitterMs));
  });

  it('draws the jitter per frame: round trips spread over the jitter range, not a constant', async () => {
    const spread = (values: number[]) => quantile(values, 0.9) - quantile(values, 0.1);
    // Two independent U(-jitterMs, jitterMs) draws: the 10th-90th percentile range is about 2.2 * jitterMs.
    expect(spread(during)).toBeGreaterThan(spread(before) + jitterMs * 1.2);
    expect(quantile(during, 1) - quantile(during, 0)).toBeLessThanOrEqual(4 * jitterMs + spread(before) + 20);
  });

  it('ends at the heal and loses nothing', async () => {
    const after = roundTrips(run, run.heal + 500, run.heal + 3000);
    expect(quantile(after, 0.5)).toBeLessThan(quantile(before, 0.5) + 20);
    expect(failedVerdicts(run)).toEqual([]);
  });
});
