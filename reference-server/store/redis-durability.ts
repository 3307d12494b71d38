// An ack promises durability, so a Redis store is only as good as Redis's fsync policy: only
// `appendonly yes` with `appendfsync always` writes the AOF to disk before the reply leaves Redis.
// This check runs when a node opens its store; the node refuses to start on anything weaker unless
// the operator accepts non-durable acks (`--redis-allow-unsafe`).

import { Cluster, type Redis } from 'ioredis';

export class RedisDurabilityError extends Error {
  readonly code = 'CHATSIM_ERR_REDIS_NOT_DURABLE';
  constructor(readonly detail: string) {
    super(
      `${detail}: acks would not be durable. Run Redis with 'appendonly yes' and 'appendfsync always' ` +
        `(CONFIG SET appendonly yes; CONFIG SET appendfsync always; CONFIG REWRITE), or pass --redis-allow-unsafe to accept losing acknowledged messages`,
    );
  }
}

/** The reason Redis does not fsync every write, or null when it does. */
export async function checkRedisDurability(redis: Redis | Cluster): Promise<RedisDurabilityError | null> {
  // A cluster is as durable as its weakest master (replicas are asynchronous: see the README).
  if (redis instanceof Cluster) {
    for (const master of redis.nodes('master')) {
      const problem = await checkOne(master);
      if (problem !== null)
        return new RedisDurabilityError(`${problem.detail} on ${master.options.host}:${master.options.port}`);
    }
    return null;
  }
  return checkOne(redis);
}

async function checkOne(redis: Pick<Redis, 'config'>): Promise<RedisDurabilityError | null> {
  let appendonly: string | undefined;
  let appendfsync: string | undefined;
  try {
    appendonly = configValue(await redis.config('GET', 'appendonly'));
    appendfsync = configValue(await redis.config('GET', 'appendfsync'));
  } catch (error) {
    const reason = error instanceof Error ? error.message : String(error);
    return new RedisDurabilityError(
      `cannot read Redis's persistence settings (CONFIG GET failed: ${reason})`,
    );
  }
  if (appendonly !== 'yes')
    return new RedisDurabilityError(`Redis runs with appendonly ${appendonly ?? '(unknown)'}`);
  if (appendfsync !== 'always')
    return new RedisDurabilityError(`Redis runs with appendfsync ${appendfsync ?? '(unknown)'}`);
  return null;
}

/** CONFIG GET answers [name, value] (RESP2) or {name: value} (RESP3 maps). */
function configValue(reply: unknown): string | undefined {
  if (Array.isArray(reply)) return reply[1] === undefined ? undefined : String(reply[1]);
  if (reply !== null && typeof reply === 'object') return Object.values(reply)[0] as string | undefined;
  return undefined;
}
