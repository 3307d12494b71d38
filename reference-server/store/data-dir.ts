// Makes sure the log store's data dir exists and is a writable directory before anything is written,
// so a bad `--data-dir` fails at start-up with a message that says what to do, not on the first ack.

import { constants } from 'node:fs';
import { access, mkdir, open, stat } from 'node:fs/promises';
import { dirname, resolve } from 'node:path';
import { DataDirError } from './store-errors.ts';

export async function ensureDataDir(dir: string): Promise<void> {
  const existing = await stat(dir).catch((error: { code?: string }) => {
    // ENOTDIR: a parent is a file; mkdir below reports it as such.
    if (error.code === 'ENOENT' || error.code === 'ENOTDIR') return null;
    throw new DataDirError(`cannot inspect data dir ${dir} (${codeOf(error)}): check its permissions`, {
      cause: error,
    });
  });
  if (existing !== null && !existing.isDirectory()) {
    throw new DataDirError(
      `data dir ${dir} is not a directory: pass another --data-dir or move that file away`,
    );
  }
  if (existing === null) {
    let created: string | undefined;
    try {
      created = await makeDirs(resolve(dir));
    } catch (error) {
      throw new DataDirError(
        `cannot create data dir ${dir} (${codeOf(error)}): pass a --data-dir in a writable location, ` +
          'or remove the file that stands in its way',
        { cause: error },
      );
    }
    // Freshly created dirs' own entries must survive a crash as much as the files inside them.
    if (created !== undefined) {
      for (let level = resolve(dir); level !== dirname(resolve(created)); level = dirname(level)) {
        await fsyncDir(dirname(level));
      }
    }
  }
  try {
    await access(dir, constants.R_OK | constants.W_OK | constants.X_OK);
  } catch (error) {
    throw new DataDirError(
      `data dir ${dir} is not readable and writable (${codeOf(error)}): fix its permissions or pass another --data-dir`,
      { cause: error },
    );
  }
}

/**
 * `mkdir -p` one level at a time. Node 20's recursive mkdir spins forever under /proc (mkdir there
 * answers ENOENT for a path whose parent exists), so each level is made on its own and an error ends it.
 * Returns the first directory it created, as recursive mkdir does.
 */
async function makeDirs(dir: string): Promise<string | undefined> {
  const missing: string[] = [];
  for (let level = dir; ; level = dirname(level)) {
    const exists = await stat(level).then(
      () => true,
      () => false,
    );
    if (exists) break;
    missing.push(level);
    if (dirname(level) === level) break;
  }
  for (const level of missing.reverse()) await mkdir(level);
  return missing[0];
}

function codeOf(error: unknown): string {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' ? code : String(error);
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
