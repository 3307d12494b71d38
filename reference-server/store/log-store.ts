// The embedded durable log, the server's default store: StoreState decides, the decision is appended
// to a segment file, and the promise resolves only after an fdatasync covers it (group commit shares
// one sync among everything queued meanwhile). Every answer, a duplicate's or a read's included, waits
// until the state it reports is durable. After a write or sync failure the store refuses everything.

import type { ConvId, Message } from '../protocol/frames.ts';
import { type CheckpointSource, checkpointFrames, writeCheckpoint } from './checkpoint.ts';
import type { FileSystem } from './file-system.ts';
import { GroupCommit } from './group-commit.ts';
import { defaultStoreLimits, type StoreLimits } from './limits.ts';
import { recoverLog } from './log-recovery.ts';
import {
  type AppendRequest,
  type AppendResult,
  type ConversationRecord,
  type CreateRequest,
  type CreateResult,
  type CursorRequest,
  type CursorResult,
  type MembersRequest,
  type MembersResult,
  type MessageStore,
  type ReadRequest,
  type ReadResult,
  StoreUnavailableError,
} from './message-store.ts';
import { nodeFileSystem } from './node-file-system.ts';
import { encodeJsonFrame, type LogRecord } from './record-codec.ts';
import {
  encodeLocation,
  FileSegmentSink,
  locationOffset,
  locationSegment,
  type SegmentSink,
  segmentPath,
} from './segment-file.ts';
import { SegmentReader } from './segment-reader.ts';
import { LogCorruptError } from './store-errors.ts';
import { StoreState, type StoreStateView } from './store-state.ts';
import { TailCache } from './tail-cache.ts';

export type LogStoreOptions = {
  dir: string;
  /** The file system the log lives on: node:fs unless the simulator passes its simulated disk. */
  fs?: FileSystem;
  /** How the decision state is built (a test passes a deliberately broken StoreState subclass). */
  newState?: () => StoreState;
  /** How the log's parts are built; production passes none. Known bugs (known-bugs/log-bugs.ts) swap them. */
  policies?: LogPolicies;
  segmentBytesMax?: number;
  checkpointEveryRecords?: number;
  /** Called after every fdatasync of the log with its duration and the records it made durable. */
  onFsync?: (durationMs: number, records: number) => void;
  limits?: Partial<StoreLimits>;
  /** Where records are written; the segment files unless a test injects failures. */
  sink?: SegmentSink;
  /**
   * Known bug 'ack-before-durable' (bugs.ts), never for production: `append` answers as soon as it is
   * decided, before the fdatasync that makes it durable, so a crash can lose what was acknowledged.
   */
  ackBeforeDurable?: boolean;
};

/** Seams where a part of the log is built differently: each one a wrapper, never a branch. */
export type LogPolicies = {
  /** Wraps the sink group commit writes and fsyncs through. */
  wrapSink?: (sink: SegmentSink) => SegmentSink;
  /** The file system recovery reads (and cuts torn tails) through. */
  recoveryFs?: (fs: FileSystem) => FileSystem;
  /** What a checkpoint says it covers. */
  checkpointSource?: (source: CheckpointSource) => CheckpointSource;
};

type Phase = 'new' | 'opening' | 'open' | 'closing' | 'closed';

export class LogStore implements MessageStore {
  /** Whether this store runs the 'ack-before-durable' bug; the server checks it before claiming the bug. */
  readonly ackBeforeDurable: boolean;
  private readonly options: LogStoreOptions;
  private readonly fs: FileSystem;
  private readonly limits: StoreLimits;
  private readonly cache: TailCache;
  private readonly reader: SegmentReader;
  private phase: Phase = 'new';
  private state = new StoreState();
  private locations = new Map<ConvId, number[]>();
  /** Encoded full index chunks of the checkpoints so far (see checkpointFrames). */
  private fullChunks = new Map<ConvId, Buffer[]>();
  private indexFrames = new Map<ConvId, { lastSeq: number; frames: Buffer[] }>();
  /** Each conversation's last checkpointed `conv` frame, and which changed since (only logged records change one). */
  private conversationFrames = new Map<ConvId, Buffer>();
  private changedConversations = new Set<ConvId>();
  private commit: GroupCommit | null = null;
  private records = 0;
  private recordsSinceCheckpoint = 0;
  private checkpointing: Promise<void> | null = null;
  /** Records the last `open()` replayed from the segments (the rest came from the checkpoint). */
  replayedRecords = 0;
  /** Bytes the last `open()` cut off the last segment as a torn tail. */
  truncatedBytes = 0;
  /** Whether the last `open()` cut a torn tail that held intact records after an unwritten sector. */
  cutBeforeIntact = false;
  /** Why the last `open()` set the checkpoint aside (damaged) and replayed every segment, or null. */
  checkpointRejected: string | null = null;

  constructor(options: LogStoreOptions) {
    this.options = options;
    this.fs = options.fs ?? nodeFileSystem;
    this.ackBeforeDurable = options.ackBeforeDurable === true;
    this.limits = {
      ...defaultStoreLimits,
      ...options.limits,
      ...(options.segmentBytesMax === undefined ? {} : { segmentBytesMax: options.segmentBytesMax }),
      ...(options.checkpointEveryRecords === undefined
        ? {}
        : { checkpointEveryRecords: options.checkpointEveryRecords }),
    };
    this.cache = new TailCache(
      this.limits.tailCacheMessagesPerConv,
      this.limits.tailCacheConvsMax,
      this.limits.tailCacheBytesMax,
    );
    this.reader = new SegmentReader(options.dir, this.limits, this.fs);
  }

  /** Why the store refuses everything (a failed write or fsync), or null while it works. */
  get failure(): Error | null {
    return this.commit?.failed ?? null;
  }

  /** The decisions taken so far, read-only; some may not be durable yet. */
  get decisions(): StoreStateView {
    return this.state;
  }

  async open(): Promise<ConversationRecord[]> {
    if (this.phase !== 'new') throw new Error(`LogStore.open() called when ${this.phase}`);
    this.phase = 'opening';
    const { dir } = this.options;
    await this.fs.prepareDir(dir);
    const policies = this.options.policies ?? {};
    const recoveryFs = policies.recoveryFs?.(this.fs) ?? this.fs;
    const recovered = await recoverLog(dir, this.limits, recoveryFs, this.options.newState);
    this.state = recovered.state;
    this.locations = recovered.locations;
    this.fullChunks = new Map();
    this.indexFrames = new Map();
    this.conversationFrames = new Map();
    this.records = recovered.records;
    this.recordsSinceCheckpoint = recovered.replayedRecords;
    this.replayedRecords = recovered.replayedRecords;
    this.truncatedBytes = recovered.truncatedBytes;
    this.cutBeforeIntact = recovered.cutBeforeIntact;
    this.checkpointRejected = recovered.checkpointRejected;
    const wrapSink = policies.wrapSink ?? ((sink: SegmentSink) => sink);
    this.commit = new GroupCommit({
      sink: wrapSink(this.options.sink ?? new FileSegmentSink(dir, this.fs)),
      segment: recovered.segment,
      offset: recovered.offset,
      segmentBytesMax: this.limits.segmentBytesMax,
      groupCommitBytesMax: this.limits.groupCommitBytesMax,
      ...(this.options.onFsync === undefined ? {} : { onFsync: this.options.onFsync }),
    });
    this.phase = 'open';
    return this.state.records();
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const commit = this.writable();
    const result = this.state.append(request);
    if (result.status === 'ok' && !result.duplicate) {
      const { conv, from, cmid, body } = request;
      const message: Message = { conv, seq: result.seq, from, cmid, body, ts: result.ts };
      this.log({ t: 'append', ...message });
      this.cache.push(message);
    }
    // A duplicate waits too: its original may still be in the queue.
    if (!this.ackBeforeDurable) await commit.waitForAll();
    return result;
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const commit = this.usable();
    const { conv } = request;
    const lastSeq = this.state.lastSeq(conv);
    const durable = commit.waitForAll();
    if (lastSeq === undefined) {
      await durable;
      return { status: 'not_found' };
    }
    const membersVersion = this.state.membersVersion(conv)!;
    const first = Math.max(0, request.after) + 1;
    const last = Math.min(lastSeq, first - 1 + Math.min(request.limit, this.limits.readMessagesMax));
    const locations = first <= last ? this.locations.get(conv)!.slice(first - 1, last) : [];
    // Bodies are read only once written: nothing not yet durable is ever shown.
    await durable;
    if (locations.length === 0) return { status: 'ok', messages: [], lastSeq, membersVersion };
    const cached = this.cache.range(conv, first, last);
    if (cached !== null) return { status: 'ok', messages: cached, lastSeq, membersVersion };
    const records = await this.reader.readRecords(locations);
    const messages = records.map((record, i) => {
      const seq = first + i;
      if (record.t !== 'append' || record.conv !== conv || record.seq !== seq) {
        const location = locations[i]!;
        throw new LogCorruptError(
          segmentPath(this.options.dir, locationSegment(location)),
          locationOffset(location),
          `the index points at a record that is not seq ${seq} of ${conv}`,
        );
      }
      return { conv, seq, from: record.from, cmid: record.cmid, body: record.body, ts: record.ts };
    });
    return { status: 'ok', messages, lastSeq, membersVersion };
  }

  async createConversation(request: CreateRequest): Promise<CreateResult> {
    const commit = this.writable();
    const result = this.state.create(request);
    if (result.status === 'created') {
      this.log({ t: 'create', id: request.id, kind: request.kind, members: request.members });
    }
    await commit.waitForAll();
    return result;
  }

  async changeMembers(request: MembersRequest): Promise<MembersResult> {
    const commit = this.writable();
    const { result, changed } = this.state.changeMembers(request);
    if (changed) this.log({ t: 'members', conv: request.conv, add: request.add, remove: request.remove });
    await commit.waitForAll();
    return result;
  }

  async advanceCursor(request: CursorRequest): Promise<CursorResult> {
    const commit = this.writable();
    const result = this.state.advanceCursor(request);
    if (result.status === 'ok' && result.moved) {
      const { conv, user, kind } = request;
      this.log({ t: 'cursor', conv, user, kind, seq: result.seq });
    }
    await commit.waitForAll();
    return result;
  }

  /**
   * Every record as decided now, answered once durable like every other answer: a fleet node that
   * catches up from it (a shared log) must never be told a cursor or seq that a crash could still lose.
   */
  async conversations(ids?: readonly ConvId[]): Promise<ConversationRecord[]> {
    const commit = this.usable();
    const records = this.state.records(ids);
    await commit.waitForAll();
    return records;
  }

  async ping(): Promise<void> {
    this.usable();
  }

  /** Resolves when no checkpoint is being written. */
  async whenCheckpointed(): Promise<void> {
    await this.checkpointing;
  }

  /** Flushes, writes a final checkpoint and closes files; a store already broken just closes. */
  async close(): Promise<void> {
    const commit = this.commit;
    if (this.phase !== 'open' || commit === null) {
      this.phase = 'closed';
      return;
    }
    this.phase = 'closing';
    try {
      await commit.waitForAll().catch(() => undefined);
      await this.checkpointing;
      if (commit.failed === null && this.recordsSinceCheckpoint > 0) await this.checkpoint();
    } finally {
      await commit.close().catch(() => undefined);
      await this.reader.close();
      this.phase = 'closed';
    }
  }

  /** Queues a record of a decision just taken; the state already reflects it. */
  private log(record: LogRecord): void {
    const commit = this.commit!;
    const frame = encodeJsonFrame(record);
    if (frame.length > this.limits.recordBytesMax) {
      // The state has moved already and cannot be rolled back: the store must not go on.
      const error = new Error(`a ${record.t} record of ${frame.length} bytes exceeds recordBytesMax`);
      commit.fail(error);
      throw commit.failed ?? error;
    }
    const { segment, offset } = commit.enqueue(frame);
    if (record.t === 'append') this.locations.get(record.conv)!.push(encodeLocation(segment, offset));
    else if (record.t === 'create') this.locations.set(record.id, []);
    this.changedConversations.add(record.t === 'create' ? record.id : record.conv);
    this.records++;
    this.recordsSinceCheckpoint++;
    if (this.recordsSinceCheckpoint >= this.limits.checkpointEveryRecords && this.checkpointing === null) {
      this.checkpointing = this.checkpoint()
        .catch((error: unknown) => commit.fail(error))
        .finally(() => {
          this.checkpointing = null;
        });
    }
  }

  /** Captures the state synchronously, then writes it once the log it covers is durable. */
  private checkpoint(): Promise<void> {
    const commit = this.commit!;
    const durable = commit.waitForAll();
    const conversations = this.state.heads();
    const conversationFrames: Buffer[] = [];
    for (const { id } of conversations) {
      let frame = this.conversationFrames.get(id);
      if (frame === undefined || this.changedConversations.has(id)) {
        frame = encodeJsonFrame({ t: 'conv', record: this.state.record(id) });
        this.conversationFrames.set(id, frame);
      }
      conversationFrames.push(frame);
    }
    this.changedConversations.clear();
    const captured: CheckpointSource = {
      ...commit.position,
      records: this.records,
      conversations,
      conversationFrames,
      state: this.state,
      locations: this.locations,
      fullChunks: this.fullChunks,
      indexFrames: this.indexFrames,
    };
    const source = this.options.policies?.checkpointSource?.(captured) ?? captured;
    this.recordsSinceCheckpoint = 0;
    const { dir } = this.options;
    const { checkpointChunkEntries, checkpointWriteBytes } = this.limits;
    return durable.then(() =>
      writeCheckpoint(dir, checkpointFrames(source, checkpointChunkEntries), checkpointWriteBytes, this.fs),
    );
  }

  private usable(): GroupCommit {
    if (this.phase !== 'open' || this.commit === null) {
      throw new StoreUnavailableError(
        `the log store is ${this.phase === 'new' ? 'not open yet' : this.phase}`,
      );
    }
    if (this.commit.failed !== null) throw this.commit.failed;
    return this.commit;
  }

  private writable(): GroupCommit {
    const commit = this.usable();
    if (commit.pendingBytes > this.limits.pendingBytesMax) {
      throw new StoreUnavailableError(
        `the log store's write queue holds over ${this.limits.pendingBytesMax} bytes; retry shortly`,
      );
    }
    return commit;
  }
}
