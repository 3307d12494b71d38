import { existsSync, mkdtempSync, statSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { ensureDataDir } from './data-dir.ts';

describe('ensureDataDir', () => {
  it('creates missing levels', async () => {
    const dir = join(mkdtempSync(join(tmpdir(), 'chatsim-dd-')), 'a', 'b', 'c');
    await ensureDataDir(dir);
    expect(statSync(dir).isDirectory()).toBe(true);
  });

  it('refuses a file with a message that says what to do', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chatsim-dd-')), 'file');
    writeFileSync(file, 'x');
    await expect(ensureDataDir(file)).rejects.toThrow(/not a directory: pass another --data-dir/);
  });

  it('fails fast where mkdir cannot work (Node 20 recursive mkdir would spin under /proc)', async () => {
    if (!existsSync('/proc/self')) return; // only Linux has /proc; elsewhere there is nothing to show
    await expect(ensureDataDir('/proc/chatsim-nope/data')).rejects.toThrow(/cannot create data dir/);
  });
});
