// A Redis Cluster from Debian's redis-server for tests: 3 masters and 3 replicas on free ports, each
// in its own temp dir with AOF and an fsync per write, joined with `redis-cli --cluster create`.
// `ready` resolves once every node reports cluster_state:ok; `dispose` SIGKILLs them all.
// `failMaster` is the failover fault: a master SIGKILLed, then waited on until its replica has been
// promoted (cluster-node-timeout 2 s, then the replicas' election) and the cluster is ok again.

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
        // The cluster bus listens on a port of its own (port + 10000 unless told): a free one, or a
        // busy box's port + 10000 may be taken ("Failed listening on port ... (cluster)").
        const busPort = await freePort();
        servers.push(
          await RedisServer.start({
            port,
            extraArgs: [
              '--cluster-enabled',
              'yes',
              '--cluster-port',
              String(busPort),
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

  /** The servers that are masters now (by `ROLE`), in port order. */
  async masters(): Promise<RedisServer[]> {
    const roles = await Promise.all(this.servers.map((server) => this.role(server)));
    return this.servers.filter((_, i) => roles[i] === 'master');
  }

  /**
   * SIGKILLs master `index` (of `masters()`) and resolves once one of its replicas is a master and
   * every live node says cluster_state:ok. Returns the killed server (restart it to rejoin as a
   * replica) and how long the cluster took to heal.
   */
  async failMaster(index = 0): Promise<{ killed: RedisServer; promoted: RedisServer; failoverMs: number }> {
    const master = (await this.masters())[index];
    if (master === undefined) throw new Error(`no master ${index}`);
    const replicas = await this.replicasOf(master);
    const started = Date.now();
    await master.kill();
    const deadline = started + readyTimeoutMs;
    for (;;) {
      const promoted = (
        await Promise.all(replicas.map(async (r) => ((await this.role(r)) === 'master' ? r : null)))
      ).find((r) => r !== null);
      if (promoted && (await this.liveStatesOk()))
        return { killed: master, promoted, failoverMs: Date.now() - started };
      if (Date.now() > deadline)
        throw new Error(`no replica of the killed master was promoted within ${readyTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 50));
    }
  }

  /** Replicas by their own ROLE: "slave", master host, master port, link state, offset. */
  private async replicasOf(master: RedisServer): Promise<RedisServer[]> {
    const roles = await Promise.all(this.servers.map((server) => this.roleLines(server)));
    return this.servers.filter((_, i) => roles[i]![0] === 'slave' && Number(roles[i]![2]) === master.port);
  }

  private async roleLines(server: RedisServer): Promise<string[]> {
    if (!server.running) return ['down'];
    return run('redis-cli', ['-p', String(server.port), 'role']).then(
      ({ stdout }) => stdout.trim().split('\n'),
      () => ['down'],
    );
  }

  private async role(server: RedisServer): Promise<string> {
    return (await this.roleLines(server))[0]!;
  }

  private async liveStatesOk(): Promise<boolean> {
    const live = this.servers.filter((s) => s.running);
    const states = await Promise.all(
      live.map((server) =>
        run('redis-cli', ['-p', String(server.port), 'cluster', 'info']).then(
          ({ stdout }) => /cluster_state:ok/.test(stdout),
          () => false,
        ),
      ),
    );
    return states.every(Boolean);
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
      // Replicas attach after `cluster create` returns; a failover needs them in sync.
      const roles = await Promise.all(this.servers.map((server) => this.roleLines(server)));
      const linked = roles.filter((r) => r[0] === 'slave' && r[3] === 'connected').length;
      if (states.every(Boolean) && linked === this.servers.length - (await this.masters()).length) return;
      if (Date.now() > deadline)
        throw new Error(`the Redis Cluster was not ready within ${readyTimeoutMs} ms`);
      await new Promise((resolve) => setTimeout(resolve, 100));
    }
  }
}
