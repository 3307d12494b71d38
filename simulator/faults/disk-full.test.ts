import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('disk-full', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault({ type: 'disk-full', atMs: 1000, durationMs: 2000 }, { clients: { count: 60 } });
  }, faultRunTimeoutMs);

  it('answers unavailable, never an ack, while no write fits', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.noSpace).toBeGreaterThanOrEqual(1);
    expect(run.of('ack', run.start + 50, run.heal)).toEqual([]);
    expect(run.of('ack', run.heal, run.heal + 3000).length).toBeGreaterThan(5);
  });

  it('loses nothing that was acknowledged', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});
