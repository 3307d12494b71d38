// The redis-server the Redis tests and `live --nodes N` start: durable as the store demands (AOF with an
// fsync per write), and a SIGKILL then restart on the same port and dir keeps what was written.

import { existsSync } from 'node:fs';
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
});
