import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('disk-torn-write', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(
      { type: 'disk-torn-write', atMs: 1000, durationMs: 1000 },
      { clients: { count: 60 }, workload: { ratePer1kClients: 2000 } },
    );
  }, faultRunTimeoutMs);

  it('crashes the log mid-write with a torn tail that recovery cuts off', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.tornWrites).toBeGreaterThanOrEqual(1);
    expect(storage.truncatedBytes).toBeGreaterThan(0);
    // The node was down: nothing acked while it recovered.
    expect(run.of('ack', run.start + 20, run.heal)).toEqual([]);
    expect(run.of('ack', run.heal, run.heal + 3000).length).toBeGreaterThan(5);
  });

  it('keeps every acknowledged record', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});
