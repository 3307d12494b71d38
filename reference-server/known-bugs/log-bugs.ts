// Known bugs in the embedded log itself, one per part that decides whether an acked record survives:
// group commit, recovery and checkpoints. Each is a policy the LogStore is built with (a wrapper
// around one of its parts, log-store.ts `LogPolicies`), never a branch in the store. The gate's
// disk-faults scenario and the final crash-and-recover read of every simulated run catch them.

import type { FileSystem, StoreFile } from '../store/file-system.ts';
import type { LogPolicies } from '../store/log-store.ts';
import type { SegmentSink } from '../store/segment-file.ts';
import type { BugName } from './bugs.ts';

/**
 * Group commit retries a failed fsync and acks when the retry succeeds. After EIO the kernel has
 * dropped the dirty pages, so the retry "succeeds" with nothing to write (PostgreSQL's fsyncgate):
 * the acked records were never made durable and the next crash loses them.
 */
function retryFailedFsync(sink: SegmentSink): SegmentSink {
  return {
    open: (segment) => sink.open(segment),
    write: (data, position) => sink.write(data, position),
    sync: () => sink.sync().catch(() => sink.sync()),
    close: () => sink.close(),
  };
}

/** Recovery cuts a torn tail at the start of the last segment, taking its intact records with it. */
function truncateWholeSegment(fs: FileSystem): FileSystem {
  return {
    ...fs,
    open: async (path, mode) => {
      const file = await fs.open(path, mode);
      const cut: StoreFile = {
        write: (data, position) => file.write(data, position),
        read: (position, length) => file.read(position, length),
        datasync: () => file.datasync(),
        truncate: () => file.truncate(0),
        close: () => file.close(),
      };
      return cut;
    },
  };
}

/** The policies that carry out the log bugs among `bugs` (empty: the correct log). */
export function logBugPolicies(bugs: Iterable<BugName>): LogPolicies {
  const named = new Set(bugs);
  return {
    ...(named.has('fsync-retry') ? { wrapSink: retryFailedFsync } : {}),
    ...(named.has('recovery-truncates-segment') ? { recoveryFs: truncateWholeSegment } : {}),
    // The checkpoint says replay starts at its segment's beginning, not where the log ended when it
    // was taken: recovery replays records the checkpoint already holds, and the log is refused.
    ...(named.has('checkpoint-rewinds-offset')
      ? { checkpointSource: (source) => ({ ...source, offset: 0 }) }
      : {}),
  };
}
