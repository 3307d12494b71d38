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

/**
 * 'ack-before-durable' in a live server: besides answering before the fdatasync (LogStore's own
 * `ackBeforeDurable`), group commit writes behind by `delayMs` of wall-clock time, as a write-behind
 * cache or a journal commit interval does. A SIGKILL loses only what the process had not yet written
 * (the page cache keeps the rest), so without this window a live crash catches the bug only by chance;
 * with it, every crash under load loses acked records. The simulator needs no such window: its
 * simulated crash loses whatever was not fsynced.
 */
export function withWriteBehind(policies: LogPolicies, delayMs: number): LogPolicies {
  const inner = policies.wrapSink ?? ((sink: SegmentSink) => sink);
  return {
    ...policies,
    wrapSink: (outer) => {
      const sink = inner(outer);
      return {
        open: (segment) => sink.open(segment),
        write: (data, position) =>
          new Promise<void>((resolve) => setTimeout(resolve, delayMs)).then(() => sink.write(data, position)),
        sync: () => sink.sync(),
        close: () => sink.close(),
      };
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
