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
// (`stats.lostFlushes` stays 0). A machine that came up again holds on its platters whatever it synced
// before, so a checkpoint written before the store's last start (the one a clean stop closed with) covers
// nothing a later power-off can lose (sim-disk's loseSyncedTail refuses that cut): the crash's lost flush
// meets a checkpoint the running store wrote itself, or none. Such a run tested nothing of the lost flush, so it cannot pass: its
// durable-ack is `unknown` (verdict.ts, judgeLostFlushReach). A store whose checkpoints are never
// usable would otherwise pass every lost flush by never meeting one. `after: 'clean-stop'` makes the
// loss after a clean stop instead (afterCleanStop): what a store's final checkpoint at close is for.
// `lose: 'file'` takes the whole segment file instead (the checkpoint's, or after a clean stop the
// newest), its directory entry never made durable, if it was made since the machine came up (else,
// after a crash, its tail as without it): recovery meets a checkpoint covering a segment that is not
// there and must refuse the log (a store that started on the segments left would give the lost
// records' seqs again).

import { dirname } from 'node:path';
import { defaultLimits } from '../../reference-server/core/limits.ts';
import { checkpointFileName, parseCheckpointFile } from '../../reference-server/store/checkpoint.ts';
import { decodeRecord, readFrame } from '../../reference-server/store/record-codec.ts';
import { segmentPath } from '../../reference-server/store/segment-file.ts';
import { LogCorruptError } from '../../reference-server/store/store-errors.ts';
import { LogStorage } from '../world/log-storage.ts';
import { type SimDisk, sectorBytes } from '../world/sim-disk.ts';
import type { World } from '../world/world.ts';
import type { Fault, FaultContext, Heal } from './fault.ts';
import { closeGraceMs } from './rolling-restart.ts';
import { type StoreOwner, storeOwner } from './store-owner.ts';

export const diskLostFlush: Fault = {
  type: 'disk-lost-flush',
  start(context) {
    const owner = storeOwner(context);
    // Made before the run (lostFlushAtProvisioning), never scheduled in it.
    if (context.spec.after === 'provisioning') return () => {};
    if (context.spec.after === 'clean-stop') return afterCleanStop(context, owner);
    owner.crash();
    const covered = checkpointPosition(
      owner.disk.syncedFiles((path) => path.endsWith(`/${checkpointFileName}`)),
    );
    // The sector that holds the last byte the checkpoint covers, and everything after it, is lost.
    const segment = covered === null ? null : segmentPath(covered.dir, covered.segment);
    // With lose 'file', the cache held the file's entry only if it was made since the machine came up;
    // else it held only its newest bytes, which go as with 'tail'.
    const lostFile =
      covered !== null && context.spec.lose === 'file' ? loseSegmentsFrom(owner, covered) : null;
    const lost =
      lostFile ??
      (covered === null || segment === null || covered.offset === 0
        ? null
        : owner.disk.loseSyncedTail(segment, Math.floor((covered.offset - 1) / sectorBytes) * sectorBytes));
    owner.restart();
    if (lost === null || context.spec.durationMs === undefined) return () => {};
    return () => {
      lost.restore();
      owner.restartIfFailed();
    };
  },
};

/**
 * The entries of the checkpoint's segment file and of every later one are lost (newer files than one
 * only the cache held were only there too), so the newest segment left is older than the one the
 * checkpoint covers; or, if the checkpoint's segment was on the platters, nothing (null).
 */
function loseSegmentsFrom(
  owner: StoreOwner,
  covered: { dir: string; segment: number },
): { restore(): void } | null {
  const first = owner.disk.loseFile(segmentPath(covered.dir, covered.segment));
  if (first === null) return null;
  const lost = [first];
  for (let segment = covered.segment + 1; ; segment++) {
    const next = owner.disk.loseFile(segmentPath(covered.dir, segment));
    if (next === null) break;
    lost.push(next);
  }
  return {
    restore: () => {
      for (const file of lost) file.restore();
    },
  };
}

/** Where the synced checkpoint says the log stood, or null without one that recovery would use. */
export function checkpointPosition(
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

/**
 * `after: 'clean-stop'`: the embedded node drains and exits cleanly (its store flushed, closed with
 * the final checkpoint it promises), then the power goes and the drive's volatile cache takes the
 * newest segment's tail with it, from the sector holding its last message on (lastAppendAt). Where the loss starts comes from
 * the log's files, not from any checkpoint: a store that wrote its final checkpoint refuses the short
 * log, one that skipped it starts on it from an older checkpoint, acked records gone. The node starts
 * again once the loss is made; a heal (durationMs) that comes first lets it start with nothing lost (the
 * run then says the lost flush was not met: durable-ack `unknown`).
 */
function afterCleanStop(context: FaultContext, owner: StoreOwner): Heal {
  const { world } = context;
  if (world.options.storeMode !== 'embedded')
    throw new Error(
      "disk-lost-flush after 'clean-stop' needs the embedded store (its node's clean exit closes it)",
    );
  const node = world.nodes[0]!;
  const limits = { ...defaultLimits, ...world.options.limits };
  let healed = false;
  let lost: { restore(): void } | null = null;
  let stopped = false;
  const epoch = node.epoch;
  const stop = (): void => {
    // The node died meanwhile (another fault): whoever took it down brings it back.
    if (stopped || !node.up || node.epoch !== epoch) return;
    stopped = true;
    node.stop();
    owner.storage.afterClose(() => {
      if (!healed) lost = loseNewestSegment(owner.disk, context.spec.lose);
      node.restart();
    });
  };
  node.drain(limits.drainReconnectMs, () => world.at(world.now, stop));
  world.at(world.now + limits.drainTimeoutMs + closeGraceMs, stop);
  // Without a duration nothing is restored: the loss is for good.
  if (context.spec.durationMs === undefined) return () => {};
  // The operator restores the backup because the node refused to start on its log (its recovery may
  // still be running at the heal). A store that started on the short log gave nobody cause to: what it
  // lost stays lost.
  const restoreIfRefused = (): void => {
    if (lost === null) return;
    if (owner.storage.isRecovering) return world.at(world.now + recoveryPollMs, restoreIfRefused);
    if (!owner.storage.isRefused) return;
    lost.restore();
    owner.restartIfFailed();
  };
  return () => {
    healed = true;
    restoreIfRefused();
  };
}

/**
 * What a power-off after a clean stop takes from the newest segment: with `lose` 'file' the whole file
 * (its directory entry, if made since the machine came up), else its tail from its last message on.
 */
function loseNewestSegment(disk: SimDisk, lose: 'tail' | 'file' | undefined): { restore(): void } | null {
  const newest = disk
    .syncedFiles((path) => path.endsWith('.seg'))
    .sort((a, b) => (a.path < b.path ? -1 : 1))
    .at(-1);
  if (newest === undefined) return null;
  if (lose === 'file') return disk.loseFile(newest.path);
  if (newest.bytes.length === 0) return null;
  return disk.loseSyncedTail(newest.path, Math.floor(lastAppendAt(newest.bytes) / sectorBytes) * sectorBytes);
}

/**
 * `after: 'provisioning'`: the operator's first restart of a new server, once the setup's conversations
 * are created and before any client connects (the runner calls this instead of scheduling the fault).
 * The store closes cleanly, so its final checkpoint points into segment 1, the only segment a young log
 * has; the power goes and the drive's cache takes that segment's tail, or with `lose` 'file' the file
 * itself, so no segment is left at all. Recovery must refuse a log shorter than its checkpoint, the
 * empty one included (a store that took a missing first segment for a new log would start on the
 * checkpoint's state with nothing under it, and write its records over the index's locations: 2625 of
 * the 4a1ec6e seed-4 sample, 2640 of 74bbde3 seed 6); then the backup is restored at once. A store that
 * started keeps the damaged log, and the run judges it (durable-ack, gap-free-store).
 */
export async function lostFlushAtProvisioning(
  world: World,
  lose: 'tail' | 'file' | undefined,
): Promise<void> {
  const storage = world.storage;
  if (!(storage instanceof LogStorage))
    throw new Error('the disk-lost-flush fault needs the real log store (topology.engine "log")');
  await storage.restartAtProvisioning((disk) => loseNewestSegment(disk, lose));
}

/**
 * Where the loss of a clean stop starts in the newest segment: at the last message's record, so at
 * least one acknowledged message goes (the records after it, cursors and membership, go too; a loss of
 * those alone would put less to the test), or at the last byte when the segment holds no message.
 */
function lastAppendAt(bytes: Buffer): number {
  let at = bytes.length - 1;
  for (let offset = 0; offset < bytes.length; ) {
    const frame = readFrame(bytes, offset, bytes.length);
    if (!frame.ok) break;
    if (decodeRecord(frame.payload)?.t === 'append') at = offset;
    offset = frame.end;
  }
  return at;
}

/** How often a heal looks again whether a recovery still running has refused the log. */
const recoveryPollMs = 50;
