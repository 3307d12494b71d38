// Segment files of the log (`00000001.seg`, ...), numbered from 1 without gaps and never deleted,
// because message bodies are read back from them. A location packs (segment, offset) into one number
// so the per-message index stays one array of doubles.

import { join } from 'node:path';
import type { FileSystem, StoreFile } from './file-system.ts';
import { nodeFileSystem } from './node-file-system.ts';

const segmentPattern = /^(\d{8})\.seg$/;
const offsetRange = 2 ** 32;

export function segmentName(segment: number): string {
  return `${String(segment).padStart(8, '0')}.seg`;
}

export function segmentPath(dir: string, segment: number): string {
  return join(dir, segmentName(segment));
}

/** Segment numbers present in `dir`, ascending. */
export async function listSegments(dir: string, fs: FileSystem = nodeFileSystem): Promise<number[]> {
  const names = await fs.list(dir);
  const out: number[] = [];
  for (const name of names) {
    const match = segmentPattern.exec(name);
    if (match !== null) out.push(Number(match[1]));
  }
  return out.sort((a, b) => a - b);
}

export function encodeLocation(segment: number, offset: number): number {
  return segment * offsetRange + offset;
}

export function locationSegment(location: number): number {
  return Math.floor(location / offsetRange);
}

export function locationOffset(location: number): number {
  return location % offsetRange;
}

/** Where group commit writes; a seam so tests can make writes or syncs fail. */
export interface SegmentSink {
  /** Opens (creating if need be, never truncating) the segment that the next writes go to. */
  open(segment: number): Promise<void>;
  write(data: Buffer, position: number): Promise<void>;
  /** fdatasync: the written bytes and the file size are durable when it resolves. */
  sync(): Promise<void>;
  close(): Promise<void>;
}

export class FileSegmentSink implements SegmentSink {
  private file: StoreFile | null = null;

  constructor(
    private readonly dir: string,
    private readonly fs: FileSystem = nodeFileSystem,
  ) {}

  async open(segment: number): Promise<void> {
    await this.close();
    this.file = await this.fs.open(segmentPath(this.dir, segment), 'write');
    // The file may be new: its directory entry must be durable before any record in it is acked.
    await this.fs.syncDir(this.dir);
  }

  write(data: Buffer, position: number): Promise<void> {
    return this.requireFile().write(data, position);
  }

  sync(): Promise<void> {
    return this.requireFile().datasync();
  }

  async close(): Promise<void> {
    const file = this.file;
    this.file = null;
    if (file !== null) await file.close();
  }

  private requireFile(): StoreFile {
    if (this.file === null) throw new Error('segment sink written before open');
    return this.file;
  }
}
