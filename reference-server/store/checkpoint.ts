// A checkpoint is the whole store state (conversations, idempotency index, message locations) plus the
// log position it covers, so start-up replays only the log after it. It is written to a temp file,
// fsynced, renamed over `checkpoint.dat` and the dir fsynced: a reader sees the old or the new one.
// Invariant: a checkpoint only covers records that were durable in the log before it was renamed.

import { join } from 'node:path';
import type { ConvId } from '../protocol/frames.ts';
import type { FileSystem } from './file-system.ts';
import type { ConversationRecord } from './message-store.ts';
import { nodeFileSystem } from './node-file-system.ts';
import { decodeJson, encodeJsonFrame, readFrame } from './record-codec.ts';
import { LogCorruptError } from './store-errors.ts';
import { type IndexEntry, StoreState } from './store-state.ts';

export const checkpointFileName = 'checkpoint.dat';
const tempFileName = 'checkpoint.tmp';
const version = 1;

/** What a checkpoint covers, captured in one synchronous step; indexes are append-only, so read later. */
export type CheckpointSource = {
  segment: number;
  offset: number;
  /** Log records covered, counted from the very first. */
  records: number;
  conversations: { id: ConvId; lastSeq: number }[];
  /** Each conversation's `{t: 'conv', record}` frame, in the same order (else encoded from `conversations`). */
  conversationFrames?: Buffer[];
  state: StoreState;
  locations: Map<ConvId, number[]>;
  /** Per conversation, the encoded frames of its full index chunks so far (kept by the store). */
  fullChunks?: Map<ConvId, Buffer[]>;
  /** Per conversation, its index frames at the last checkpoint and the lastSeq they cover. */
  indexFrames?: Map<ConvId, { lastSeq: number; frames: Buffer[] }>;
};

export type LoadedCheckpoint = {
  segment: number;
  offset: number;
  records: number;
  state: StoreState;
  locations: Map<ConvId, number[]>;
};

type IndexChunk = {
  t: 'index';
  conv: ConvId;
  firstSeq: number;
  from: string[];
  cmid: string[];
  ts: number[];
  loc: number[];
};

export function* checkpointFrames(source: CheckpointSource, chunkEntries: number): Generator<Buffer> {
  const { segment, offset, records, conversations } = source;
  yield encodeJsonFrame({
    t: 'checkpoint',
    version,
    segment,
    offset,
    records,
    conversations: conversations.length,
  });
  if (source.conversationFrames) yield* source.conversationFrames;
  else for (const record of conversations) yield encodeJsonFrame({ t: 'conv', record });
  for (const record of conversations) {
    // A conversation's index frames depend only on its lastSeq (the index and the locations are
    // append-only): one that did not grow since the last checkpoint reuses its bytes.
    const cached = source.indexFrames?.get(record.id);
    if (cached !== undefined && cached.lastSeq === record.lastSeq) {
      yield* cached.frames;
      continue;
    }
    const frames: Buffer[] = [];
    for (const frame of indexFrames(source, record, chunkEntries)) {
      frames.push(frame);
      yield frame;
    }
    source.indexFrames?.set(record.id, { lastSeq: record.lastSeq, frames });
  }
  yield encodeJsonFrame({ t: 'end' });
}

function* indexFrames(
  source: CheckpointSource,
  record: { id: ConvId; lastSeq: number },
  chunkEntries: number,
): Generator<Buffer> {
  const locations = source.locations.get(record.id) ?? [];
  // Full chunks never change either: a conversation that grew re-encodes only its last chunk.
  const full = source.fullChunks?.get(record.id) ?? [];
  let seq = 0;
  for (const frame of full) {
    if (seq + chunkEntries > record.lastSeq) break;
    seq += chunkEntries;
    yield frame;
  }
  let chunk = emptyChunk(record.id, seq + 1);
  for (const entry of source.state.indexEntries(record.id, record.lastSeq, seq + 1)) {
    chunk.from.push(entry.from);
    chunk.cmid.push(entry.cmid);
    chunk.ts.push(entry.ts);
    chunk.loc.push(locations[seq++]!);
    if (chunk.ts.length >= chunkEntries) {
      const frame = encodeJsonFrame(chunk);
      if (source.fullChunks && full.length * chunkEntries === seq - chunkEntries) {
        full.push(frame);
        source.fullChunks.set(record.id, full);
      }
      yield frame;
      chunk = emptyChunk(record.id, seq + 1);
    }
  }
  if (chunk.ts.length > 0) yield encodeJsonFrame(chunk);
}

export async function writeCheckpoint(
  dir: string,
  frames: Iterable<Buffer>,
  writeBytes: number,
  fs: FileSystem = nodeFileSystem,
): Promise<void> {
  const temp = join(dir, tempFileName);
  const file = await fs.open(temp, 'replace');
  try {
    let batch: Buffer[] = [];
    let batchBytes = 0;
    let position = 0;
    for (const frame of frames) {
      batch.push(frame);
      batchBytes += frame.length;
      if (batchBytes >= writeBytes) {
        await file.write(Buffer.concat(batch, batchBytes), position);
        position += batchBytes;
        batch = [];
        batchBytes = 0;
      }
    }
    if (batchBytes > 0) await file.write(Buffer.concat(batch, batchBytes), position);
    await file.datasync();
  } finally {
    await file.close();
  }
  await fs.rename(temp, join(dir, checkpointFileName));
  await fs.syncDir(dir);
}

/** The checkpoint in `dir`, or null when there is none yet. */
export async function loadCheckpoint(
  dir: string,
  frameBytesMax: number,
  fs: FileSystem = nodeFileSystem,
  newState: () => StoreState = () => new StoreState(),
): Promise<LoadedCheckpoint | null> {
  const path = join(dir, checkpointFileName);
  const data = await fs.readFile(path);
  if (data === null) return null;
  return parseCheckpointFile(path, data, frameBytesMax, newState);
}

/** A checkpoint file's bytes, checked (CRCs and shape) and parsed; LogCorruptError if damaged. */
export function parseCheckpointFile(
  path: string,
  data: Buffer,
  frameBytesMax: number,
  newState: () => StoreState = () => new StoreState(),
): LoadedCheckpoint {
  let offset = 0;
  const corrupt = (reason: string) =>
    new LogCorruptError(
      path,
      offset,
      reason,
      `Delete ${path} to rebuild the state from the segment files (a slower start-up, nothing lost).`,
    );
  const next = (): Record<string, unknown> => {
    const frame = readFrame(data, offset, frameBytesMax);
    if (!frame.ok) throw corrupt(frame.reason);
    const value = decodeJson(frame.payload);
    if (typeof value !== 'object' || value === null) throw corrupt('a frame that is not a JSON object');
    offset = frame.end;
    return value as Record<string, unknown>;
  };
  try {
    return parseCheckpoint(next, newState);
  } catch (error) {
    // A CRC-valid file of the wrong shape is damage all the same.
    if (error instanceof LogCorruptError) throw error;
    throw corrupt(error instanceof Error ? error.message : String(error));
  }
}

function parseCheckpoint(next: () => Record<string, unknown>, newState: () => StoreState): LoadedCheckpoint {
  const header = next();
  if (header.t !== 'checkpoint' || header.version !== version)
    throw new Error('no checkpoint header of version 1');
  const state = newState();
  const locations = new Map<ConvId, number[]>();
  for (let i = 0; i < (header.conversations as number); i++) {
    const frame = next();
    if (frame.t !== 'conv') throw new Error('a conversation frame was expected');
    const record = frame.record as ConversationRecord;
    state.restoreConversation(record);
    locations.set(record.id, []);
  }
  for (let frame = next(); frame.t !== 'end'; frame = next()) {
    const chunk = frame as IndexChunk;
    const list = locations.get(chunk.conv);
    if (frame.t !== 'index' || list === undefined) throw new Error('an index frame was expected');
    const entries: IndexEntry[] = chunk.ts.map((ts, i) => ({
      from: chunk.from[i]!,
      cmid: chunk.cmid[i]!,
      ts,
    }));
    state.restoreIndex(chunk.conv, chunk.firstSeq, entries);
    for (const location of chunk.loc) list.push(location);
  }
  const incomplete = state.incompleteIndexes();
  if (incomplete.length > 0) throw new Error(`the index of ${incomplete[0]} stops short of its lastSeq`);
  for (const [conv, list] of locations) {
    if (list.length !== state.lastSeq(conv))
      throw new Error(`the locations of ${conv} do not match its lastSeq`);
  }
  return {
    segment: header.segment as number,
    offset: header.offset as number,
    records: header.records as number,
    state,
    locations,
  };
}

function emptyChunk(conv: ConvId, firstSeq: number): IndexChunk {
  return { t: 'index', conv, firstSeq, from: [], cmid: [], ts: [], loc: [] };
}
