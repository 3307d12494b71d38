import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('crash-during-recovery', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(
      { type: 'crash-during-recovery', atMs: 1000, durationMs: 2000 },
      { clients: { count: 60 }, workload: { ratePer1kClients: 2000 } },
    );
  }, faultRunTimeoutMs);

  it('interrupts a recovery and reruns it to the end', () => {
    const storage = run.summary.storage!;
    expect(storage.recoveriesInterrupted).toBeGreaterThanOrEqual(1);
    expect(storage.disk.crashes).toBeGreaterThanOrEqual(3);
    expect(run.of('ack', run.heal, run.heal + 3000).length).toBeGreaterThan(5);
  });

  it('keeps every acknowledged record through both crashes', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});
