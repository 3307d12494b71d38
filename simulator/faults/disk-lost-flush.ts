// A lost flush: the disk acknowledged an fsync it never made (a drive's volatile write cache lost at
// power-off), so when the log's machine crashes, its checkpoint's segment comes back shorter than the
// position the checkpoint covers: acknowledged records are gone. One copy of a log cannot get them
// back, but it can see the loss: recovery must refuse a segment that ends before what its checkpoint
// covers (LogCorruptError) rather than start on a log with a hole in it, an index pointing past the
// file's end and appends landing after the hole. The machine restarts at once, on the short segment.
// With `durationMs`, a backup restores the lost bytes at the heal and a store that refused restarts: a
// correct store then loses nothing and every checker passes, so the gate's disk-faults runs it. Without
// a checkpoint recovery would use (none yet, or a damaged one), or with one at its segment's start,
// there is nothing it covers to lose: the fault crashes and restarts the machine and loses nothing
// (`stats.lostFlushes` stays 0). Such a run tested nothing of the lost flush, so it cannot pass: its
// durable-ack is `unknown` (verdict.ts, judgeLostFlushReach). A store whose checkpoints are never
// usable would otherwise pass every lost flush by never meeting one.

import { dirname } from 'node:path';
import { checkpointFileName, parseCheckpointFile } from '../../reference-server/store/checkpoint.ts';
import { segmentPath } from '../../reference-server/store/segment-file.ts';
import { LogCorruptError } from '../../reference-server/store/store-errors.ts';
import { sectorBytes } from '../world/sim-disk.ts';
import type { Fault } from './fault.ts';
import { storeOwner } from './store-owner.ts';

export const diskLostFlush: Fault = {
  type: 'disk-lost-flush',
  start(context) {
    const owner = storeOwner(context);
    owner.crash();
    const covered = checkpointPosition(
      owner.disk.syncedFiles((path) => path.endsWith(`/${checkpointFileName}`)),
    );
    // The sector that holds the last byte the checkpoint covers, and everything after it, is lost.
    const lost =
      covered === null || covered.offset === 0
        ? null
        : owner.disk.loseSyncedTail(
            segmentPath(covered.dir, covered.segment),
            Math.floor((covered.offset - 1) / sectorBytes) * sectorBytes,
          );
    owner.restart();
    if (lost === null || context.spec.durationMs === undefined) return () => {};
    return () => {
      lost.restore();
      owner.restartIfFailed();
    };
  },
};

/** Where the synced checkpoint says the log stood, or null without one that recovery would use. */
function checkpointPosition(
  files: { path: string; bytes: Buffer }[],
): { dir: string; segment: number; offset: number } | null {
  const file = files[0];
  if (file === undefined) return null;
  try {
    const { segment, offset } = parseCheckpointFile(file.path, file.bytes, file.bytes.length);
    return { dir: dirname(file.path), segment, offset };
  } catch (error) {
    // A damaged checkpoint is set aside and every segment replayed: a loss there would look like a
    // torn tail, which no single copy of a log can tell from one.
    if (error instanceof LogCorruptError) return null;
    throw error;
  }
}
