// Every bound of the stores in one place: segment and record sizes, the group-commit queue, the
// checkpoint cadence, read caches and open file handles. Options of `LogStore` override the first few.

export type StoreLimits = {
  /** A segment file rotates once the next record would take it past this size. */
  segmentBytesMax: number;
  /** A checkpoint is written after this many records (and on close). */
  checkpointEveryRecords: number;
  /** Larger frames are treated as corrupt on replay and refused on write. */
  recordBytesMax: number;
  /** One write + fdatasync covers at most this many bytes of queued records. */
  groupCommitBytesMax: number;
  /** Queued, not yet durable bytes beyond which new writes are refused as unavailable. */
  pendingBytesMax: number;
  /** Messages a single `read` returns at most, whatever its `limit`. */
  readMessagesMax: number;
  /** Recent messages kept in memory per conversation, so tail reads skip the file. */
  tailCacheMessagesPerConv: number;
  /** Conversations whose tails are cached (least recently used evicted). */
  tailCacheConvsMax: number;
  /** What the cached tails may count for in all (tail-cache.ts's cachedMessageBytes; least recently used evicted). */
  tailCacheBytesMax: number;
  /** Segment files kept open for reading (least recently used closed when idle). */
  readFilesMax: number;
  /** Bytes read past a record's offset in one go; a longer record takes a second read. */
  readAheadBytes: number;
  /** Records whose offsets lie within this span are fetched with one read. */
  readSpanBytesMax: number;
  /** Index entries per checkpoint chunk, so no single frame grows with a conversation. */
  checkpointChunkEntries: number;
  /** Larger checkpoint frames are corrupt; only guards the allocation (the file is CRC'd and renamed). */
  checkpointFrameBytesMax: number;
  /** Checkpoint frames are gathered into writes of about this size. */
  checkpointWriteBytes: number;
  /** Known bug 'key-without-sender' only: (conv, cmid) keys its wrapper remembers, oldest forgotten. */
  bugKeyIndexEntriesMax: number;
};

export const defaultStoreLimits: StoreLimits = {
  segmentBytesMax: 64 * 1024 * 1024,
  checkpointEveryRecords: 100_000,
  recordBytesMax: 16 * 1024 * 1024,
  groupCommitBytesMax: 8 * 1024 * 1024,
  pendingBytesMax: 64 * 1024 * 1024,
  readMessagesMax: 1000,
  tailCacheMessagesPerConv: 64,
  tailCacheConvsMax: 4096,
  tailCacheBytesMax: 32 * 1024 * 1024,
  readFilesMax: 32,
  readAheadBytes: 4096,
  readSpanBytesMax: 256 * 1024,
  checkpointChunkEntries: 10_000,
  checkpointFrameBytesMax: 512 * 1024 * 1024,
  checkpointWriteBytes: 1024 * 1024,
  bugKeyIndexEntriesMax: 1_000_000,
};
