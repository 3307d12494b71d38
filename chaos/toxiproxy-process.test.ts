// `chatsim toxiproxy` as an operator runs it: a child process that prints its API URL, serves the
// Toxiproxy API to toxiproxy-node-client, and stops on SIGTERM; a bad start is one line and exit 2.

import { spawnSync } from 'node:child_process';
import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { Toxiproxy } from 'toxiproxy-node-client';
import { describe, expect, it } from 'vitest';
import { spawnToxiproxy } from './toxiproxy-process.ts';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));

function chatsim(args: string[]) {
  const result = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: 30_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

describe('chatsim toxiproxy', () => {
  it('serves the API until SIGTERM, with proxies from --config', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatsim-toxiproxy-'));
    try {
      const config = join(dir, 'proxies.json');
      await writeFile(
        config,
        JSON.stringify([{ name: 'redis', listen: 'localhost:0', upstream: 'localhost:6379' }]),
      );
      const running = await spawnToxiproxy(['--port', '0', '--config', config]);
      const client = new Toxiproxy(running.url);
      expect(Object.keys(await client.getAll())).toEqual(['redis']);
      const proxy = await client.createProxy({
        name: 'db',
        listen: 'localhost:0',
        upstream: 'localhost:5432',
      });
      expect(proxy.listen).toMatch(/^127\.0\.0\.1:\d+$/);
      await running.stop();
      await expect(client.getAll()).rejects.toThrow();
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });

  it('a taken port: exit 2 and one line that says what to do', async () => {
    const taken = createServer();
    await new Promise<void>((resolve) => taken.listen(0, '127.0.0.1', resolve));
    try {
      const { port } = taken.address() as { port: number };
      const result = chatsim(['toxiproxy', '--port', String(port)]);
      expect(result.status).toBe(2);
      expect(result.stderr.trim().split('\n')).toHaveLength(1);
      expect(result.stderr).toContain(`localhost:${port} is in use: pick another --port`);
    } finally {
      taken.close();
    }
  });

  it('a bad --port or --config: exit 2 and one line', async () => {
    const badPort = chatsim(['toxiproxy', '--port', 'http']);
    expect(badPort.status).toBe(2);
    expect(badPort.stderr.trim().split('\n')).toHaveLength(1);
    const badConfig = chatsim(['toxiproxy', '--port', '0', '--config', '/nonexistent/proxies.json']);
    expect(badConfig.status).toBe(2);
    expect(badConfig.stderr).toMatch(/^chatsim: cannot read --config \/nonexistent\/proxies.json/);
  });
});
