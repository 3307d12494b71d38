// Reference nodes as a fleet over a Redis Cluster of the run's own (3 masters, 3 replicas from
// Debian's redis-server, AOF fsync always), for `chatsim live --nodes N --redis-cluster`. Its Redis
// fault is the failover: `store-outage` SIGKILLs the master of the conversation slots it picks (the
// first master) and the cluster promotes that master's replica (cluster-node-timeout 2 s, then an
// election); the heal restarts the old master, which rejoins as a replica and drops what the new
// master never had. Redis replicates asynchronously, so writes acked by the old master but not yet on
// its replica are lost unless the nodes WAIT for a replica (`--redis-wait-replicas 1`).

import { randomBytes } from 'node:crypto';
import { RedisCluster } from '../../chaos/redis-cluster.ts';
import type { RedisServer } from '../../chaos/redis-server.ts';
import { FleetError, type LiveFleet, NodesBeside, type RedisFaults } from './fleet.ts';
import { type ReferenceFleetOptions, referenceFleet } from './reference-fleet.ts';

export type RedisClusterFleetOptions = Omit<ReferenceFleetOptions, 'redis' | 'redisCluster'> & {
  /** WAIT for this many replicas after every write (0: no WAIT, Redis's default). */
  waitReplicas?: number;
  /** Told of each failover: which master went, which replica took over, how long it took. */
  log?: (line: string) => void;
};

export class RedisClusterFleet extends NodesBeside implements LiveFleet {
  readonly canSignal = true;
  readonly reproFlags: string;
  private cluster: RedisCluster | null = null;
  private readonly prefix = `live-${randomBytes(4).toString('hex')}:`;
  /** Failovers so far: what a run's report names beside its verdicts. */
  readonly failovers: { killedPort: number; promotedPort: number; failoverMs: number }[] = [];

  constructor(private readonly options: RedisClusterFleetOptions) {
    super(options.nodes);
    this.reproFlags = [
      `--nodes ${options.nodes} --redis-cluster`,
      ...(options.waitReplicas ? [`--redis-wait-replicas ${options.waitReplicas}`] : []),
      ...options.bugs.map((b) => `--bug ${b}`),
    ].join(' ');
  }

  get redis(): RedisFaults {
    return {
      owned: true,
      cluster: true,
      outage: () => this.failover(),
      cut: async () => {
        throw new FleetError(
          'partition target store is not supported on a Redis Cluster fleet (nodes reach every master directly)',
        );
      },
      slow: async () => {
        throw new FleetError(
          'redis-latency is not supported on a Redis Cluster fleet (nodes reach every master directly)',
        );
      },
    };
  }

  async start(): Promise<void> {
    try {
      this.cluster = await RedisCluster.start();
    } catch (error) {
      throw new FleetError(`cannot start the fleet's Redis Cluster: ${(error as Error).message}`);
    }
    this.nodes = referenceFleet({
      ...this.options,
      redisCluster: {
        seeds: this.cluster.nodes.map((n) => `${n.host}:${n.port}`).join(','),
        prefix: this.prefix,
        ...(this.options.waitReplicas ? { waitReplicas: this.options.waitReplicas } : {}),
      },
    });
    try {
      await this.nodes.start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The first master SIGKILLed and its replica promoted; the heal restarts the old master as a replica. */
  async failover(): Promise<() => Promise<void>> {
    const cluster = this.cluster;
    if (cluster === null) throw new FleetError('the Redis Cluster is not started');
    const { killed, promoted, failoverMs } = await cluster.failMaster(0);
    this.failovers.push({ killedPort: killed.port, promotedPort: promoted.port, failoverMs });
    this.options.log?.(
      `redis cluster: master :${killed.port} SIGKILLed, replica :${promoted.port} promoted after ${failoverMs} ms`,
    );
    return () => restartAsReplica(killed);
  }

  async stop(): Promise<void> {
    await this.stopNodes();
    await this.cluster?.dispose();
    this.cluster = null;
  }
}

async function restartAsReplica(server: RedisServer): Promise<void> {
  if (!server.running) await server.restart();
}
