// The Redis Cluster fixture itself (Debian's redis-server, 3 masters and 3 replicas on free ports):
// it forms with every slot served and every replica linked, a write through ioredis `Cluster` is
// served, `failMaster` SIGKILLs a master and returns only once that master's own replica has taken
// over (and the write made before, WAITed on by its replica, is still there), and `dispose` stops
// every process and removes every dir.

import { existsSync } from 'node:fs';
import { Cluster } from 'ioredis';
import { afterAll, describe, expect, it } from 'vitest';
import { RedisCluster } from './redis-cluster.ts';

let cluster: RedisCluster | null = null;
afterAll(async () => {
  await cluster?.dispose();
});

describe('RedisCluster', () => {
  it('forms, fails a master over to its replica, and disposes of every server', async () => {
    cluster = await RedisCluster.start();
    const servers = cluster.servers;
    expect(servers).toHaveLength(6);
    const masters = await cluster.masters();
    expect(masters).toHaveLength(3);

    const client = new Cluster(cluster.nodes, { redisOptions: { commandTimeout: 10_000 } });
    try {
      // A key in the slot of the first master (by its port order), kept on its replica before the kill.
      await client.set('{k}', 'kept');
      await client.wait(1, 5000);
      const slot = Number(await client.cluster('KEYSLOT', '{k}'));
      const slots = await client.cluster('SLOTS');
      const ownerPort = slots.find(([from, to]) => from <= slot && slot <= to)![2]![1];
      const index = masters.findIndex((server) => server.port === ownerPort);
      expect(index).toBeGreaterThanOrEqual(0);

      const { killed, promoted, failoverMs } = await cluster.failMaster(index);
      expect(killed.port).toBe(ownerPort);
      expect(killed.running).toBe(false);
      expect(promoted.port).not.toBe(ownerPort);
      expect(failoverMs).toBeGreaterThan(0);
      const after = await cluster.masters();
      expect(after.map((server) => server.port)).toContain(promoted.port);
      expect(after.map((server) => server.port)).not.toContain(killed.port);
      expect(after).toHaveLength(3);
      expect(await client.get('{k}')).toBe('kept');
      await expect(cluster.failMaster(3)).rejects.toThrow(/no master 3/);
    } finally {
      client.disconnect();
    }

    const dirs = servers.map((server) => server.dir);
    await cluster.dispose();
    cluster = null;
    expect(servers.every((server) => !server.running)).toBe(true);
    expect(dirs.filter((dir) => existsSync(dir))).toEqual([]);
  }, 120_000);
});
