import { dirname } from 'node:path';
import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSystem } from '../../reference-server/store/file-system.ts';
import { LogStore } from '../../reference-server/store/log-store.ts';
import { segmentPath } from '../../reference-server/store/segment-file.ts';
import { checkpointPosition } from './disk-lost-flush.ts';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

const busy = { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } };

describe('disk-lost-flush', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault({ type: 'disk-lost-flush', atMs: 2000 }, busy);
  }, faultRunTimeoutMs);

  it("cuts the checkpoint's segment below what the checkpoint covers, and recovery refuses that log", () => {
    const storage = run.summary.storage!;
    expect(storage.disk.lostFlushes).toBe(1);
    expect(storage.refusals[0]).toMatch(
      /\.seg is corrupt at offset \d+.*ends before the position checkpoint\.dat covers/,
    );
  });

  it('loses acknowledged records for good with one copy of the log: durable-ack says so', () => {
    expect(run.summary.verdicts.find((v) => v.property === 'durable-ack')?.verdict).toBe('fail');
  });

  it(
    'restored from a backup at the heal: refused until then, started again, nothing lost',
    async () => {
      const restored = await runFault({ type: 'disk-lost-flush', atMs: 2000, durationMs: 500 }, busy);
      const storage = restored.summary.storage!;
      expect(storage.disk.lostFlushes).toBe(1);
      expect(storage.refusals).toHaveLength(1);
      // Down from the loss to the heal: nothing acked meanwhile, acks again after it.
      expect(restored.of('ack', restored.start + 20, restored.heal)).toEqual([]);
      expect(restored.of('ack', restored.heal, restored.heal + 3000).length).toBeGreaterThan(5);
      expect(failedVerdicts(restored)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'with no checkpoint recovery would use it loses nothing, and the run cannot pass on it: durable-ack is unknown, exit 3',
    async () => {
      // A flipped bit in checkpoint.dat (the bit-flip's default file) just before: the checkpoint is set
      // aside, so the lost flush finds nothing it covers.
      const early = await runFault(
        [
          { type: 'disk-bitflip', atMs: 1000 },
          { type: 'disk-lost-flush', atMs: 1001, durationMs: 100 },
        ],
        busy,
      );
      expect(early.summary.storage!.bitFlips).toBe(1);
      expect(early.summary.storage!.disk.lostFlushes).toBe(0);
      const durableAck = early.summary.verdicts.find((v) => v.property === 'durable-ack')!;
      expect(durableAck.verdict).toBe('unknown');
      expect(durableAck.details).toContain('could not judge a lost flush: 1 of 1 disk-lost-flush faults');
      expect(early.summary.verdicts.filter((v) => v.verdict === 'fail')).toEqual([]);
      expect(early.summary.exitCode).toBe(3);
    },
    faultRunTimeoutMs,
  );
});

/**
 * A deviant store: it closes without the final checkpoint it promises (log-store.ts's close), so the
 * next start replays from the last periodic checkpoint, which covers less than the log.
 */
class NoFinalCheckpoint extends LogStore {
  override async close(): Promise<void> {
    (this as unknown as { recordsSinceCheckpoint: number }).recordsSinceCheckpoint = 0;
    await super.close();
  }
}

describe("disk-lost-flush after a clean stop ('clean-stop')", () => {
  const cleanStop = { type: 'disk-lost-flush', atMs: 2000, durationMs: 500, after: 'clean-stop' };

  it(
    'the store closed with its final checkpoint refuses the short log; restored at the heal, nothing is lost',
    async () => {
      const run = await runFault(cleanStop, busy);
      const storage = run.summary.storage!;
      expect(storage.cleanStops).toBe(1);
      expect(storage.disk.lostFlushes).toBe(1);
      expect(storage.refusals).toEqual([
        expect.stringMatching(
          /\.seg is corrupt at offset \d+.*ends before the position checkpoint\.dat covers/,
        ),
      ]);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'a store that closes with no final checkpoint starts on the short log: acked messages lost, the run fails',
    async () => {
      const run = await runFault(cleanStop, busy, 1, {
        logStore: (options) => new NoFinalCheckpoint(options),
      });
      const storage = run.summary.storage!;
      expect(storage.disk.lostFlushes).toBe(1);
      expect(storage.refusals).toEqual([]);
      expect(failedVerdicts(run)).toContainEqual(expect.stringMatching(/^durable-ack: /));
    },
    faultRunTimeoutMs,
  );
});

describe('disk-lost-flush after a crash, with only a checkpoint from before the last start', () => {
  it(
    "a store that writes no periodic checkpoint meets no lost flush (the clean close's checkpoint was on the platters): durable-ack unknown, exit 3",
    async () => {
      // The clean stop's final checkpoint is the only one: written and synced before the machine came up
      // again, so a cache lost at the later power-off cannot hold what it covers. The correct store's
      // periodic checkpoint since the restart is what the crash's lost flush cuts under.
      const faults = [
        { type: 'disk-lost-flush', atMs: 500, durationMs: 200, after: 'clean-stop' },
        { type: 'disk-lost-flush', atMs: 3500, durationMs: 150 },
      ];
      const correct = await runFault(faults, busy);
      expect(correct.summary.storage!.disk.lostFlushes).toBe(2);
      expect(failedVerdicts(correct)).toEqual([]);
      expect(correct.summary.exitCode).toBe(0);
      const noPeriodic = await runFault(faults, busy, 1, {
        logStore: (options) => new LogStore({ ...options, checkpointEveryRecords: Number.MAX_SAFE_INTEGER }),
      });
      expect(noPeriodic.summary.storage!.disk.lostFlushes).toBe(1);
      const durableAck = noPeriodic.summary.verdicts.find((v) => v.property === 'durable-ack')!;
      expect(durableAck.verdict).toBe('unknown');
      expect(noPeriodic.summary.exitCode).toBe(3);
    },
    faultRunTimeoutMs,
  );
});

/**
 * A deviant store: its recovery reads no checkpoint whose segment file is gone (as if the checkpoint
 * were absent), so it starts on the segments that are left, the acked records of the lost one gone and
 * their seqs given again (by hand, the class of 2625 of the 4a1ec6e seed-4 sample: a checkpoint into a
 * segment that does not exist accepted).
 */
const missingSegmentIgnored = (fs: FileSystem): FileSystem => ({
  ...fs,
  readFile: async (path) => {
    const data = await fs.readFile(path);
    if (data === null || !path.endsWith('checkpoint.dat')) return data;
    const covered = checkpointPosition([{ path, bytes: data }]);
    if (covered === null) return data;
    const names = await fs.list(dirname(path));
    return names.some((name) => segmentPath(covered.dir, covered.segment).endsWith(`/${name}`)) ? data : null;
  },
});

describe("disk-lost-flush of a whole segment file ('file')", () => {
  const lostFile = { type: 'disk-lost-flush', atMs: 2000, durationMs: 500, lose: 'file' };

  it(
    "the checkpoint's segment file is gone: recovery refuses the log until the backup is back, nothing lost",
    async () => {
      const run = await runFault(lostFile, busy);
      const storage = run.summary.storage!;
      expect(storage.disk.lostFlushes).toBe(1);
      expect(storage.refusals).toEqual([
        expect.stringMatching(/\.seg is corrupt at offset 0: the file is missing/),
      ]);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'fails a store that starts without the segment its checkpoint covers',
    async () => {
      const run = await runFault(lostFile, busy, 1, {
        logStore: (options) =>
          new LogStore({ ...options, policies: { ...options.policies, recoveryFs: missingSegmentIgnored } }),
      });
      expect(run.summary.storage!.refusals).toEqual([]);
      expect(run.summary.verdicts.find((v) => v.property === 'durable-ack')?.verdict).toBe('fail');
    },
    faultRunTimeoutMs,
  );
});
