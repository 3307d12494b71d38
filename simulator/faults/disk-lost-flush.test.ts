import { beforeAll, describe, expect, it } from 'vitest';
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
