// Segment files of the log (`00000001.seg`, ...), numbered from 1 without gaps and never deleted,
// because message bodies are read back from them. A location packs (segment, offset) into one number
// so the per-message index stays one array of doubles.

import { constants } from 'node:fs';
import { type FileHandle, open, readdir } from 'node:fs/promises';
import { join } from 'node:path';

const segmentPattern = /^(\d{8})\.seg$/;
const offsetRange = 2 ** 32;

export function segmentName(segment: number): string {
  return `${String(segment).padStart(8, '0')}.seg`;
}

export function segmentPath(dir: string, segment: number): string {
  return join(dir, segmentName(segment));
}

/** Segment numbers present in `dir`, ascending. */
export async function listSegments(dir: string): Promise<number[]> {
  const names = await readdir(dir);
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

/** Makes a directory's entries (a new or renamed file) durable. */
export async function fsyncDir(dir: string): Promise<void> {
  const handle = await open(dir, constants.O_RDONLY);
  try {
    await handle.sync();
  } finally {
    await handle.close();
  }
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
  private readonly dir: string;
  private handle: FileHandle | null = null;

  constructor(dir: string) {
    this.dir = dir;
  }

  async open(segment: number): Promise<void> {
    await this.close();
    this.handle = await open(segmentPath(this.dir, segment), constants.O_RDWR | constants.O_CREAT, 0o644);
    // The file may be new: its directory entry must be durable before any record in it is acked.
    await fsyncDir(this.dir);
  }

  async write(data: Buffer, position: number): Promise<void> {
    const handle = this.requireHandle();
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await handle.write(data, done, data.length - done, position + done);
      if (bytesWritten === 0) throw new Error(`write to segment made no progress at ${position + done}`);
      done += bytesWritten;
    }
  }

  async sync(): Promise<void> {
    await this.requireHandle().datasync();
  }

  async close(): Promise<void> {
    const handle = this.handle;
    this.handle = null;
    if (handle !== null) await handle.close();
  }

  private requireHandle(): FileHandle {
    if (this.handle === null) throw new Error('segment sink written before open');
    return this.handle;
  }
}
