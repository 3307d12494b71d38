// The simulated disk under the real log store (TigerBeetle's testing/storage.zig, for a file system):
// it implements the store's file-system port in virtual time. Every operation completes through an
// agenda event, in submission order, after a latency the scenario sets (fsync: `fsyncMs`). It keeps
// what was written apart from what is durable: a file's bytes become durable at its `datasync`, a
// directory entry (a new, renamed or removed file) at `syncDir`. A crash keeps the durable state and,
// as the seed decides, a prefix of the unsynced writes, the last survivor possibly torn at a sector
// boundary, or (on demand) any subset of its sectors. Faults on demand: fsync EIO (the failed writes'
// pages are dropped as Linux does: a later crash loses them even if a retried fsync succeeds), ENOSPC,
// a bit flip in a synced sector, a misdirected write over synced bytes, slowness, opens for reading
// that fail (EMFILE).

import { basename, dirname } from 'node:path';
import type { FileSystem, OpenMode, StoreFile } from '../../reference-server/store/file-system.ts';
import type { Prng } from '../kernel/prng.ts';

export const sectorBytes = 512;

/** What the disk needs of virtual time. */
export type DiskClock = {
  readonly now: number;
  /** Runs `callback` at virtual time `at`. */
  at(at: number, callback: () => void): void;
  /** Promise work is pending: the runner must let it run before the next event. */
  markAsync(): void;
};

export type SimDiskOptions = {
  /** Virtual time; swapped for a private agenda while the harness sets up or reads back the store. */
  clock: DiskClock;
  /** Decides what a crash keeps and where a bit flips. */
  rng: Prng;
  fsyncMs: number;
  /** Reads, writes and other metadata operations. */
  ioMs: number;
};

/** The files one process (a session of the disk) holds open: the OS closes them all when it ends. */
type OpenFiles = { count: number };

/** One change not yet durable: applied in order to the durable bytes by a crash that keeps it. */
type PendingChange = { kind: 'write'; position: number; data: Buffer } | { kind: 'truncate'; length: number };

/** A growable byte image of one file (amortized appends, no copy per fsync). */
class ByteImage {
  private buffer: Buffer;
  length: number;

  constructor(from?: ByteImage) {
    this.length = from?.length ?? 0;
    this.buffer = Buffer.alloc(Math.max(4096, this.length));
    from?.buffer.copy(this.buffer, 0, 0, this.length);
  }

  apply(change: PendingChange): void {
    if (change.kind === 'truncate') {
      if (change.length < this.length) this.buffer.fill(0, change.length, this.length);
      this.reserve(change.length);
      this.length = change.length;
      return;
    }
    const end = change.position + change.data.length;
    this.reserve(end);
    change.data.copy(this.buffer, change.position);
    this.length = Math.max(this.length, end);
  }

  view(): Buffer {
    return this.buffer.subarray(0, this.length);
  }

  private reserve(bytes: number): void {
    if (bytes <= this.buffer.length) return;
    const grown = Buffer.alloc(Math.max(bytes, this.buffer.length * 2));
    this.buffer.copy(grown, 0, 0, this.length);
    this.buffer = grown;
  }
}

class DiskFile {
  /** What reads see (the page cache). */
  bytes = new ByteImage();
  /** What survives a crash. */
  durable = new ByteImage();
  pending: PendingChange[] = [];

  change(change: PendingChange): void {
    this.bytes.apply(change);
    this.pending.push(change);
  }

  /** Makes the pending changes durable (not the page cache as a whole: see the EIO fault). */
  sync(): void {
    for (const change of this.pending) this.durable.apply(change);
    this.pending = [];
  }
}

export type DiskError = Error & { code: string };

const openModes: ReadonlySet<string> = new Set<OpenMode>(['read', 'write', 'replace']);

function diskError(code: string, what: string): DiskError {
  return Object.assign(new Error(`${code}: simulated disk error, ${what}`), { code });
}

export class SimDisk implements FileSystem {
  /** The namespace as the running process sees it, and as it survives a crash. */
  private names = new Map<string, DiskFile>();
  private durableNames = new Map<string, DiskFile>();
  /** Directories prepared (`prepareDir`); they outlive crashes. */
  private readonly directories = new Set<string>();
  /** Bumped by every crash: operations of an earlier generation never complete. */
  private generation = 0;
  /** When the last submitted operation completes (operations complete in submission order). */
  private busyUntil = 0;
  /**
   * Faults. With `fsyncFails`, an fsync of a file with unsynced writes fails with EIO and drops them
   * (Linux marks the pages clean): a retry with nothing new to write then succeeds, durable or not.
   */
  fsyncFails = false;
  /**
   * An open for reading fails with this code (EMFILE: the process's descriptor table is full), or null.
   * Opens for writing go on: the writer holds its files open already, and a store that could not roll
   * its segment over would break (a fault of its own, disk-full's), hiding what reads do after a
   * transient error (disk-open-error).
   */
  readOpenFails: string | null = null;
  /** Bytes the disk holds at most; writes that would grow it past this fail with ENOSPC. */
  capacityBytes = Number.POSITIVE_INFINITY;
  /** Latencies are multiplied by this (a slow disk); 0 during setup, so setup takes no virtual time. */
  slowFactor = 1;
  /** The next crash tears the last unsynced write of each file (a disk-torn-write fault). */
  tearNextCrash = false;
  /**
   * Which sectors the torn write keeps (with `tearNextCrash`). 'prefix': its first ones. 'any': any
   * subset, not a prefix: the kernel writes dirty pages back in no particular order, so a crash before
   * the fsync may keep a later sector of a write and lose an earlier one (left as the disk held it:
   * zeros past the file's end). 'hole': every sector but the first (one page not yet written back), so
   * whatever whole records the write holds past its first sector lie intact after the hole.
   */
  tearSectors: 'prefix' | 'any' | 'hole' = 'prefix';
  /**
   * With `tearNextCrash` and 'prefix': the sector boundary of the torn write (its bytes and position)
   * the kept prefix ends at, chosen by a fault; null, or an answer of null: one the seed picks.
   */
  tearBoundary: ((data: Buffer, position: number) => number | null) | null = null;
  /** Runs once, as its own event, after the next write completes (before any fsync covers it). */
  private afterWrite: (() => void) | null = null;
  /** Which writes set `afterWrite` off (beyond spanning a sector boundary): their bytes and file position. */
  private afterWriteAccepts: (data: Buffer, position: number) => boolean = () => true;
  /** Runs once, as its own event, after this many more operations complete. */
  private afterOperations: { left: number; callback: () => void } | null = null;
  /** Counters for reports and tests. */
  readonly stats = {
    crashes: 0,
    tornWrites: 0,
    /** Torn writes whose surviving sectors were not a prefix (a hole before a kept sector). */
    tornOutOfOrder: 0,
    /** Length of the last torn write, in bytes (0 before any). */
    tornWriteBytes: 0,
    lostWrites: 0,
    fsyncErrors: 0,
    noSpace: 0,
    bitFlips: 0,
    misdirectedWrites: 0,
    /** Opens for reading that failed (disk-open-error). */
    openErrors: 0,
    /** Synced tails a flush the disk acknowledged but never made took away (disk-lost-flush). */
    lostFlushes: 0,
    /** The most files one process held open at once. */
    openFilesPeak: 0,
    /** The largest any file grew, in bytes. */
    fileBytesPeak: 0,
  };
  /**
   * Each file's synced length when the last process incarnation started (`session`): a machine that
   * came up again after a power loss holds on its platters whatever it synced before, so a volatile
   * write cache lost later (loseSyncedTail) can only take what was synced since.
   */
  private onPlatters = new WeakMap<DiskFile, number>();
  /** Files a fault ever flipped a bit in: a store may set them aside as damaged. */
  private readonly flipped = new WeakSet<DiskFile>();
  /** Files held open through the disk itself, not a session (tests). */
  private readonly unsessioned: OpenFiles = { count: 0 };
  private readonly sessionFiles = new WeakMap<FileSystem, OpenFiles>();

  constructor(private readonly options: SimDiskOptions) {}

  /** Runs the disk on another clock (setup and the final read run on their own agenda). */
  useClock(clock: DiskClock): void {
    this.options.clock = clock;
    this.busyUntil = clock.now;
  }

  /**
   * The port as one process incarnation sees it: after a crash, its operations never complete (the
   * process is gone), so a store incarnation that outlived its machine cannot touch the disk.
   */
  session(): FileSystem {
    const generation = this.generation;
    this.onPlatters = new WeakMap();
    for (const file of this.durableNames.values()) this.onPlatters.set(file, file.durable.length);
    const files: OpenFiles = { count: 0 };
    const guard = <T>(operation: () => Promise<T>): Promise<T> =>
      this.generation === generation ? operation() : new Promise<T>(() => {});
    const session: FileSystem = {
      open: (path, mode) => guard(() => this.openIn(files, path, mode)),
      readFile: (path) => guard(() => this.readFile(path)),
      rename: (from, to) => guard(() => this.rename(from, to)),
      list: (dir) => guard(() => this.list(dir)),
      remove: (path) => guard(() => this.remove(path)),
      syncDir: (dir) => guard(() => this.syncDir(dir)),
      prepareDir: (dir) => guard(() => this.prepareDir(dir)),
    };
    this.sessionFiles.set(session, files);
    return session;
  }

  /** Files the process of `session` holds open now (closed ones no longer count from their close call). */
  openFilesOf(session: FileSystem): number {
    return this.sessionFiles.get(session)?.count ?? 0;
  }

  // ---- the port -----------------------------------------------------------------------------

  open(path: string, mode: OpenMode): Promise<StoreFile> {
    return this.openIn(this.unsessioned, path, mode);
  }

  private openIn(files: OpenFiles, path: string, mode: OpenMode): Promise<StoreFile> {
    return this.complete(this.options.ioMs, () => {
      // As node:fs: a directory is no file, and a mode the port does not name opens nothing writable.
      if (!openModes.has(mode)) throw diskError('EINVAL', `open of ${path} in mode ${JSON.stringify(mode)}`);
      if (this.isDirectory(path)) throw diskError('EISDIR', `open of the directory ${path}`);
      if (mode === 'read' && this.readOpenFails !== null) {
        this.stats.openErrors++;
        throw diskError(this.readOpenFails, `open of ${path} for reading`);
      }
      let file = this.names.get(path);
      if (file === undefined) {
        if (mode === 'read') throw diskError('ENOENT', `no such file ${path}`);
        file = new DiskFile();
        this.names.set(path, file);
      } else if (mode === 'replace') {
        file.change({ kind: 'truncate', length: 0 });
      }
      files.count++;
      this.stats.openFilesPeak = Math.max(this.stats.openFilesPeak, files.count);
      return this.handle(path, file, files, mode === 'read');
    });
  }

  readFile(path: string): Promise<Buffer | null> {
    return this.complete(this.options.ioMs, () => {
      const file = this.names.get(path);
      return file === undefined ? null : Buffer.from(file.bytes.view());
    });
  }

  rename(from: string, to: string): Promise<void> {
    return this.complete(this.options.ioMs, () => {
      const file = this.names.get(from);
      if (file === undefined) throw diskError('ENOENT', `rename of missing ${from}`);
      this.names.delete(from);
      this.names.set(to, file);
    });
  }

  list(dir: string): Promise<string[]> {
    return this.complete(this.options.ioMs, () =>
      [...this.names.keys()].filter((path) => dirname(path) === dir).map((path) => basename(path)),
    );
  }

  remove(path: string): Promise<void> {
    return this.complete(this.options.ioMs, () => {
      this.names.delete(path);
    });
  }

  syncDir(dir: string): Promise<void> {
    return this.complete(this.options.fsyncMs, () => {
      for (const path of [...this.durableNames.keys()])
        if (dirname(path) === dir && !this.names.has(path)) this.durableNames.delete(path);
      for (const [path, file] of this.names) if (dirname(path) === dir) this.durableNames.set(path, file);
    });
  }

  prepareDir(dir: string): Promise<void> {
    // Directories are otherwise implicit: a path's directory exists once a file is made in it.
    return this.complete(this.options.ioMs, () => {
      this.directories.add(dir);
    });
  }

  private isDirectory(path: string): boolean {
    if (this.directories.has(path)) return true;
    for (const name of this.names.keys()) if (dirname(name) === path) return true;
    return false;
  }

  private handle(path: string, file: DiskFile, files: OpenFiles, readOnly: boolean): StoreFile {
    const generation = this.generation;
    let open = true;
    // A file handle dies with its process: after a crash its operations never complete.
    const live = (): boolean => this.generation === generation;
    const never = new Promise<never>(() => {});
    // As node:fs: an operation issued on a handle already closed fails EBADF (FileHandle.close() waits
    // only for the operations already in flight, which complete here before the close, in submission
    // order), and a handle opened for reading neither writes nor truncates. Without it a store that
    // closed a handle under a read still using it (3331 of the 4a1ec6e seed-4 sample: the segment
    // reader's eviction) worked only in the simulator.
    // The handle's state is taken when the operation is issued; its failure comes at completion.
    const usable = <T>(what: string, writes: boolean, work: () => T): (() => T) => {
      const closed = !open;
      return () => {
        if (closed) throw diskError('EBADF', `${what} of ${path} on a closed file handle`);
        if (writes && readOnly) throw diskError('EBADF', `${what} of ${path} on a handle opened for reading`);
        return work();
      };
    };
    return {
      write: (data, position) =>
        !live()
          ? never
          : this.complete(
              this.options.ioMs,
              usable('write', true, () => {
                const growth = Math.max(0, position + data.length - file.bytes.length);
                if (growth > 0 && this.usedBytes() + growth > this.capacityBytes) {
                  this.stats.noSpace++;
                  throw diskError('ENOSPC', `no space left writing ${path}`);
                }
                file.change({ kind: 'write', position, data: Buffer.from(data) });
                this.stats.fileBytesPeak = Math.max(this.stats.fileBytesPeak, file.bytes.length);
                // A write inside one sector is atomic: only one that spans a boundary can tear.
                const hook = this.afterWrite;
                if (
                  hook !== null &&
                  spansSectorBoundary(position, data.length) &&
                  this.afterWriteAccepts(data, position)
                ) {
                  this.afterWrite = null;
                  this.options.clock.at(this.options.clock.now, hook);
                }
              }),
            ),
      read: (position, length) =>
        !live()
          ? never
          : this.complete(
              this.options.ioMs,
              usable('read', false, () => {
                const bytes = file.bytes.view();
                return Buffer.from(bytes.subarray(position, Math.min(bytes.length, position + length)));
              }),
            ),
      datasync: () =>
        !live()
          ? never
          : this.complete(
              this.options.fsyncMs,
              usable('fdatasync', false, () => {
                if (this.fsyncFails && file.pending.length > 0) {
                  this.stats.fsyncErrors++;
                  // The kernel marks the failed pages clean: a retry "succeeds" without making them durable.
                  this.stats.lostWrites += file.pending.length;
                  file.pending = [];
                  throw diskError('EIO', `fdatasync of ${path} failed`);
                }
                file.sync();
              }),
            ),
      truncate: (length) =>
        !live()
          ? never
          : this.complete(
              this.options.ioMs,
              usable('truncate', true, () => {
                file.change({ kind: 'truncate', length });
              }),
            ),
      close: () => {
        if (!live()) return never;
        // The process lets go of the descriptor at the call (the OS closes it at once; only when the
        // call returns is in virtual time).
        if (open) files.count--;
        open = false;
        return this.complete(this.options.ioMs, () => undefined);
      },
    };
  }

  private usedBytes(): number {
    let used = 0;
    for (const file of this.names.values()) used += file.bytes.length;
    return used;
  }

  /** Schedules `work` to run (and settle the promise) when the operation completes, in order. */
  private complete<T>(latencyMs: number, work: () => T): Promise<T> {
    const clock = this.options.clock;
    const generation = this.generation;
    const at = Math.max(clock.now + latencyMs * this.slowFactor, this.busyUntil);
    this.busyUntil = at;
    return new Promise<T>((resolve, reject) => {
      clock.at(at, () => {
        // An operation in flight when the machine crashed never completes.
        if (this.generation !== generation) return;
        clock.markAsync();
        this.countOperation();
        try {
          resolve(work());
        } catch (error) {
          reject(error);
        }
      });
    });
  }

  // ---- crashes and faults -------------------------------------------------------------------

  /**
   * The machine loses power: the namespace reverts to its durable entries and every file to its
   * durable bytes plus, as the seed decides, a prefix of its unsynced changes, the last one kept
   * possibly torn at a sector boundary (a prefix of its sectors survives).
   */
  crash(): void {
    const rng = this.options.rng;
    this.generation++;
    this.stats.crashes++;
    this.busyUntil = this.options.clock.now;
    const tear = this.tearNextCrash;
    const sectors = this.tearSectors;
    const boundary = this.tearBoundary;
    this.tearNextCrash = false;
    this.tearSectors = 'prefix';
    this.tearBoundary = null;
    this.names = new Map(this.durableNames);
    for (const file of new Set(this.names.values())) {
      const changes = file.pending;
      const kept = tear ? Math.max(0, changes.length - 1) : rng.int(changes.length + 1);
      for (let index = 0; index < kept; index++) file.durable.apply(changes[index]!);
      const next = changes[kept];
      if (next !== undefined && next.kind === 'write' && (tear || rng.chance(0.5))) {
        const torn =
          !tear || sectors === 'prefix'
            ? tornPrefix(next, rng, tear ? boundary : null)
            : tornSectors(next, rng, sectors);
        if (torn !== null) {
          for (const piece of Array.isArray(torn) ? torn : [torn]) file.durable.apply(piece);
          this.stats.tornWrites++;
          this.stats.tornWriteBytes = next.data.length;
          if (Array.isArray(torn)) this.stats.tornOutOfOrder++;
        }
      }
      this.stats.lostWrites += changes.length - kept;
      file.bytes = new ByteImage(file.durable);
      file.pending = [];
    }
  }

  /**
   * Arms (or, with null, disarms) a callback to run right after the next write that spans a sector
   * boundary and that `accepts`.
   */
  onNextWrite(
    callback: (() => void) | null,
    accepts: (data: Buffer, position: number) => boolean = () => true,
  ): void {
    this.afterWrite = callback;
    this.afterWriteAccepts = accepts;
  }

  /** Arms (or disarms) a callback to run right after `count` more operations complete. */
  afterMoreOperations(count: number, callback: (() => void) | null): void {
    this.afterOperations = callback === null ? null : { left: count, callback };
  }

  private countOperation(): void {
    const armed = this.afterOperations;
    if (armed === null || --armed.left > 0) return;
    this.afterOperations = null;
    this.options.clock.at(this.options.clock.now, armed.callback);
  }

  /** Whether any file holds writes a crash could lose or tear. */
  get hasUnsyncedWrites(): boolean {
    for (const file of this.names.values()) if (file.pending.length > 0) return true;
    return false;
  }

  /**
   * Flips one bit in a synced sector of a file whose name passes `filter`; returns where, and how to
   * put the bit back (a backup of the sector restored), or null when no file has synced bytes. The
   * running process sees it too (the page was re-read).
   */
  flipBit(
    filter: (path: string) => boolean,
    pick?: (path: string, durable: Buffer) => number | null,
  ): {
    path: string;
    offset: number;
    /** Flips the bit back in that file, if it still holds the damaged byte there. */
    restore(): void;
  } | null {
    const rng = this.options.rng;
    const candidates = [...this.durableNames].filter(
      ([path, file]) => filter(path) && file.durable.length > 0,
    );
    if (candidates.length === 0) return null;
    const [path, file] = candidates[rng.int(candidates.length)]!;
    const durable = file.durable.view();
    const offset = pick === undefined ? rng.int(durable.length) : pick(path, durable);
    if (offset === null || offset >= durable.length) return null;
    const mask = 1 << rng.int(8);
    const damaged = durable[offset]! ^ mask;
    const flip = (from: number, to: number): void => {
      for (const image of [file.durable.view(), file.bytes.view()])
        if (offset < image.length && image[offset] === from) image[offset] = to;
    };
    flip(damaged ^ mask, damaged);
    this.flipped.add(file);
    this.stats.bitFlips++;
    return { path, offset, restore: () => flip(damaged, damaged ^ mask) };
  }

  /** Whether a fault ever flipped a bit in the file now at `path` (the only damage a checkpoint meets). */
  flippedAt(path: string): boolean {
    const file = this.names.get(path);
    return file !== undefined && this.flipped.has(file);
  }

  /** The synced bytes of every file whose name passes `filter` (copies), for a fault to choose where to strike. */
  syncedFiles(filter: (path: string) => boolean): { path: string; bytes: Buffer }[] {
    return [...this.durableNames]
      .filter(([path, file]) => filter(path) && file.durable.length > 0)
      .map(([path, file]) => ({ path, bytes: Buffer.from(file.durable.view()) }));
  }

  /**
   * A misdirected write lands `data` at `offset` of `path`, inside what was synced there: the durable
   * bytes and the page cache both change (the page was re-read), as with a bit flip. Returns how to
   * put the old bytes back (a backup of those sectors restored), or null if the file is not synced
   * that far.
   */
  landMisdirected(path: string, offset: number, data: Buffer): { restore(): void } | null {
    const file = this.durableNames.get(path);
    if (file === undefined || offset + data.length > file.durable.length) return null;
    const end = offset + data.length;
    const old = Buffer.from(file.durable.view().subarray(offset, end));
    const put = (from: Buffer, to: Buffer): void => {
      for (const image of [file.durable.view(), file.bytes.view()])
        if (end <= image.length && image.subarray(offset, end).equals(from)) to.copy(image, offset);
    };
    put(old, data);
    this.stats.misdirectedWrites++;
    return { restore: () => put(data, old) };
  }

  /**
   * The disk loses what it said it had flushed (a volatile write cache lost at power-off): the synced
   * bytes of `path` from `length` on are gone, from the durable bytes and the page cache alike (call it
   * with the machine down). Returns how to put them back (a backup restored), which it does only while
   * the file still ends at `length` (a store that wrote on past the loss keeps what it wrote), or null
   * if the file is not synced past `length`, or if `length` is before what it held synced when its
   * process last started (those bytes were on the platters before this power-on: no cache holds them).
   */
  loseSyncedTail(path: string, length: number): { restore(): void } | null {
    const file = this.durableNames.get(path);
    if (file === undefined || length >= file.durable.length) return null;
    if (length < (this.onPlatters.get(file) ?? 0)) return null;
    const lost = Buffer.from(file.durable.view().subarray(length));
    for (const image of [file.durable, file.bytes]) image.apply({ kind: 'truncate', length });
    this.stats.lostFlushes++;
    return {
      restore: () => {
        if (file.durable.length !== length || file.bytes.length !== length) return;
        for (const image of [file.durable, file.bytes])
          image.apply({ kind: 'write', position: length, data: lost });
      },
    };
  }

  /**
   * The disk loses a file's directory entry it said it had flushed (a volatile write cache lost at
   * power-off): `path` is gone, from the namespace that survives a crash and the one the process sees
   * (call it with the machine down). Returns how to put it back (a backup restored), which it does only
   * while no file of that name was made since, or null if `path` is not durable or was on the platters
   * when its process last started (a file that outlived a power-on is in no cache).
   */
  loseFile(path: string): { restore(): void } | null {
    const file = this.durableNames.get(path);
    if (file === undefined || this.onPlatters.has(file)) return null;
    this.durableNames.delete(path);
    this.names.delete(path);
    this.stats.lostFlushes++;
    return {
      restore: () => {
        if (this.names.has(path) || this.durableNames.has(path)) return;
        this.names.set(path, file);
        this.durableNames.set(path, file);
      },
    };
  }

  /** Bytes held now (a disk-full fault sets the capacity to this). */
  get used(): number {
    return this.usedBytes();
  }
}

/**
 * The part of a write before a sector boundary inside it (seeded, or the one `chosen` names if it is
 * one), or null if it spans none.
 */
function tornPrefix(
  change: Extract<PendingChange, { kind: 'write' }>,
  rng: Prng,
  chosen: ((data: Buffer, position: number) => number | null) | null = null,
): PendingChange | null {
  const start = change.position;
  const end = start + change.data.length;
  const firstBoundary = Math.floor(start / sectorBytes) * sectorBytes + sectorBytes;
  if (firstBoundary >= end) return null;
  const boundaries = Math.floor((end - 1 - firstBoundary) / sectorBytes) + 1;
  const wanted = chosen?.(change.data, start) ?? null;
  const cut =
    wanted !== null && wanted >= firstBoundary && wanted < end && wanted % sectorBytes === 0
      ? wanted
      : firstBoundary + rng.int(boundaries) * sectorBytes;
  return { kind: 'write', position: start, data: change.data.subarray(0, cut - start) };
}

/**
 * The sectors of a write that reach the disk when they are written back in no order: never a prefix,
 * so a lost sector lies before a kept one; or null if the write lies inside one sector. 'any': a
 * seeded subset; 'hole': all but the first.
 */
function tornSectors(
  change: Extract<PendingChange, { kind: 'write' }>,
  rng: Prng,
  sectors: 'any' | 'hole',
): PendingChange[] | null {
  const start = change.position;
  const end = start + change.data.length;
  const pieces: { from: number; to: number }[] = [];
  for (let from = start; from < end; ) {
    const to = Math.min(end, Math.floor(from / sectorBytes) * sectorBytes + sectorBytes);
    pieces.push({ from, to });
    from = to;
  }
  if (pieces.length < 2) return null;
  const kept = pieces.map((_, i) => (sectors === 'hole' ? i > 0 : rng.chance(0.5)));
  const lostBeforeKept = kept.some((keep, i) => keep && kept.slice(0, i).includes(false));
  if (!lostBeforeKept) {
    kept[0] = false;
    kept[pieces.length - 1] = true;
  }
  return pieces
    .filter((_, i) => kept[i])
    .map(({ from, to }) => ({
      kind: 'write' as const,
      position: from,
      data: change.data.subarray(from - start, to - start),
    }));
}

function spansSectorBoundary(position: number, length: number): boolean {
  return Math.floor(position / sectorBytes) !== Math.floor((position + length - 1) / sectorBytes);
}
