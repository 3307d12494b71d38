// The redis-server the Redis tests and `live --nodes N` start: durable as the store demands (AOF with an
// fsync per write), and a SIGKILL then restart on the same port and dir keeps what was written.

import { execFileSync } from 'node:child_process';
import { existsSync } from 'node:fs';
import { connect } from 'node:net';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { afterEach, describe, expect, it } from 'vitest';
import { RedisServer } from './redis-server.ts';

describe('RedisServer', () => {
  let server: RedisServer | null = null;
  afterEach(async () => {
    await server?.dispose();
    server = null;
  });

  it('runs with appendfsync always, survives a SIGKILL from its AOF, and removes its temp dir', async () => {
    server = await RedisServer.start();
    const client = new Redis(server.url, { lazyConnect: true, maxRetriesPerRequest: null });
    try {
      await client.connect();
      expect(await client.config('GET', 'appendonly')).toEqual(['appendonly', 'yes']);
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'always']);
      await client.set('k', 'kept');
      await server.kill();
      expect(server.running).toBe(false);
      await server.restart();
      expect(server.running).toBe(true);
      expect(await client.get('k')).toBe('kept');
    } finally {
      client.disconnect();
    }
    const dir = server.dir;
    await server.dispose();
    server = null;
    expect(existsSync(dir)).toBe(false);
  });

  it('starts with a weaker fsync policy when asked (the store refuses it elsewhere)', async () => {
    server = await RedisServer.start({ appendfsync: 'everysec' });
    const client = new Redis(server.url);
    try {
      expect(await client.config('GET', 'appendfsync')).toEqual(['appendfsync', 'everysec']);
    } finally {
      client.disconnect();
    }
  });

  it('does not outlive a process that exits without disposing of it (a run ended by a signal)', async () => {
    const module = fileURLToPath(new URL('./redis-server.ts', import.meta.url));
    const script = `const { RedisServer } = await import(${JSON.stringify(module)}); const s = await RedisServer.start(); console.log(s.port); process.exit(0);`;
    const output = execFileSync(process.execPath, ['--import', 'tsx', '--input-type=module', '-e', script], {
      encoding: 'utf8',
    });
    const port = Number(output.trim().split('\n').at(-1));
    expect(port).toBeGreaterThan(0);
    const refused = await new Promise<boolean>((resolve) => {
      const socket = connect(port, '127.0.0.1');
      socket.once('connect', () => {
        socket.destroy();
        resolve(false);
      });
      socket.once('error', () => resolve(true));
    });
    expect(refused).toBe(true);
  });
});
