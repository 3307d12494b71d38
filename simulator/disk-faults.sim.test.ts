// disk-faults' first torn write keeps any subset of its sectors (written back in no order) from a
// group-commit batch of six records or more, so a kept sector can hold the start of the first bad frame
// while a lost whole sector lies after it, and intact records after that. Recovery must still see that
// tail as an unsynced write, cut it and start. A recovery that recognizes only a hole reaching back to
// the bad frame itself (3c0f288 seed-3 sample mutant 2718) refuses that log, and the node's store stays
// down with acked messages in it.

import { describe, expect, it } from 'vitest';
import type { FileSystem } from '../reference-server/store/file-system.ts';
import { LogStore } from '../reference-server/store/log-store.ts';
import { decodeJson, encodeJsonFrame, readFrame } from '../reference-server/store/record-codec.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';
import { sectorBytes } from './world/sim-disk.ts';

/**
 * A segment as a recovery that takes a lost sector in the middle of a torn write for damage reads it:
 * every whole sector of zeros that starts past the first frame that does not check out reads as 0xff,
 * so only a hole that reaches back to that frame still looks unwritten.
 */
function hideInteriorHoles(data: Buffer): Buffer {
  let from = 0;
  for (;;) {
    const frame = readFrame(data, from, data.length);
    if (!frame.ok) break;
    from = frame.end;
  }
  let out: Buffer | null = null;
  for (let sector = Math.floor(from / sectorBytes) + 1; (sector + 1) * sectorBytes <= data.length; sector++) {
    const start = sector * sectorBytes;
    if (!data.subarray(start, start + sectorBytes).every((byte) => byte === 0)) continue;
    out ??= Buffer.from(data);
    out.fill(0xff, start, start + sectorBytes);
  }
  return out ?? data;
}

const interiorHolesHidden = (fs: FileSystem): FileSystem => ({
  ...fs,
  readFile: async (path) => {
    const data = await fs.readFile(path);
    return data !== null && path.endsWith('.seg') ? hideInteriorHoles(data) : data;
  },
});

const failed = (summary: Awaited<ReturnType<typeof runScenario>>): string[] =>
  summary.verdicts.filter((v) => v.verdict !== 'pass').map((v) => v.property);

describe('disk-faults: a torn write whose sectors reach the disk in no order', () => {
  const scenario = loadScenario('disk-faults');

  it('is in the scenario: any subset of a batch of six records or more', () => {
    expect(scenario.faults).toContainEqual(
      expect.objectContaining({ type: 'disk-torn-write', sectors: 'any', writeRecordsMin: 6 }),
    );
  });

  it('passes the real store, which cuts both tails torn out of order and starts', async () => {
    const summary = await runScenario(scenario, { seed: 1, clients: 200 });
    const storage = summary.storage!;
    // The 'any' tear here and the 'hole' tear later, each with whole records after its lost sectors.
    expect(storage.disk.tornOutOfOrder).toBe(2);
    expect(storage.tailsCutBeforeIntact).toBe(2);
    // The first restart, before the run, lost segment 1 under the checkpoint: refused, then restored.
    expect(storage.refusals[0]).toMatch(/00000001\.seg is corrupt at offset 0: the file is missing/);
    expect(summary.exitCode).toBe(0);
  }, 120_000);

  it('catches a recovery that refuses a log whose lost sector lies past the first bad frame', async () => {
    const summary = await runScenario(scenario, {
      seed: 1,
      clients: 200,
      logStore: (options) =>
        new LogStore({ ...options, policies: { ...options.policies, recoveryFs: interiorHolesHidden } }),
    });
    // The first tail torn out of order is refused as damage, and so stays every start after it.
    const storage = summary.storage!;
    expect(storage.refusals.some((refusal) => /damage, not a torn tail/.test(refusal))).toBe(true);
    expect(storage.tailsCutBeforeIntact).toBe(0);
    expect(summary.exitCode).toBe(1);
    expect(failed(summary)).toContain('durable-ack');
  }, 120_000);
});

/**
 * A recovery that takes a log with no segment file for a new one, whatever its checkpoint covers (2625
 * of the 4a1ec6e seed-4 sample, 2640 of 74bbde3 seed 6): with no `.seg` in the directory it reads the
 * checkpoint as if it pointed at segment 1's start, which the real recovery accepts as an empty log,
 * and so starts on the checkpoint's state with nothing under it.
 */
const youngLogTakenForNew = (fs: FileSystem): FileSystem => ({
  ...fs,
  readFile: async (path) => {
    const data = await fs.readFile(path);
    if (data === null || !path.endsWith('/checkpoint.dat')) return data;
    const names = await fs.list(path.slice(0, path.lastIndexOf('/')));
    if (names.some((name) => name.endsWith('.seg'))) return data;
    const header = readFrame(data, 0, data.length);
    if (!header.ok) return data;
    const fields = decodeJson(header.payload) as Record<string, unknown>;
    return Buffer.concat([encodeJsonFrame({ ...fields, offset: 0 }), data.subarray(header.end)]);
  },
});

describe("disk-faults: a lost flush at a new server's first restart", () => {
  const scenario = loadScenario('disk-faults');

  it('is in the scenario: segment 1 lost whole under the checkpoint of a young log', () => {
    expect(scenario.faults).toContainEqual(
      expect.objectContaining({ type: 'disk-lost-flush', after: 'provisioning', lose: 'file' }),
    );
  });

  it('catches a store that starts on a log with no segment under its checkpoint', async () => {
    const summary = await runScenario(scenario, {
      seed: 1,
      clients: 200,
      logStore: (options) =>
        new LogStore({ ...options, policies: { ...options.policies, recoveryFs: youngLogTakenForNew } }),
    });
    expect(summary.storage!.refusals[0] ?? '').not.toMatch(/00000001\.seg/);
    expect(summary.exitCode).toBe(1);
    expect(failed(summary)).toEqual(expect.arrayContaining(['durable-ack', 'no-loss']));
  }, 120_000);
});

/** A recovery that reads every checkpoint with one byte changed, as if the store had written it wrong. */
const checkpointReadWrong = (fs: FileSystem): FileSystem => ({
  ...fs,
  readFile: async (path) => {
    const data = await fs.readFile(path);
    if (data === null || !path.endsWith('/checkpoint.dat') || data.length === 0) return data;
    const wrong = Buffer.from(data);
    wrong[wrong.length >> 1]! ^= 0x10;
    return wrong;
  },
});

describe('disk-faults: a checkpoint set aside that no fault damaged', () => {
  it('fails gap-free-store although nothing is lost (every segment replayed)', async () => {
    const summary = await runScenario(loadScenario('disk-faults'), {
      seed: 1,
      clients: 200,
      logStore: (options) =>
        new LogStore({ ...options, policies: { ...options.policies, recoveryFs: checkpointReadWrong } }),
    });
    expect(summary.storage!.checkpointsSetAsideUndamaged).toBeGreaterThan(0);
    expect(summary.exitCode).toBe(1);
    expect(failed(summary)).toContain('gap-free-store');
  }, 120_000);

  it('passes the real store, whose only checkpoints set aside are those disk-bitflip damaged', async () => {
    const summary = await runScenario(loadScenario('disk-faults'), { seed: 2, clients: 200 });
    expect(summary.storage!.checkpointsRejected).toBeGreaterThan(0);
    expect(summary.storage!.checkpointsSetAsideUndamaged).toBe(0);
    expect(summary.exitCode).toBe(0);
  }, 120_000);
});
