// A Redis Cluster from Debian's redis-server for tests: 3 masters and 3 replicas on free ports, each
// in its own temp dir with AOF and an fsync per write, joined with `redis-cli --cluster create`.
// `ready` resolves once every node reports cluster_state:ok; `dispose` SIGKILLs them all.

import { execFile } from 'node:child_process';
import { promisify } from 'node:util';
import { freePort, RedisServer } from './redis-server.ts';

const run = promisify(execFile);
const readyTimeoutMs = 30_000;

export class RedisCluster {
  private constructor(readonly servers: RedisServer[]) {}

  /** Seed addresses for ioredis `Cluster` ({host, port}). */
  get nodes(): { host: string; port: number }[] {
    return this.servers.map((server) => ({ host: '127.0.0.1', port: server.port }));
  }

  static async start(masters = 3, replicasPerMaster = 1): Promise<RedisCluster> {
    const servers: RedisServer[] = [];
    try {
      for (let i = 0; i < masters * (1 + replicasPerMaster); i++) {
        const port = await freePort();
        servers.push(
          await RedisServer.start({
            port,
            extraArgs: [
              '--cluster-enabled',
              'yes',
              '--cluster-config-file',
              'nodes.conf',
              '--cluster-node-timeout',
              '2000',
            ],
          }),
        );
      }
      await run('redis-cli', [
        '--cluster',
        'create',
        ...servers.map((server) => `127.0.0.1:${server.port}`),
        '--cluster-replicas',
        String(replicasPerMaster),
        '--cluster-yes',
      ]);
      const cluster = new RedisCluster(servers);
      await cluster.waitReady();
      return cluster;
    } catch (error) {
      await Promise.all(servers.map((server) => server.dispose()));
      throw error;
    }
  }

  async dispose(): Promise<void> {
    await Promise.all(this.servers.map((server) => server.dispose()));
  }

  private async waitReady(): Promise<void> {
    const deadline = Date.now() + readyTimeoutMs;
    for (;;) {
      const states = await Promise.all(
        this.servers.map((server) =>
          run('redis-cli', ['-p', String(server.port), 'cluster', 'info']).then(
            ({ stdout }) => /cluster_state:ok/.test(stdout) && /cluster_slots_assigned:16384/.test(stdout),
            () => false,
          ),
        ),
      );
      if (states.every(Boolean)) return;
      if (Date.now() > deadline)
        throw new Error(`the Redis Cluster was not ready within ${readyTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
