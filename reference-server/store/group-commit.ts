// Group commit: records queue up while one write + fdatasync runs, and the next single write + sync
// covers all of them, so one sync answers every promise waiting on it. Invariants: a record's
// (segment, offset) is fixed when it is queued; `waitFor(lsn)` resolves only after a sync covering
// that record; after any write or sync failure every waiter and every later call fails.

import { performance } from 'node:perf_hooks';
import { StoreUnavailableError } from './message-store.ts';
import type { SegmentSink } from './segment-file.ts';

type Queued = { frame: Buffer; segment: number; offset: number; lsn: number };
type Waiter = { lsn: number; resolve: () => void; reject: (error: Error) => void };

export type GroupCommitOptions = {
  sink: SegmentSink;
  /** Where the next record goes: the end of the log as recovered. */
  segment: number;
  offset: number;
  segmentBytesMax: number;
  groupCommitBytesMax: number;
  onFsync?: (durationMs: number, records: number) => void;
};

/** Queue and waiter lists are compacted once this many consumed slots pile up at their head. */
const compactAfter = 1024;

export class GroupCommit {
  private readonly options: GroupCommitOptions;
  private queue: Queued[] = [];
  private queueHead = 0;
  private waiters: Waiter[] = [];
  private waitersHead = 0;
  private segment: number;
  private offset: number;
  private openSegment: number | null = null;
  private lastLsn = 0;
  private durableLsn = 0;
  private flushing = false;
  private failure: StoreUnavailableError | null = null;
  /** Bytes queued and not yet durable. */
  pendingBytes = 0;

  constructor(options: GroupCommitOptions) {
    this.options = options;
    this.segment = options.segment;
    this.offset = options.offset;
  }

  get failed(): StoreUnavailableError | null {
    return this.failure;
  }

  /** The log's end once everything queued is written: where a checkpoint taken now resumes replay. */
  get position(): { segment: number; offset: number } {
    return { segment: this.segment, offset: this.offset };
  }

  get lastAssignedLsn(): number {
    return this.lastLsn;
  }

  /** Queues one frame; throws the failure if the log is already broken. */
  enqueue(frame: Buffer): { lsn: number; segment: number; offset: number } {
    if (this.failure !== null) throw this.failure;
    if (this.offset > 0 && this.offset + frame.length > this.options.segmentBytesMax) {
      this.segment++;
      this.offset = 0;
    }
    const item: Queued = { frame, segment: this.segment, offset: this.offset, lsn: ++this.lastLsn };
    this.offset += frame.length;
    this.pendingBytes += frame.length;
    this.queue.push(item);
    if (!this.flushing) {
      this.flushing = true;
      // Deferred to the end of the current job so records queued in the same tick share the first sync.
      queueMicrotask(() => void this.flush());
    }
    return { lsn: item.lsn, segment: item.segment, offset: item.offset };
  }

  /** Resolves once the record numbered `lsn` (and everything before it) is durable. */
  waitFor(lsn: number): Promise<void> {
    if (this.failure !== null) return Promise.reject(this.failure);
    if (lsn <= this.durableLsn) return Promise.resolve();
    return new Promise((resolve, reject) => {
      // Callers wait for the newest lsn at their time, so the list stays sorted by lsn.
      this.waiters.push({ lsn, resolve, reject });
    });
  }

  /** Everything queued so far is durable. */
  waitForAll(): Promise<void> {
    return this.waitFor(this.lastLsn);
  }

  /** Breaks the log for good: the in-memory state is now ahead of what disk holds. */
  fail(cause: unknown): void {
    if (this.failure !== null) return;
    const detail = cause instanceof Error ? cause.message : String(cause);
    this.failure = new StoreUnavailableError(
      `log store write failed (${detail}); nothing waiting on it was acknowledged. ` +
        'Restart the server once the disk is healthy: recovery replays the log.',
      { cause },
    );
    for (let i = this.waitersHead; i < this.waiters.length; i++) this.waiters[i]!.reject(this.failure);
    this.waiters = [];
    this.waitersHead = 0;
    this.queue = [];
    this.queueHead = 0;
    this.pendingBytes = 0;
  }

  /** Waits for queued records, then releases the file. */
  async close(): Promise<void> {
    try {
      if (this.failure === null) await this.waitForAll();
    } finally {
      await this.options.sink.close();
    }
  }

  private async flush(): Promise<void> {
    try {
      while (this.failure === null && this.queueHead < this.queue.length) await this.flushBatch();
    } catch (error) {
      this.fail(error);
    } finally {
      this.flushing = false;
    }
  }

  private async flushBatch(): Promise<void> {
    const first = this.queue[this.queueHead]!;
    const frames: Buffer[] = [];
    let bytes = 0;
    let last = first;
    while (this.queueHead < this.queue.length) {
      const item = this.queue[this.queueHead]!;
      if (item.segment !== first.segment) break;
      if (frames.length > 0 && bytes + item.frame.length > this.options.groupCommitBytesMax) break;
      frames.push(item.frame);
      bytes += item.frame.length;
      last = item;
      this.queueHead++;
    }
    this.compactQueue();
    const { sink } = this.options;
    // A new segment is only opened once every record of the previous one is durable.
    if (this.openSegment !== first.segment) {
      await sink.open(first.segment);
      this.openSegment = first.segment;
    }
    await sink.write(frames.length === 1 ? first.frame : Buffer.concat(frames, bytes), first.offset);
    const started = performance.now();
    await sink.sync();
    const durationMs = performance.now() - started;
    if (this.failure !== null) return;
    this.durableLsn = last.lsn;
    this.pendingBytes -= bytes;
    this.releaseWaiters();
    const onFsync = this.options.onFsync;
    // Outside the flush's error handling: a throwing observer is a bug to crash on, not a disk failure.
    if (onFsync !== undefined) queueMicrotask(() => onFsync(durationMs, frames.length));
  }

  private releaseWaiters(): void {
    while (this.waitersHead < this.waiters.length && this.waiters[this.waitersHead]!.lsn <= this.durableLsn) {
      this.waiters[this.waitersHead++]!.resolve();
    }
    if (this.waitersHead > compactAfter && this.waitersHead * 2 > this.waiters.length) {
      this.waiters = this.waiters.slice(this.waitersHead);
      this.waitersHead = 0;
    }
  }

  private compactQueue(): void {
    if (this.queueHead > compactAfter && this.queueHead * 2 > this.queue.length) {
      this.queue = this.queue.slice(this.queueHead);
      this.queueHead = 0;
    }
  }
}
