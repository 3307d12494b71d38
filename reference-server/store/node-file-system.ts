// The file-system port on node:fs, as the live server runs it.

import { constants } from 'node:fs';
import { type FileHandle, open, readdir, readFile, rename, rm } from 'node:fs/promises';
import { ensureDataDir, fsyncDir } from './data-dir.ts';
import type { FileSystem, OpenMode, StoreFile } from './file-system.ts';

const openFlags: Record<OpenMode, number> = {
  read: constants.O_RDONLY,
  write: constants.O_RDWR | constants.O_CREAT,
  replace: constants.O_RDWR | constants.O_CREAT | constants.O_TRUNC,
};

class NodeStoreFile implements StoreFile {
  constructor(private readonly handle: FileHandle) {}

  async write(data: Buffer, position: number): Promise<void> {
    let done = 0;
    while (done < data.length) {
      const { bytesWritten } = await this.handle.write(data, done, data.length - done, position + done);
      if (bytesWritten === 0) throw new Error(`write made no progress at ${position + done}`);
      done += bytesWritten;
    }
  }

  async read(position: number, length: number): Promise<Buffer> {
    const buffer = Buffer.allocUnsafe(length);
    let filled = 0;
    while (filled < length) {
      const { bytesRead } = await this.handle.read(buffer, filled, length - filled, position + filled);
      if (bytesRead === 0) break;
      filled += bytesRead;
    }
    return buffer.subarray(0, filled);
  }

  datasync(): Promise<void> {
    return this.handle.datasync();
  }

  truncate(length: number): Promise<void> {
    return this.handle.truncate(length);
  }

  close(): Promise<void> {
    return this.handle.close();
  }
}

export const nodeFileSystem: FileSystem = {
  async open(path, mode) {
    return new NodeStoreFile(await open(path, openFlags[mode], 0o644));
  },
  readFile(path) {
    return readFile(path).catch((error: { code?: string }) => {
      if (error.code === 'ENOENT') return null;
      throw error;
    });
  },
  rename,
  list: (dir) => readdir(dir),
  remove: (path) => rm(path, { force: true }),
  syncDir: fsyncDir,
  prepareDir: ensureDataDir,
};
