// The fleet's bus over Redis pub/sub: one channel per fleet (key prefix) carries every node's events,
// JSON-encoded. Pub/sub keeps nothing for a subscriber that was away, so whenever either connection
// was lost the node is fed `bus-lost` at once and `bus-resumed` once both are back and the channel is subscribed again: it
// then reads every conversation from the store and pushes what it missed. Subscribing before that
// read leaves no window: anything sequenced after the read is published to a live subscription.
// Events this node could not publish meanwhile are kept (bounded) and sent on reconnect; one whose
// PUBLISH failed while the connection stayed up (a command timeout after the node's loop stalled past
// it) is tried again shortly, with every event queued behind it.

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { BusEvent } from '../core/bus-events.ts';
import type { Input } from '../core/inputs.ts';
import { redisConnectionOptions, redisLimits } from '../store/redis-limits.ts';
import type { NodeBus } from './node-bus.ts';
import { RedisLiveness } from './redis-liveness.ts';

/**
 * PUBLISH names no key, so ioredis sends each one on a Cluster to a random master, and two events of
 * one node overtake each other on their way through the cluster bus: a typing behind the message it
 * came before, a presence `online` behind the `offline` published after it (stale online for good;
 * live failover run, steady seed 1). Keyed by the channel, every event goes through the master of
 * the channel's slot, over this node's one connection to it, in order; PUBLISH from a script still
 * reaches subscribers on every node.
 */
const clusterPublishScript = "return redis.call('PUBLISH', KEYS[1], ARGV[1])";

export type RedisBusOptions = {
  url: string;
  /**
   * Seed nodes of a Redis Cluster (then `url` is unused). Classic PUBLISH reaches subscribers on every
   * node of a cluster; sharded pub/sub would pin the one fleet channel to one shard, so it is not used
   * (publishes go through the channel slot's master all the same, to keep each node's events in order).
   */
  cluster?: { host: string; port: number }[];
  /** The fleet's key prefix (the store's): the channel is `${prefix}bus`. Default 'chatsim:'. */
  prefix?: string;
  /** A node missing heartbeats this long is taken for dead (its users go offline elsewhere). */
  presenceTtlMs?: number;
  log?: (line: string) => void;
  connection?: Partial<RedisOptions>;
};

export class RedisBus implements NodeBus {
  private readonly pub: Redis | Cluster;
  private readonly sub: Redis | Cluster;
  private readonly channel: string;
  private readonly liveness: RedisLiveness;
  private readonly log: (line: string) => void;
  private feed: (input: Input) => void = () => {};
  private nodeId = '';
  /** Events not yet published because the connection was down, oldest first. */
  private backlog: string[] = [];
  private backlogDropped = 0;
  private subscribed = false;
  /** A connection dropped since the channel was last subscribed with both connections up. */
  private lost = false;
  private closing = false;
  private firstSubscribe: (() => void) | null = null;
  private subscriberWatch: NodeJS.Timeout | null = null;
  /** A flush of the backlog, armed when a publish failed while the connection stayed ready. */
  private retry: NodeJS.Timeout | null = null;
  /** The backlog is on its way: events published meanwhile wait behind it. */
  private flushing = false;

  constructor(options: RedisBusOptions) {
    const prefix = options.prefix ?? 'chatsim:';
    this.channel = `${prefix}bus`;
    this.log = options.log ?? (() => {});
    const connection = { ...redisConnectionOptions, ...options.connection };
    const connect = (resubscribe: boolean): Redis | Cluster =>
      options.cluster
        ? new Cluster(options.cluster, {
            lazyConnect: true,
            enableOfflineQueue: false,
            clusterRetryStrategy: redisConnectionOptions.retryStrategy!,
            redisOptions: { ...connection, ...(resubscribe ? {} : { autoResubscribe: false }) },
          })
        : new Redis(options.url, { ...connection, ...(resubscribe ? {} : { autoResubscribe: false }) });
    this.pub = connect(true);
    this.sub = connect(false);
    this.liveness = new RedisLiveness({
      redis: this.pub,
      key: `${prefix}nodes`,
      ttlMs: options.presenceTtlMs ?? redisLimits.presenceTtlMsDefault,
      log: this.log,
    });
  }

  async start(nodeId: string, feed: (input: Input) => void): Promise<void> {
    this.nodeId = nodeId;
    this.feed = feed;
    for (const redis of [this.pub, this.sub]) {
      redis.on('error', () => {});
      redis.on('close', () => this.connectionLost());
      redis.on('ready', () => void this.resume());
    }
    this.sub.on('message', (_channel: string, text: string) => this.deliver(text));
    const subscribed = new Promise<void>((resolve) => {
      this.firstSubscribe = resolve;
    });
    await Promise.all([this.pub.connect(), this.sub.connect()]);
    await subscribed;
    if (this.pub instanceof Cluster) await connectEveryNode(this.pub);
    this.liveness.start(nodeId, feed);
    if (this.sub instanceof Cluster) this.watchClusterSubscriber(this.sub);
  }

  /**
   * A Cluster keeps 'ready' while ioredis moves its one subscriber connection to another node (the
   * node it was on died, or dropped the connection), so 'close' never fires and events published in
   * between are silently lost. Treat each move as a lost bus: catch up from the store once the channel
   * is subscribed again on the new connection. Also flushes publishes that failed meanwhile.
   */
  private watchClusterSubscriber(cluster: Cluster): void {
    const current = () =>
      (cluster as unknown as { subscriber?: { getInstance(): unknown } }).subscriber?.getInstance() ?? null;
    let seen = current();
    this.subscriberWatch = setInterval(() => {
      const now = current();
      if (now !== seen) {
        seen = now;
        this.log('bus: the cluster moved the subscription to another node; will catch up from the store');
        this.connectionLost();
      }
      if (!this.subscribed) void this.resume();
      // A publish that failed on a node that died (the Cluster staying 'ready') waits in the backlog,
      // and every later one queues behind it: 'ready' will not fire again to flush it, so flush here.
      else if (this.backlog.length > 0 && this.pub.status === 'ready') this.flushBacklog();
    }, redisLimits.clusterSubscriberCheckMs);
    this.subscriberWatch.unref();
  }

  publish(event: BusEvent): void {
    const text = JSON.stringify(event);
    if (this.pub.status !== 'ready' || this.backlog.length > 0 || this.flushing) {
      this.keep(text);
      return;
    }
    this.send(text).catch(() => this.failed(text));
  }

  problem(): string | null {
    if (this.pub.status !== 'ready' || this.sub.status !== 'ready')
      return `Redis bus disconnected (publisher ${this.pub.status}, subscriber ${this.sub.status})`;
    if (!this.subscribed) return 'Redis bus not subscribed yet';
    return null;
  }

  async close(): Promise<void> {
    this.closing = true;
    this.liveness.stop();
    if (this.subscriberWatch !== null) clearInterval(this.subscriberWatch);
    if (this.retry !== null) clearTimeout(this.retry);
    await Promise.all(
      [this.pub, this.sub].map(async (redis) => {
        if (redis.status === 'ready') await redis.quit().catch(() => undefined);
        redis.disconnect();
      }),
    );
  }

  private deliver(text: string): void {
    let event: BusEvent;
    try {
      event = JSON.parse(text) as BusEvent;
    } catch {
      this.log(`bus: dropped an event that is not JSON (${text.slice(0, 80)})`);
      return;
    }
    this.feed({ type: 'bus', event });
  }

  private connectionLost(): void {
    if (this.closing) return;
    if (!this.lost && this.subscribed)
      this.log('bus: lost Redis; will catch up from the store when it is back');
    // The node holds welcomes until it has caught up: its cursors may fall behind meanwhile.
    if (this.subscribed) this.feed({ type: 'bus-lost' });
    this.lost = this.subscribed || this.lost;
    this.subscribed = false;
  }

  /** Both connections up: subscribe, send what waited, and catch up if anything may have been missed. */
  private async resume(): Promise<void> {
    if (this.closing || this.pub.status !== 'ready' || this.sub.status !== 'ready' || this.subscribed) return;
    try {
      await this.sub.subscribe(this.channel);
    } catch {
      return; // Dropped again; the next 'ready' tries again.
    }
    if (this.subscribed) return;
    this.subscribed = true;
    this.flushBacklog();
    this.firstSubscribe?.();
    this.firstSubscribe = null;
    if (!this.lost) return;
    this.lost = false;
    this.log('bus: Redis is back; catching up from the store');
    this.feed({ type: 'bus-resumed' });
  }

  private keep(text: string): void {
    this.backlog.push(text);
    if (this.backlog.length > redisLimits.busBacklogMax) {
      this.backlog.shift();
      // Lost for good: the flush that empties the backlog ends with `events-dropped`, so the others read the store.
      if (this.backlogDropped++ === 0)
        this.log('bus: backlog full while Redis is away; dropping the oldest events');
    }
  }

  /**
   * Publishes the backlog in order, pipelined on the one connection; from the first that fails on,
   * the rest go back to the front (those after it that went through go out twice) and are tried
   * again: a later event never ends up before an earlier one (an `online` republished after the
   * `offline` that followed it would leave the user online for good). Events published meanwhile wait.
   */
  private flushBacklog(): void {
    if (this.flushing || this.backlog.length === 0) return;
    const waiting = this.backlog;
    this.backlog = [];
    if (this.backlogDropped > 0) {
      const notice: BusEvent = { kind: 'events-dropped', origin: this.nodeId };
      waiting.push(JSON.stringify(notice));
    }
    this.backlogDropped = 0;
    this.flushing = true;
    void Promise.allSettled(waiting.map((text) => this.send(text))).then((results) => {
      this.flushing = false;
      const first = results.findIndex((result) => result.status === 'rejected');
      if (first >= 0) {
        const again = waiting.slice(first);
        for (const text of this.backlog) again.push(text);
        this.backlog = [];
        for (const text of again) this.keep(text);
        this.retryLater();
      } else if (this.backlog.length > 0 && this.pub.status === 'ready') this.flushBacklog();
    });
  }

  /**
   * A PUBLISH failed. Kept, and every later event queues behind it; a lost connection flushes on its
   * 'ready', but a connection that stayed up fires no 'ready' again: a command that timed out (ioredis'
   * commandTimeout, which fires first when a node's loop wakes from a stall longer than it, even if
   * Redis answered) left the node publishing nothing until Redis next dropped it: no message, receipt
   * or presence of its users reached the fleet (other nodes would answer `watch` for them with
   * "offline, never seen"). Tried again here;
   * an event Redis did take goes out twice, which receivers tolerate (cursors and presence counts are
   * absolute; a message pushed again is allowed by protocol.md and dropped by clients).
   */
  private failed(text: string): void {
    this.keep(text);
    this.retryLater();
  }

  private retryLater(): void {
    if (this.retry !== null || this.closing) return;
    this.retry = setTimeout(() => {
      this.retry = null;
      // Not ready or not subscribed: `resume` flushes once both connections are back.
      if (this.pub.status === 'ready' && this.subscribed && this.backlog.length > 0) this.flushBacklog();
    }, redisLimits.publishRetryMs);
    this.retry.unref();
  }

  private send(text: string): Promise<unknown> {
    return this.pub instanceof Cluster
      ? this.pub.eval(clusterPublishScript, 1, this.channel, text)
      : this.pub.publish(this.channel, text);
  }
}

/**
 * A Cluster connects to a node only when a command first goes there, and the commands that wait for
 * that connection can reach the server out of order with those sent just after it (a few in 600
 * published at once, in a test): connected at start, the channel slot's master, and the replica that
 * may replace it, carry every event in order from the first.
 */
async function connectEveryNode(cluster: Cluster): Promise<void> {
  await Promise.all(
    cluster
      .nodes('all')
      .map((node) => (node.status === 'wait' ? node.connect().catch(() => undefined) : null)),
  );
}
