import { beforeAll, describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('disk-fsync-error', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(
      { type: 'disk-fsync-error', atMs: 1000, durationMs: 2000 },
      { clients: { count: 60 } },
    );
  }, faultRunTimeoutMs);

  it('never acks after a failed fsync: the store stops until its restart at the heal', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.fsyncErrors).toBeGreaterThanOrEqual(1);
    // The first fsync after the start fails (within one group commit); from then on, no ack.
    expect(run.of('ack', run.start + 50, run.heal)).toEqual([]);
    expect(run.of('durable', run.start + 50, run.heal)).toEqual([]);
    expect(storage.recoveries).toBeGreaterThanOrEqual(2);
    expect(run.of('ack', run.heal, run.heal + 3000).length).toBeGreaterThan(5);
  });

  it('loses no acknowledged record, though the failed pages were dropped', () => {
    expect(failedVerdicts(run)).toEqual([]);
  });
});

describe('disk-fsync-error over a recovery', () => {
  it(
    'restarts at the heal a store whose recovery the failing fsync refused (swarm seed 36211602727789)',
    async () => {
      // The torn write's restart replays while fsync fails: recovery cannot make its cut durable and
      // refuses to open the log. Left down, no send is acked again and the run never settles.
      const run = await runFault(
        [
          { type: 'disk-torn-write', atMs: 1000, durationMs: 2000 },
          { type: 'disk-fsync-error', atMs: 1500, durationMs: 3000 },
        ],
        { clients: { count: 60 } },
        // A seed whose crash tears a write (the replay then has something to cut and sync).
        2,
      );
      const storage = run.summary.storage!;
      expect(storage.disk.tornWrites).toBeGreaterThanOrEqual(1);
      expect(storage.refusals.join('\n')).toMatch(/EIO/);
      const fsyncHeal = 2000 + 1500 + 3000;
      expect(run.of('ack', fsyncHeal, fsyncHeal + 3000).length).toBeGreaterThan(5);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
