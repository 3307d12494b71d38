// Start-up of the log store: load the checkpoint, replay every record after it through StoreState,
// and cut a torn tail off the last segment (a crash mid-write leaves one; nothing in it was acked).
// A damaged checkpoint (its CRCs catch a flipped bit) is set aside and reported, and every segment is
// replayed instead: segments are never deleted, so nothing is lost. Damage anywhere else, including a
// bad record with an intact one after it in the last segment, is refused with CHATSIM_ERR_LOG_CORRUPT,
// naming the file and offset; unless the bad span holds a sector that was never written (zeros): then
// it is the unsynced last write, torn out of order, and is cut from the bad record on.

import type { ConvId } from '../protocol/frames.ts';
import { checkpointFileName, loadCheckpoint } from './checkpoint.ts';
import type { FileSystem } from './file-system.ts';
import type { StoreLimits } from './limits.ts';
import { nodeFileSystem } from './node-file-system.ts';
import { decodeRecord, frameHeaderBytes, type LogRecord, readFrame } from './record-codec.ts';
import { encodeLocation, listSegments, segmentPath } from './segment-file.ts';
import { LogCorruptError } from './store-errors.ts';
import { StoreState } from './store-state.ts';

/** The unit a disk writes whole; a crash may keep any subset of an unsynced write's sectors. */
const sectorBytes = 512;

export type RecoveredLog = {
  state: StoreState;
  locations: Map<ConvId, number[]>;
  /** Where the next record goes. */
  segment: number;
  offset: number;
  /** Records in the whole log, and how many of them this start-up replayed (the rest came from the checkpoint). */
  records: number;
  replayedRecords: number;
  /** Bytes cut off the last segment as a torn tail (0 after a clean shutdown). */
  truncatedBytes: number;
  /** Whether the cut tail held an intact record after its bad one (an unwritten sector, not damage). */
  cutBeforeIntact: boolean;
  /** Why the checkpoint was set aside (damaged), or null when it was used or absent. */
  checkpointRejected: string | null;
};

export async function recoverLog(
  dir: string,
  limits: StoreLimits,
  fs: FileSystem = nodeFileSystem,
  newState: () => StoreState = () => new StoreState(),
): Promise<RecoveredLog> {
  let checkpointRejected: string | null = null;
  const checkpoint = await loadCheckpoint(dir, limits.checkpointFrameBytesMax, fs, newState).catch(
    (error: unknown) => {
      if (!(error instanceof LogCorruptError)) throw error;
      checkpointRejected = error.message;
      return null;
    },
  );
  const segments = await listSegments(dir, fs);
  segments.forEach((segment, i) => {
    if (segment !== i + 1) throw missing(dir, i + 1, 'segments are numbered from 1 without gaps');
  });
  const last = segments.length;
  const state = checkpoint?.state ?? newState();
  const locations = checkpoint?.locations ?? new Map<ConvId, number[]>();
  const start = checkpoint ?? { segment: 1, offset: 0, records: 0 };
  // Only an empty log may lack the segment its checkpoint points into.
  if (checkpoint !== null && checkpoint.segment > last && (checkpoint.offset > 0 || checkpoint.segment > 1)) {
    throw missing(dir, checkpoint.segment, `${checkpointFileName} covers records up to it`);
  }
  const recovered: RecoveredLog = {
    state,
    locations,
    segment: Math.max(last, 1),
    offset: 0,
    records: start.records,
    replayedRecords: 0,
    truncatedBytes: 0,
    cutBeforeIntact: false,
    checkpointRejected,
  };
  for (let segment = start.segment; segment <= last; segment++) {
    const path = segmentPath(dir, segment);
    const data = await fs.readFile(path);
    if (data === null) throw missing(dir, segment, 'it was listed a moment ago');
    let offset = segment === start.segment ? start.offset : 0;
    if (offset > data.length) {
      throw new LogCorruptError(
        path,
        data.length,
        `the file ends before the position ${checkpointFileName} covers`,
      );
    }
    while (offset < data.length) {
      const frame = readFrame(data, offset, limits.recordBytesMax);
      if (!frame.ok) {
        if (segment !== last) throw new LogCorruptError(path, offset, frame.reason);
        // A torn tail is the end of what was written: an intact record after a bad one means the bad
        // one is damage (a flipped bit), and cutting there would drop acknowledged records.
        const intact = intactFrameAfter(data, offset, limits.recordBytesMax);
        if (intact !== null && !unwrittenSectorIn(data, offset, intact, limits))
          throw new LogCorruptError(
            path,
            offset,
            `${frame.reason}, with an intact record at offset ${intact} after it: damage, not a torn tail`,
          );
        recovered.truncatedBytes = data.length - offset;
        recovered.cutBeforeIntact = intact !== null;
        await truncate(fs, path, offset);
        break;
      }
      const record = decodeRecord(frame.payload);
      const problem =
        record === null ? 'a record that does not decode' : replay(state, locations, record, segment, offset);
      if (problem !== null) throw new LogCorruptError(path, offset, `${problem} (replay diverged)`);
      offset = frame.end;
      recovered.records++;
      recovered.replayedRecords++;
    }
    recovered.offset = offset;
  }
  return recovered;
}

/** Applies one logged decision; returns why it does not replay as it was taken, or null. */
function replay(
  state: StoreState,
  locations: Map<ConvId, number[]>,
  record: LogRecord,
  segment: number,
  offset: number,
): string | null {
  switch (record.t) {
    case 'create': {
      const result = state.create(record);
      if (result.status !== 'created') return `conversation ${record.id} created twice`;
      locations.set(record.id, []);
      return null;
    }
    case 'append': {
      const result = state.append(record);
      if (result.status !== 'ok' || result.duplicate || result.seq !== record.seq) {
        return `append of seq ${record.seq} to ${record.conv} replays as ${JSON.stringify(result)}`;
      }
      locations.get(record.conv)!.push(encodeLocation(segment, offset));
      return null;
    }
    case 'members': {
      const { result, changed } = state.changeMembers(record);
      return result.status === 'ok' && changed ? null : `membership change of ${record.conv} does not apply`;
    }
    case 'cursor': {
      const result = state.advanceCursor(record);
      return result.status === 'ok' && result.moved && result.seq === record.seq
        ? null
        : `cursor move of ${record.user} in ${record.conv} does not apply`;
    }
  }
}

/**
 * Whether the bad span [from, to) before an intact frame is the hole of an unsynced write whose later
 * sectors reached the disk before its earlier ones (page writeback keeps no order): a run of zeros
 * (a sector never written) that ends on a sector boundary, at least a frame header long or reaching
 * back to the bad frame itself, within one write of the end. Frames hold no such run (a JSON payload
 * has no NUL byte, a header at most a few), and a flipped bit makes none. Only the last write can be
 * unsynced (group commit writes again only after an fsync), so nothing from `from` on was acked.
 */
function unwrittenSectorIn(data: Buffer, from: number, to: number, limits: StoreLimits): boolean {
  const oneWriteBytes = Math.max(limits.groupCommitBytesMax, limits.recordBytesMax + frameHeaderBytes);
  if (data.length - from > oneWriteBytes) return false;
  for (
    let boundary = (Math.floor(from / sectorBytes) + 1) * sectorBytes;
    boundary <= to;
    boundary += sectorBytes
  ) {
    let zeros = boundary;
    while (zeros > Math.max(from, boundary - sectorBytes) && data[zeros - 1] === 0) zeros--;
    const run = boundary - zeros;
    if (run >= frameHeaderBytes || (run > 0 && zeros === from)) return true;
  }
  return false;
}

/** The offset of the first frame that checks out after `offset`, or null (a torn tail has none). */
function intactFrameAfter(data: Buffer, offset: number, recordBytesMax: number): number | null {
  for (let at = offset + 1; at + frameHeaderBytes < data.length; at++)
    if (readFrame(data, at, recordBytesMax).ok) return at;
  return null;
}

async function truncate(fs: FileSystem, path: string, length: number): Promise<void> {
  const file = await fs.open(path, 'write');
  try {
    await file.truncate(length);
    await file.datasync();
  } finally {
    await file.close();
  }
}

function missing(dir: string, segment: number, why: string): LogCorruptError {
  return new LogCorruptError(segmentPath(dir, segment), 0, `the file is missing (${why})`);
}
