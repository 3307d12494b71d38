// Reference nodes as a fleet over Redis, for `chatsim live --nodes N` (N > 1): a Debian redis-server
// of the run's own (free port, temp dir, AOF always) unless the operator names one, and an embedded
// Toxiproxy with one proxy per node between that node and Redis, so a fault can cut one node from
// Redis. Redis faults: `store-outage` is Redis SIGKILLed and restarted from its AOF at the heal (only
// a Redis the run owns); `partition` with target 'store' cuts one node's proxy; `redis-latency` puts
// a latency toxic both ways on one node's proxy, or on every node's.
// The known bug 'ack-before-durable' has a fleet form: Redis without persistence (`appendonly no`) and
// nodes told to accept it (`--redis-allow-unsafe`), so every ack is ahead of durability and a Redis
// SIGKILL loses what was acked.

import { randomBytes } from 'node:crypto';
import { type Toxic, Toxiproxy } from 'toxiproxy-node-client';
import { RedisServer } from '../../chaos/redis-server.ts';
import { startToxiproxyServer, type ToxiproxyServer } from '../../chaos/toxiproxy-server.ts';
import { FleetError, type LiveFleet, NodesBeside, type RedisFaults } from './fleet.ts';
import type { ProcessRef } from './process-sampler.ts';
import { type ReferenceFleetOptions, referenceFleet } from './reference-fleet.ts';

export type RedisFleetOptions = Omit<ReferenceFleetOptions, 'redis'> & {
  /** An operator's Redis (must fsync every write); default: a redis-server the run starts. */
  redisUrl?: string;
  /**
   * Nodes reach Redis directly, without a proxy each: no node can then be cut from Redis or slowed
   * (those faults throw), and no Redis byte passes through the driver's process. For big runs
   * without Redis faults, where every connect and message crosses the proxies (default false).
   */
  direct?: boolean;
};

type ProxyHandle = Awaited<ReturnType<Toxiproxy['createProxy']>>;

export class RedisFleet extends NodesBeside implements LiveFleet {
  readonly canSignal = true;
  readonly reproFlags: string;
  private server: RedisServer | null = null;
  private toxiproxy: ToxiproxyServer | null = null;
  private proxies: ProxyHandle[] = [];
  private readonly prefix = `live-${randomBytes(4).toString('hex')}:`;
  private slowed = 0;

  constructor(private readonly options: RedisFleetOptions) {
    super(options.nodes);
    this.reproFlags = [
      `--nodes ${options.nodes}`,
      ...(options.redisUrl ? [`--redis ${options.redisUrl}`] : []),
      ...options.bugs.map((b) => `--bug ${b}`),
    ].join(' ');
  }

  /** The fleet form of 'ack-before-durable': a Redis that keeps nothing on disk. */
  private get unsafe(): boolean {
    return this.options.bugs.includes('ack-before-durable');
  }

  /** Whether the run owns Redis (and so may SIGKILL it). */
  get ownsRedis(): boolean {
    return this.options.redisUrl === undefined;
  }

  get redis(): RedisFaults {
    return {
      owned: this.ownsRedis,
      outage: () => this.redisOutage(),
      cut: (node) => this.cutFromRedis(node),
      slow: (node, latencyMs, jitterMs) => this.slowRedis(node, latencyMs, jitterMs),
    };
  }

  /** Where each node reaches Redis (its proxy), by node index. */
  get redisUrls(): string[] {
    return this.nodeRedisUrls;
  }

  private nodeRedisUrls: string[] = [];

  async start(): Promise<void> {
    try {
      this.server = this.ownsRedis ? await RedisServer.start(this.unsafe ? { appendonly: false } : {}) : null;
      const upstream = this.server ? `127.0.0.1:${this.server.port}` : hostPort(this.options.redisUrl!);
      this.proxies = [];
      if (this.options.direct) this.nodeRedisUrls = Array(this.options.nodes).fill(`redis://${upstream}`);
      else {
        this.toxiproxy = await startToxiproxyServer({ port: 0 });
        const client = new Toxiproxy(this.toxiproxy.url);
        for (let node = 0; node < this.options.nodes; node++)
          this.proxies.push(
            await client.createProxy({ name: `redis-n${node + 1}`, listen: '127.0.0.1:0', upstream }),
          );
        this.nodeRedisUrls = this.proxies.map((p) => `redis://${p.listen}`);
      }
    } catch (error) {
      await this.stop();
      throw new FleetError(`cannot start the fleet's Redis: ${(error as Error).message}`);
    }
    this.nodes = referenceFleet({
      ...this.options,
      bugs: this.options.bugs.filter((bug) => bug !== 'ack-before-durable'),
      redis: {
        urls: this.nodeRedisUrls,
        prefix: this.prefix,
        allowUnsafe: this.unsafe,
      },
    });
    try {
      await this.nodes.start();
    } catch (error) {
      await this.stop();
      throw error;
    }
  }

  /** The nodes, and the Redis the run owns (sampled as a service: it takes its share of the box's cores). */
  override processes(): ProcessRef[] {
    const pid = this.server?.pid;
    return [
      ...super.processes(),
      ...(pid === undefined ? [] : [{ name: 'redis', kind: 'service' as const, pid }]),
    ];
  }

  /** Redis SIGKILLed; the heal restarts it on its AOF. */
  async redisOutage(): Promise<() => Promise<void>> {
    const redis = this.server;
    if (redis === null) throw new FleetError('a Redis the run does not own cannot be killed');
    await redis.kill();
    return () => redis.restart();
  }

  /** One node's connections to Redis cut (its proxy disabled); the heal enables it again. */
  async cutFromRedis(node: number): Promise<() => Promise<void>> {
    const proxy = this.proxyOf(node);
    await proxy.update({ enabled: false, listen: proxy.listen, upstream: proxy.upstream });
    return async () => {
      await proxy.update({ enabled: true, listen: proxy.listen, upstream: proxy.upstream });
    };
  }

  /** Latency toxics both ways on one node's proxy to Redis (every node's when `node` is undefined). */
  async slowRedis(
    node: number | undefined,
    latencyMs: number,
    jitterMs: number,
  ): Promise<() => Promise<void>> {
    const proxies = node === undefined ? this.allProxies() : [this.proxyOf(node)];
    const added: Toxic<unknown>[] = [];
    const remove = async () => {
      await Promise.all(added.map((toxic) => toxic.remove().catch(() => undefined)));
    };
    const tag = `chatsim_redis_latency_${this.slowed++}`;
    try {
      for (const proxy of proxies)
        for (const stream of ['upstream', 'downstream'] as const)
          added.push(
            await proxy.addToxic({
              name: `${tag}_${stream}`,
              type: 'latency',
              stream,
              toxicity: 1,
              attributes: { latency: latencyMs, jitter: jitterMs },
            }),
          );
    } catch (error) {
      await remove();
      throw new FleetError(`cannot slow the path to Redis: ${(error as Error).message}`);
    }
    return remove;
  }

  private proxyOf(node: number): ProxyHandle {
    const proxy = this.allProxies()[node];
    if (!proxy) throw new FleetError(`this fleet has no node ${node} (nodes 0-${this.proxies.length - 1})`);
    return proxy;
  }

  private allProxies(): ProxyHandle[] {
    if (this.proxies.length === 0)
      throw new FleetError(
        'this fleet reaches Redis directly (no proxies): a node cannot be cut from Redis or slowed',
      );
    return this.proxies;
  }

  async stop(): Promise<void> {
    await this.stopNodes();
    await this.toxiproxy?.close();
    await this.server?.dispose();
    this.toxiproxy = null;
    this.server = null;
  }
}

function hostPort(url: string): string {
  const parsed = new URL(url);
  return `${parsed.hostname}:${parsed.port || '6379'}`;
}
