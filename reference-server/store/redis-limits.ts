// Bounds and timeouts of the Redis adapters (store, bus, presence), in one place. A node must answer
// `unavailable` promptly while Redis is away, never queue without bound, and find Redis again alone.

import type { RedisOptions } from 'ioredis';

export const redisLimits = {
  /** A command unanswered this long is failed (the client is told `unavailable` and retries). */
  commandTimeoutMs: 5000,
  /** How long the first connection may take before `open` gives up. */
  connectTimeoutMs: 5000,
  /** Reconnect attempts back off linearly by this much, up to `reconnectDelayMsMax`, forever. */
  reconnectDelayMsStep: 50,
  reconnectDelayMsMax: 500,
  /** Conversation ids fetched per SSCAN page when listing them (and records per pipeline). */
  scanCount: 500,
  /** A node whose heartbeat is older than this is taken for dead (`serve --redis-presence-ttl-ms`). */
  presenceTtlMsDefault: 5000,
  /** Heartbeats per TTL: a live node misses a few before it is taken for dead. */
  heartbeatsPerTtl: 4,
  /**
   * Two of this node's beats further apart in Redis's time than this many beat intervals are a miss:
   * Redis (or this node) stalled, and no one could beat meanwhile, so every other score is as old as
   * the stall. The node judges again only after a whole TTL of beats without such a gap.
   */
  heartbeatGapMissIntervals: 2,
  /** Heartbeat entries older than this many TTLs are removed from the set. */
  deadNodeForgetTtls: 20,
  /** `serve --redis-wait-timeout-ms`: how long WAIT waits for replicas before the write is refused. */
  waitTimeoutMsDefault: 1000,
  /** A bus event whose PUBLISH failed while the connection stayed up is tried again after this. */
  publishRetryMs: 100,
  /** Bus events kept while Redis is away, to publish when it is back; older ones are dropped. */
  busBacklogMax: 10_000,
  /**
   * On a Redis Cluster, how often the bus checks which connection carries its subscription: ioredis
   * moves it to another node by itself when that node dies, and what was published meanwhile is lost.
   */
  clusterSubscriberCheckMs: 250,
} as const;

/**
 * ioredis options shared by every connection of a node. No offline queue and no retried commands: a
 * command issued while Redis is away fails at once (so the client hears `unavailable` instead of
 * waiting), and one in flight when the connection drops fails too instead of being resent later.
 */
export const redisConnectionOptions: RedisOptions = {
  lazyConnect: true,
  enableOfflineQueue: false,
  maxRetriesPerRequest: 0,
  autoResendUnfulfilledCommands: false,
  commandTimeout: redisLimits.commandTimeoutMs,
  connectTimeout: redisLimits.connectTimeoutMs,
  retryStrategy: (attempt) =>
    Math.min(attempt * redisLimits.reconnectDelayMsStep, redisLimits.reconnectDelayMsMax),
};
