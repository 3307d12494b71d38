import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, quantile, runFault } from './fault-harness.ts';

function roundTrips(run: FaultRun, from: number, to: number): number[] {
  return run
    .of('ack')
    .filter((e) => e.sentAt >= from && e.sentAt < to)
    .map((e) => e.at - e.sentAt);
}

describe('disk-slow', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(
      { type: 'disk-slow', atMs: 1000, durationMs: 3000, slowFactor: 50 },
      { clients: { count: 60 } },
    );
  }, faultRunTimeoutMs);

  it('slows acks by the slower fsync while it lasts, and not after', () => {
    const before = quantile(roundTrips(run, 1000, run.start), 0.5);
    const during = quantile(roundTrips(run, run.start + 200, run.heal - 200), 0.5);
    const after = quantile(roundTrips(run, run.heal + 500, run.heal + 3000), 0.5);
    // fsync 2 ms becomes 100 ms: a send waits for at least one slow fsync.
    expect(during).toBeGreaterThan(before + 80);
    expect(after).toBeLessThan(before + 20);
  });

  it('loses and reorders nothing', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});
