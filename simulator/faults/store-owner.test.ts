import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('the store owner of disk faults', () => {
  it(
    'is the store process on a shared store: nodes stay up and answer unavailable until it recovers',
    async () => {
      const run = await runFault(
        { type: 'disk-torn-write', atMs: 1000, durationMs: 1000 },
        { topology: { nodes: 2 }, clients: { count: 60 }, workload: { ratePer1kClients: 2000 } },
      );
      expect(run.summary.storage!.disk.crashes).toBeGreaterThanOrEqual(2);
      // No node crashed: connections survive the store's crash.
      expect(run.of('session-lost', run.start, run.heal)).toEqual([]);
      expect(run.of('ack', run.start + 20, run.heal)).toEqual([]);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'refuses a disk fault on the model store',
    async () => {
      await expect(
        runFault({ type: 'disk-slow', atMs: 0, durationMs: 1000 }, { topology: { engine: 'model' } }),
      ).rejects.toThrow(/need the real log store/);
    },
    faultRunTimeoutMs,
  );
});
