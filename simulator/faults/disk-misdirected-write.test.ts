import { beforeAll, describe, expect, it } from 'vitest';
import { decodeJson, encodeJsonFrame, readFrame } from '../../reference-server/store/record-codec.ts';
import { foreignRecord } from './disk-misdirected-write.ts';
import {
  type FaultRun,
  failedVerdicts,
  faultRunTimeoutMs,
  recoveryReadingSegments,
  runFault,
} from './fault-harness.ts';

describe('disk-misdirected-write', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(
      { type: 'disk-misdirected-write', atMs: 1000 },
      { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
    );
  }, faultRunTimeoutMs);

  it('lands a whole CRC-valid record over an older one, and the store notices', () => {
    const storage = run.summary.storage!;
    expect(storage.disk.misdirectedWrites).toBe(1);
    // A read of the overwritten record fails, or the recovery that replays it refuses the log.
    expect(storage.refusals.length + storage.corruptReads).toBeGreaterThan(0);
  });

  it('never serves the record that landed as the one the index expects there', () => {
    const shown = run.summary.verdicts.filter((v) =>
      ['agreement', 'per-conversation-order', 'no-duplicates'].includes(v.property),
    );
    expect(
      shown.map((v) => `${v.property}: ${v.verdict}${v.verdict === 'pass' ? '' : ` ${v.details}`}`),
    ).toEqual(['per-conversation-order: pass', 'agreement: pass', 'no-duplicates: pass']);
  });

  it(
    "never serves another conversation's record of the same seq either (landing 'same-seq')",
    async () => {
      // The default lands a record of the same conversation, which only the seq tells apart; this one
      // only the conversation does. A store that checked one half would serve the other.
      const sameSeq = await runFault(
        { type: 'disk-misdirected-write', atMs: 1000, landing: 'same-seq' },
        { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
      );
      expect(sameSeq.summary.storage!.disk.misdirectedWrites).toBe(1);
      const shown = sameSeq.summary.verdicts.filter((v) =>
        ['agreement', 'per-conversation-order', 'no-duplicates'].includes(v.property),
      );
      expect(shown.map((v) => `${v.property}: ${v.verdict}`)).toEqual([
        'per-conversation-order: pass',
        'agreement: pass',
        'no-duplicates: pass',
      ]);
      expect(
        sameSeq.summary.storage!.corruptReads + sameSeq.summary.storage!.refusals.length,
      ).toBeGreaterThan(0);
    },
    faultRunTimeoutMs,
  );

  it('loses the overwritten record (one copy of the log): durable-ack says so', () => {
    const durableAck = run.summary.verdicts.find((v) => v.property === 'durable-ack');
    expect(durableAck?.verdict).toBe('fail');
  });

  it(
    "with the node serving on, the heal's scrub reads the damaged record back, the store refuses it, and after the restore nothing is lost",
    async () => {
      const serving = await runFault(
        { type: 'disk-misdirected-write', atMs: 1000, durationMs: 500 },
        { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
      );
      const storage = serving.summary.storage!;
      expect(storage.disk.misdirectedWrites).toBe(1);
      expect(storage.refusals).toEqual([]);
      // The scrub reads every seq alone, the overwritten one included (a landed frame longer than the
      // one it overwrote also breaks the next record's CRC: refused too).
      expect(storage.corruptReads).toBeGreaterThan(0);
      // The damage lasts until the backup is back, after the scrub's reads: the history keeps the fault
      // open that long (held open at the heal, healed again at the restore), so a read of the damaged
      // seq refused meanwhile is no spurious `unavailable`.
      const windows = serving.events.filter(
        (e) => e.k === 'fault' && e.type === 'disk-misdirected-write',
      ) as { phase: string; at: number }[];
      expect(windows.map((e) => e.phase)).toEqual(['start', 'start', 'heal', 'heal']);
      expect(windows[1]!.at).toBe(serving.heal);
      expect(windows[3]!.at).toBeGreaterThan(serving.heal);
      expect(failedVerdicts(serving)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'restored from a backup at the heal: the recovery refuses the log until then, and nothing is lost',
    async () => {
      const restored = await runFault(
        [
          // The damaged checkpoint makes the recovery replay every segment, the overwritten record included.
          { type: 'disk-bitflip', atMs: 1000, file: 'checkpoint' },
          { type: 'disk-misdirected-write', atMs: 1000, durationMs: 1500 },
          { type: 'node-crash', atMs: 1001, durationMs: 500, node: 0 },
        ],
        { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } },
      );
      const storage = restored.summary.storage!;
      expect(storage.disk.misdirectedWrites).toBe(1);
      expect(storage.refusals).toEqual([expect.stringMatching(/\.seg is corrupt at offset \d+/)]);
      expect(failedVerdicts(restored)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});

describe('foreignRecord', () => {
  it('makes a CRC-valid frame of exactly the length asked, a membership change listing a number, or null', () => {
    const frame = foreignRecord('g1', 'u1', 90)!;
    expect(frame.length).toBe(90);
    const read = readFrame(frame, 0, frame.length);
    expect(read.ok).toBe(true);
    expect(decodeJson((read as { payload: Buffer }).payload)).toMatchObject({
      t: 'members',
      conv: 'g1',
      add: [7],
    });
    expect(foreignRecord('g1', 'u1', 40)).toBeNull();
  });
});

/**
 * A recovery that reads a number where a user id belongs as that id (as a decoder that took any list:
 * mutants 3126 and 3164 of the 3c0f288 seed-3 sample): each such membership change is given to the
 * store rewritten with string ids, padded to the same length, so it replays.
 */
const numbersAsIds = recoveryReadingSegments((data, offset, frame) => {
  if (frame === null) return;
  const value = decodeJson(frame.payload) as { t?: string; add?: unknown[]; pad?: string } | undefined;
  if (value?.t !== 'members' || !value.add?.some((user) => typeof user !== 'string')) return;
  const add = value.add.map(String);
  const grown = JSON.stringify(add).length - JSON.stringify(value.add).length;
  encodeJsonFrame({ ...value, add, pad: (value.pad ?? '').slice(grown) }).copy(data, offset);
});

describe("disk-misdirected-write with landing 'foreign'", () => {
  const fault = { type: 'disk-misdirected-write', atMs: 1000, durationMs: 400, landing: 'foreign' };
  const load = { clients: { count: 200 } };
  let run: FaultRun;
  let deviant: FaultRun;
  beforeAll(async () => {
    run = await runFault(fault, load);
    deviant = await runFault(fault, load, 1, numbersAsIds);
  }, faultRunTimeoutMs);

  it("lands a frame no record of the format over a group's last record; recovery refuses it, and after the restore nothing is lost", () => {
    const storage = run.summary.storage!;
    expect(storage.disk.misdirectedWrites).toBe(1);
    expect(storage.refusals.join()).toMatch(/a record that does not decode/);
    expect(failedVerdicts(run)).toEqual([]);
  });

  it('fails a store whose recovery replays it (the record it hid is lost)', () => {
    expect(deviant.summary.storage!.disk.misdirectedWrites).toBe(1);
    expect(deviant.summary.storage!.refusals.join()).not.toMatch(/does not decode/);
    expect(deviant.summary.exitCode).not.toBe(0);
    expect(failedVerdicts(deviant).join('\n')).toMatch(/durable-ack|cursor-monotonicity|no-loss/);
  });
});
