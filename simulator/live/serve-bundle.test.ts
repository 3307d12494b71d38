// Reference nodes start from the bundled CLI, not through tsx: the same `serve` (its flags, its exit
// codes), loaded without compiling TypeScript at each start (a crashed node restarts that much sooner).
// The live driver's generators likewise start from a bundle of generator.ts.

import { fork, spawnSync } from 'node:child_process';
import { readFileSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { referenceFleet } from './reference-fleet.ts';
import { binPath, generatorEntry, serveEntry, throughTsx } from './serve-bundle.ts';

describe('serveEntry', () => {
  it('is a bundle inside node_modules, built once per process', async () => {
    const entry = await serveEntry((line) => expect.fail(line));
    expect(entry).not.toBe(binPath);
    expect(entry).toMatch(/node_modules\/\.cache\/chatsim-serve\/\d+-[0-9a-f]+\/serve\.mjs$/);
    expect(await serveEntry()).toBe(entry);
  });

  it('runs the same serve command: a usage error is one line and exit 2', async () => {
    const result = spawnSync(process.execPath, [await serveEntry(), 'serve', '--port', '0', '--bogus'], {
      env: { ...process.env, CHAT_JWT_SECRET: 'serve-bundle-test-secret-0123456789abcdef' },
      encoding: 'utf8',
      timeout: 20_000,
    });
    expect(result.status).toBe(2);
    expect(result.stderr.trim().split('\n')).toHaveLength(1);
    expect(result.stderr).toMatch(/^chatsim: .*--bogus/);
  });

  it('is what a reference fleet starts its nodes from', async () => {
    const fleet = referenceFleet({
      nodes: 1,
      secret: 'serve-bundle-test-secret-0123456789abcdef',
      limits: {},
      bugs: [],
    });
    await fleet.start();
    try {
      const pid = fleet.processes()[0]?.pid;
      expect(pid).toBeDefined();
      const argv = readFileSync(`/proc/${pid}/cmdline`, 'utf8').split('\0');
      expect(argv).toContain(await serveEntry());
      expect(argv).not.toContain(binPath);
      expect((await fetch(`${fleet.urls[0]}/readyz`)).status).toBe(200);
    } finally {
      await fleet.stop();
    }
  });
});

describe('generatorEntry', () => {
  it('is a bundle of generator.ts inside node_modules, built once per process', async () => {
    const entry = await generatorEntry((line) => expect.fail(line));
    expect(throughTsx(entry)).toBe(false);
    expect(entry).toMatch(/node_modules\/\.cache\/chatsim-serve\/\d+-[0-9a-f]+\/generator\.mjs$/);
    expect(await generatorEntry()).toBe(entry);
    expect(entry).not.toBe(await serveEntry());
  });

  it('starts a generator that takes its plan over IPC and answers (a bad plan: failed, with the error)', async () => {
    const child = fork(await generatorEntry(), [], { stdio: ['ignore', 'ignore', 'pipe', 'ipc'] });
    try {
      const answer = new Promise<{ type: string }>((resolve) => child.once('message', resolve));
      child.send({ type: 'plan', plan: null });
      expect((await answer).type).toBe('failed');
    } finally {
      child.kill('SIGKILL');
    }
  });
});
