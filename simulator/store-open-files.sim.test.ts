// The store-open-files check (verdict.ts, judgeOpenFilesAtRest): the real log store keeps at most
// `readFilesMax` idle read handles, so at rest it holds those, the segment it writes and a checkpoint
// being written; a store that keeps every segment it read open (its bound ignored, or its release
// doing nothing) is caught leaking descriptors.

import { describe, expect, it } from 'vitest';
import { LogStore } from '../reference-server/store/log-store.ts';
import { faultRunTimeoutMs, runFault } from './faults/fault-harness.ts';
import { storeOpenFilesProperty, storeSegmentSizeProperty } from './verdict.ts';

/** Enough messages, some of the largest body, that the log spans many segments and reads reach back. */
const busy = { clients: { count: 80 }, workload: { ratePer1kClients: 3000, largeBodyShare: 0.05 } };

const openFiles = (run: Awaited<ReturnType<typeof runFault>>) =>
  run.summary.verdicts.find((v) => v.property === storeOpenFilesProperty);

describe('store-open-files', () => {
  it(
    'passes the real store',
    async () => {
      const run = await runFault({ type: 'node-crash', atMs: 1000, durationMs: 300 }, busy);
      expect(openFiles(run)).toMatchObject({ verdict: 'pass' });
    },
    faultRunTimeoutMs,
  );

  it(
    'fails a store that never closes a read handle',
    async () => {
      const run = await runFault({ type: 'node-crash', atMs: 1000, durationMs: 300 }, busy, 1, {
        logStore: (options) =>
          new LogStore({ ...options, limits: { ...options.limits, readFilesMax: 1_000_000 } }),
      });
      expect(openFiles(run)).toMatchObject({ verdict: 'fail' });
      expect(run.summary.exitCode).toBe(1);
    },
    faultRunTimeoutMs,
  );
});

// store-segment-size (verdict.ts, judgeSegmentSizes): the log rotates at segmentBytesMax; one that
// never rotates (mutant 2461 of the 4a1ec6e seed-4 sample) is one ever-growing file, which a live
// server cannot read back at recovery past 2 GiB.
const segmentSize = (run: Awaited<ReturnType<typeof runFault>>) =>
  run.summary.verdicts.find((v) => v.property === storeSegmentSizeProperty);

describe('store-segment-size', () => {
  it(
    'passes the real store, and fails one whose log never rotates',
    async () => {
      const real = await runFault({ type: 'node-crash', atMs: 1000, durationMs: 300 }, busy);
      expect(segmentSize(real)).toMatchObject({ verdict: 'pass' });
      const unrotated = await runFault({ type: 'node-crash', atMs: 1000, durationMs: 300 }, busy, 1, {
        logStore: (options) => new LogStore({ ...options, segmentBytesMax: Number.MAX_SAFE_INTEGER }),
      });
      expect(segmentSize(unrotated)).toMatchObject({ verdict: 'fail' });
      expect(unrotated.summary.exitCode).toBe(1);
    },
    2 * faultRunTimeoutMs,
  );
});
