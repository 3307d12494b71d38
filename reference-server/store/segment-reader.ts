// Reads records back from segment files by location, for message bodies the tail cache lacks.
// Records of one conversation that lie close together are fetched with one read; open files are
// kept in a small LRU and only closed when no read uses them.

import type { FileSystem, StoreFile } from './file-system.ts';
import { nodeFileSystem } from './node-file-system.ts';
import { decodeRecord, type LogRecord, readFrame } from './record-codec.ts';
import { locationOffset, locationSegment, segmentPath } from './segment-file.ts';
import { LogCorruptError } from './store-errors.ts';

export type SegmentReaderLimits = {
  readFilesMax: number;
  readAheadBytes: number;
  readSpanBytesMax: number;
  recordBytesMax: number;
};

type OpenFile = { handle: Promise<StoreFile>; users: number };

export class SegmentReader {
  private readonly dir: string;
  private readonly limits: SegmentReaderLimits;
  /** Map order is recency order. */
  private readonly files = new Map<number, OpenFile>();

  constructor(
    dir: string,
    limits: SegmentReaderLimits,
    private readonly fs: FileSystem = nodeFileSystem,
  ) {
    this.dir = dir;
    this.limits = limits;
  }

  /** The records at `locations`, in the same order; locations must be ascending (seq order is). */
  async readRecords(locations: readonly number[]): Promise<LogRecord[]> {
    const out: LogRecord[] = [];
    let i = 0;
    while (i < locations.length) {
      const segment = locationSegment(locations[i]!);
      const start = locationOffset(locations[i]!);
      let j = i + 1;
      while (
        j < locations.length &&
        locationSegment(locations[j]!) === segment &&
        locationOffset(locations[j]!) - start <= this.limits.readSpanBytesMax
      ) {
        j++;
      }
      const group = locations.slice(i, j).map(locationOffset);
      out.push(...(await this.readGroup(segment, group)));
      i = j;
    }
    return out;
  }

  async close(): Promise<void> {
    const files = [...this.files.values()];
    this.files.clear();
    await Promise.all(files.map(async (file) => (await file.handle.catch(() => null))?.close()));
  }

  private async readGroup(segment: number, offsets: readonly number[]): Promise<LogRecord[]> {
    const file = this.acquire(segment);
    try {
      const handle = await file.handle.catch((error: unknown) => {
        // Not cached as broken: a later read retries the open.
        if (this.files.get(segment) === file) this.files.delete(segment);
        throw error;
      });
      const start = offsets[0]!;
      const span = offsets[offsets.length - 1]! - start + this.limits.readAheadBytes;
      const buffer = await handle.read(start, span);
      const records: LogRecord[] = [];
      for (const offset of offsets) {
        let frame = readFrame(buffer, offset - start, this.limits.recordBytesMax);
        if (!frame.ok && frame.needBytes !== undefined) {
          // The record runs past the read-ahead: fetch exactly it.
          const alone = await handle.read(offset, frame.needBytes);
          frame = readFrame(alone, 0, this.limits.recordBytesMax);
        }
        const path = segmentPath(this.dir, segment);
        if (!frame.ok)
          throw new LogCorruptError(path, offset, `${frame.reason} while reading a message back`);
        const record = decodeRecord(frame.payload);
        if (record === null) throw new LogCorruptError(path, offset, 'a record that does not decode');
        records.push(record);
      }
      return records;
    } finally {
      this.release(segment, file);
    }
  }

  private acquire(segment: number): OpenFile {
    let file = this.files.get(segment);
    if (file === undefined) {
      file = { handle: this.fs.open(segmentPath(this.dir, segment), 'read'), users: 0 };
    } else {
      this.files.delete(segment);
    }
    this.files.set(segment, file);
    file.users++;
    return file;
  }

  private release(segment: number, file: OpenFile): void {
    file.users--;
    if (this.files.size <= this.limits.readFilesMax) return;
    for (const [other, candidate] of this.files) {
      if (this.files.size <= this.limits.readFilesMax) break;
      if (candidate.users > 0 || other === segment) continue;
      this.files.delete(other);
      void candidate.handle.then((handle) => handle.close()).catch(() => undefined);
    }
  }
}
