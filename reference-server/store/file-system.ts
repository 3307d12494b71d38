// The file-system port under the log store: exactly the operations the log needs (open, write at an
// offset, fdatasync, read, truncate, rename, list, remove, a directory sync). The live server passes
// node:fs (node-file-system.ts); the simulator passes a simulated disk that keeps unsynced writes apart
// from synced ones, so a simulated crash loses or tears them, and that fails on demand (EIO, ENOSPC).
// Contract: a write or rename is durable only after the file's `datasync` (the rename: `syncDir`).

export interface StoreFile {
  /** Writes all of `data` at `position`. */
  write(data: Buffer, position: number): Promise<void>;
  /** Up to `length` bytes from `position`; fewer only at the end of the file. */
  read(position: number, length: number): Promise<Buffer>;
  /** fdatasync: the written bytes and the file size are durable when it resolves. */
  datasync(): Promise<void>;
  truncate(length: number): Promise<void>;
  close(): Promise<void>;
}

/** 'read': must exist; 'write': created if missing, never truncated; 'replace': created or emptied. */
export type OpenMode = 'read' | 'write' | 'replace';

export interface FileSystem {
  open(path: string, mode: OpenMode): Promise<StoreFile>;
  /** The whole file, or null if it does not exist. */
  readFile(path: string): Promise<Buffer | null>;
  rename(from: string, to: string): Promise<void>;
  /** Names of the entries in `dir`. */
  list(dir: string): Promise<string[]>;
  remove(path: string): Promise<void>;
  /** Makes the directory's entries (new, renamed or removed files) durable. */
  syncDir(dir: string): Promise<void>;
  /** Makes sure `dir` exists and is usable, or fails with a message that says what to do. */
  prepareDir(dir: string): Promise<void>;
}
