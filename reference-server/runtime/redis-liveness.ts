// Which nodes of the fleet are alive, kept in Redis: each node heartbeats its id into one sorted set,
// scored by Redis's own clock (so node clocks cannot disagree), and reads everyone's score back in
// the same script. A node whose heartbeat is older than the TTL is taken for dead: its connections are
// gone (it was killed, or it lost Redis), so its users go offline for watchers on every other node.
// One that reappears is asked, like everyone, for its presence again.
//
// A node judges only after it has itself beaten without a miss for a whole TTL. While Redis is away
// nobody can beat, so right after it returns (restarted from its AOF) every score is as old as the
// outage: the first node back would take every live node for dead, tell its watchers their users went
// offline at that moment, and die with that claim if it crashed before its next snapshot. Its watchers,
// moved to a node that never judged, then saw lastSeen go back (`live redis-fleet --seed 1 --nodes 3`
// at load 10: 17 devices, a Redis outage stretched past the 5 s TTL by its restart, then a node crash).
// A stall is a miss too: Redis that stops answering for a while without dropping the connection (a slow
// fsync of its AOF, a SIGSTOP) runs every queued beat at once when it wakes, and the first of them saw
// the others' scores as old as the stall: a 4.8 s stall of a three-node fleet's Redis took live nodes
// for dead, their users offline, in three stalls out of five. A gap between two of this node's own beats,
// in Redis's time, longer than `heartbeatGapMissIntervals` beats counts as a miss.

import type { Cluster, Redis } from 'ioredis';
import type { Input } from '../core/inputs.ts';
import { redisLimits } from '../store/redis-limits.ts';

/** KEYS nodes; ARGV nodeId forgetMs. Answers Redis's time in ms and every [node, last heartbeat]. */
const heartbeatScript = `
local time = redis.call('TIME')
local now = tonumber(time[1]) * 1000 + math.floor(tonumber(time[2]) / 1000)
redis.call('ZADD', KEYS[1], now, ARGV[1])
redis.call('ZREMRANGEBYSCORE', KEYS[1], '-inf', now - tonumber(ARGV[2]))
return {now, redis.call('ZRANGE', KEYS[1], 0, -1, 'WITHSCORES')}
`;

export type RedisLivenessOptions = {
  redis: Redis | Cluster;
  key: string;
  ttlMs: number;
  /** Told when a node is taken for dead and when one comes back (an operator's log). */
  log?: (line: string) => void;
};

export class RedisLiveness {
  private timer: NodeJS.Timeout | null = null;
  private nodeId = '';
  private feed: (input: Input) => void = () => {};
  private alive = new Set<string>();
  private readonly dead = new Set<string>();
  private running = false;
  /** Redis time of this node's first beat since it last missed one (null: missed the latest). */
  private beatingSince: number | null = null;
  /** Redis time of this node's latest beat. */
  private lastBeatAt: number | null = null;
  private intervalMs = 0;

  constructor(private readonly options: RedisLivenessOptions) {}

  start(nodeId: string, feed: (input: Input) => void): void {
    this.nodeId = nodeId;
    this.feed = feed;
    this.intervalMs = Math.max(1, Math.floor(this.options.ttlMs / redisLimits.heartbeatsPerTtl));
    this.timer = setInterval(() => void this.beat(), this.intervalMs);
    this.timer.unref();
    void this.beat();
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  private async beat(): Promise<void> {
    if (this.running) return;
    if (this.options.redis.status !== 'ready') {
      this.beatingSince = null;
      return;
    }
    this.running = true;
    try {
      const forgetMs = this.options.ttlMs * redisLimits.deadNodeForgetTtls;
      const [now, flat] = (await this.options.redis.eval(
        heartbeatScript,
        1,
        this.options.key,
        this.nodeId,
        forgetMs,
      )) as [number, string[]];
      this.judge(Number(now), flat);
    } catch {
      // Redis away: nobody can be judged now; the bus reports the outage and catches up after it.
      this.beatingSince = null;
    } finally {
      this.running = false;
    }
  }

  private judge(now: number, flat: string[]): void {
    const stalled =
      this.lastBeatAt !== null &&
      now - this.lastBeatAt > this.intervalMs * redisLimits.heartbeatGapMissIntervals;
    this.lastBeatAt = now;
    if (stalled) this.beatingSince = null;
    this.beatingSince ??= now;
    // Until then a silent node keeps the standing it had: it may not have had Redis to beat into.
    const judging = now - this.beatingSince >= this.options.ttlMs;
    const alive = judging ? new Set<string>() : new Set(this.alive);
    for (let i = 0; i < flat.length; i += 2) {
      const node = flat[i]!;
      if (node !== this.nodeId && now - Number(flat[i + 1]) < this.options.ttlMs) alive.add(node);
    }
    for (const node of this.alive) {
      if (alive.has(node)) continue;
      this.dead.add(node);
      const last = lastBeat(flat, node);
      this.options.log?.(
        `bus: node ${node} taken for dead: ${last === null ? 'no heartbeat' : `last heartbeat ${now - last} ms ago`} (TTL ${this.options.ttlMs} ms); its users go offline here`,
      );
      this.feed({ type: 'bus', event: { kind: 'node-down', origin: node } });
    }
    for (const node of alive) {
      if (!this.dead.delete(node)) continue;
      this.options.log?.(`bus: node ${node} is back; asking every node for its presence again`);
      this.feed({ type: 'presence-resync' });
    }
    this.alive = alive;
  }
}

/** A node's last heartbeat in the script's flat [node, score, ...] answer (null: forgotten). */
function lastBeat(flat: readonly string[], node: string): number | null {
  for (let i = 0; i < flat.length; i += 2) if (flat[i] === node) return Number(flat[i + 1]);
  return null;
}
