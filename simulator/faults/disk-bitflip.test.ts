import { describe, expect, it } from 'vitest';
import { encodeJsonFrame } from '../../reference-server/store/record-codec.ts';
import { Prng } from '../kernel/prng.ts';
import { recentByte } from './disk-bitflip.ts';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

// Busy enough that checkpoints (every 400 records) exist before the flip.
const busy = { clients: { count: 80 }, workload: { ratePer1kClients: 3000 } };

describe('disk-bitflip', () => {
  it(
    'in the checkpoint: the next recovery sets it aside, replays every segment, and loses nothing',
    async () => {
      const run = await runFault(
        [
          { type: 'disk-bitflip', atMs: 1000, file: 'checkpoint' },
          { type: 'node-crash', atMs: 1001, durationMs: 500, node: 0 },
        ],
        busy,
      );
      const storage = run.summary.storage!;
      expect(storage.bitFlips).toBe(1);
      expect(storage.checkpointsRejected).toBeGreaterThanOrEqual(1);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'in a segment: the CRC catches it and the store refuses the record, never serving it',
    async () => {
      // Where the flip lands is drawn (disk-bitflip.ts): bytes a checkpoint has covered since, and no
      // read reaches, are never read again, so not every seed meets the damage (at 80 clients seeds 2
      // and 4 of 1-4 do: a refused recovery, a failed read). Over four seeds the damage must be met.
      let detected = 0;
      for (const seed of [1, 2, 3, 4]) {
        const run = await runFault(
          [
            { type: 'disk-bitflip', atMs: 1000, file: 'segment' },
            { type: 'node-crash', atMs: 1001, durationMs: 500, node: 0 },
          ],
          busy,
          seed,
        );
        const storage = run.summary.storage!;
        expect(storage.bitFlips).toBe(1);
        // Recovery refuses the damaged log, or a read of the record fails: reported either way.
        detected += storage.refusals.length + storage.corruptReads;
        // Whatever was shown is what was acked: no damaged body reached a client.
        const shown = run.summary.verdicts.filter((v) =>
          ['agreement', 'per-conversation-order', 'no-duplicates'].includes(v.property),
        );
        expect(shown.map((v) => `${v.property}: ${v.verdict}`)).toEqual([
          'per-conversation-order: pass',
          'agreement: pass',
          'no-duplicates: pass',
        ]);
      }
      expect(detected).toBeGreaterThan(0);
    },
    4 * faultRunTimeoutMs,
  );

  it(
    'in a segment restored from a backup at the heal: refused until then, and nothing is lost',
    async () => {
      const run = await runFault(
        [
          // The damaged checkpoint makes the recovery replay every segment, the damaged one included.
          { type: 'disk-bitflip', atMs: 1000, file: 'checkpoint' },
          { type: 'disk-bitflip', atMs: 1000, file: 'segment', durationMs: 1500 },
          { type: 'node-crash', atMs: 1001, durationMs: 500, node: 0 },
        ],
        busy,
      );
      const storage = run.summary.storage!;
      expect(storage.bitFlips).toBe(2);
      // The recovery after the crash replays the damaged record and refuses the log, not cuts it.
      expect(storage.refusals).toEqual([
        expect.stringMatching(/\.seg is corrupt at offset \d+: CRC mismatch/),
      ]);
      expect(run.of('ack', run.start + 20, run.heal)).toEqual([]);
      // Once the sector is restored and the store restarted, every acked record is there.
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});

describe('recentByte', () => {
  it("puts a segment flip in the last segment, the sealed one, or either, as 'segment' says", () => {
    const frame = encodeJsonFrame({ t: 'append', body: 'z'.repeat(200) });
    const bytes = Buffer.concat([frame, frame, frame]);
    const segments = [
      { path: '/d/00000001.seg', bytes },
      { path: '/d/00000002.seg', bytes },
    ];
    const picks = (which: 'either' | 'last' | 'sealed') =>
      new Set([1, 2, 3, 4, 5, 6, 7, 8].map((seed) => recentByte(segments, new Prng(seed), which)!.path));
    expect(picks('last')).toEqual(new Set(['/d/00000002.seg']));
    expect(picks('sealed')).toEqual(new Set(['/d/00000001.seg']));
    expect(picks('either')).toEqual(new Set(['/d/00000001.seg', '/d/00000002.seg']));
    // In the last segment, never inside its last record (that would look like a torn tail).
    for (let seed = 1; seed <= 8; seed++)
      expect(recentByte(segments, new Prng(seed), 'last')!.offset).toBeLessThan(2 * frame.length);
  });
});
