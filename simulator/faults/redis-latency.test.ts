import { beforeAll, describe, expect, it } from 'vitest';
import {
  ackLatencies,
  type FaultRun,
  failedVerdicts,
  faultRunTimeoutMs,
  quantile,
  runFault,
  sharedStoreFleet,
} from './fault-harness.ts';

describe('redis latency', () => {
  let control: FaultRun;
  let slowed: FaultRun;
  beforeAll(async () => {
    [control, slowed] = await Promise.all([
      runFault(null, sharedStoreFleet),
      runFault(
        { type: 'redis-latency', atMs: 0, durationMs: 3000, latencyMs: 300, jitterMs: 100 },
        sharedStoreFleet,
      ),
    ]);
  }, faultRunTimeoutMs);

  it('slows every store round trip of every node while it lasts (a request and its answer, each 300 ± 100 ms)', () => {
    const during = ackLatencies(slowed, slowed.start, slowed.heal - 1000);
    expect(during.length).toBeGreaterThan(30);
    expect(Math.min(...during)).toBeGreaterThanOrEqual(400);
    expect(quantile(during, 0.5)).toBeGreaterThanOrEqual(550);
    const calm = ackLatencies(control, slowed.start, slowed.heal - 1000);
    expect(quantile(calm, 0.99)).toBeLessThan(100);
  });

  it('is gone after the heal, and nothing is lost or reordered', () => {
    const after = ackLatencies(slowed, slowed.heal + 1000, slowed.heal + 4000);
    expect(after.length).toBeGreaterThan(30);
    expect(quantile(after, 0.99)).toBeLessThan(100);
    expect(failedVerdicts(slowed)).toEqual([]);
  });

  it(
    'on one node only: the other nodes answer at their own pace',
    async () => {
      const run = await runFault(
        { type: 'redis-latency', atMs: 0, durationMs: 3000, node: 1, latencyMs: 300 },
        sharedStoreFleet,
      );
      const during = ackLatencies(run, run.start, run.heal - 1000);
      const slow = during.filter((ms) => ms >= 600).length;
      expect(slow).toBeGreaterThan(during.length / 6);
      expect(slow).toBeLessThan(during.length / 2);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
