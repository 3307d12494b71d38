// The MessageStore on Redis, shared by every node of a fleet. Each operation is one Lua script
// (redis-scripts.ts), so seq, idempotency and membership are decided atomically on the server by the
// same rules as StoreState, whichever node asks. An ack is durable only if Redis fsyncs its AOF before
// it replies (`appendonly yes`, `appendfsync always`): `open` checks that and refuses otherwise.
//
// Layout, per conversation, all keys under one hash tag `{conv}` so a Redis Cluster keeps a
// conversation on one shard and its scripts stay single-slot:
// - `{conv}:meta` hash (kind, lastSeq), `{conv}:members` and `{conv}:cursors` hashes, `{conv}:index`
//   hash of idempotency keys;
// - `{conv}:msgs` a *stream* with entry id `seq-0`. A stream over a list or a sorted set because reads
//   are by seq range: XRANGE from `after+1` is O(log n + page) wherever the page lies, where LRANGE is
//   O(distance from an end) and a sorted set stores a score and a skiplist node per message. XADD also
//   refuses an id not above the last one, a server-side guard that seqs only grow. Streams are
//   compact radix trees of listpacks, so a long history costs little memory.
// - `convs`, a set of conversation ids, only so `open` can list them. It sits in another slot than the
//   conversation, so `createConversation` adds the id first and runs the create script second: a crash
//   between the two leaves a listed id without a conversation, which `open` skips.

import { Cluster, Redis, type RedisOptions } from 'ioredis';
import type { ConvId, Message, UserId } from '../protocol/frames.ts';
import { defaultStoreLimits } from './limits.ts';
import {
  type AppendRequest,
  type AppendResult,
  type ConversationKind,
  type ConversationRecord,
  type CreateRequest,
  type CreateResult,
  type CursorRequest,
  type CursorResult,
  type Cursors,
  type MembershipSpan,
  type MembersRequest,
  type MembersResult,
  type MessageStore,
  type ReadRequest,
  type ReadResult,
  StoreUnavailableError,
} from './message-store.ts';
import { checkRedisDurability } from './redis-durability.ts';
import { redisConnectionOptions, redisLimits } from './redis-limits.ts';
import { redisScripts } from './redis-scripts.ts';
import { parseSpans } from './span-text.ts';

export type RedisStoreOptions = {
  /** redis://[user:password@]host:port[/db]; with `cluster`, unused. */
  url: string;
  /** Seed nodes of a Redis Cluster: the store then talks to it through ioredis `Cluster`. */
  cluster?: { host: string; port: number }[];
  /** Prefix of every key, so stores (tests, fleets) can share one Redis. Default 'chatsim:'. */
  prefix?: string;
  /** Accept a Redis that does not fsync every write (acks are then not durable). Default false. */
  allowUnsafe?: boolean;
  /** Told once at open when `allowUnsafe` let a non-durable Redis through. */
  warn?: (line: string) => void;
  readMessagesMax?: number;
  /** ioredis options that override the store's (tests: shorter timeouts). */
  connection?: Partial<RedisOptions>;
  /**
   * `WAIT replicas timeoutMs` after every write, in the same pipeline: a write acknowledged by fewer
   * replicas in time is answered as unavailable (the client retries; the retry waits again). Redis
   * replication is asynchronous, so without it a failover can lose acked writes that reached only
   * the old master. Off by default (docs/benchmarks.md has what it costs).
   */
  waitReplicas?: { replicas: number; timeoutMs: number };
};

/** In unicode mode a paired surrogate is one code point, so this matches only lone ones. */
const loneSurrogate = /\p{Cs}/u;

type ScriptName = keyof typeof redisScripts;
type ScriptCall = (...args: (string | number)[]) => Promise<unknown>;
type Reply = (string | number | Reply)[];

export class RedisStore implements MessageStore {
  readonly redis: Redis | Cluster;
  private readonly prefix: string;
  private readonly readMessagesMax: number;
  private readonly options: RedisStoreOptions;

  constructor(options: RedisStoreOptions) {
    this.options = options;
    this.prefix = options.prefix ?? 'chatsim:';
    this.readMessagesMax = options.readMessagesMax ?? defaultStoreLimits.readMessagesMax;
    this.redis = options.cluster
      ? new Cluster(options.cluster, {
          lazyConnect: true,
          enableOfflineQueue: false,
          scaleReads: 'master',
          clusterRetryStrategy: redisConnectionOptions.retryStrategy!,
          redisOptions: { ...redisConnectionOptions, ...options.connection },
        })
      : new Redis(options.url, { ...redisConnectionOptions, ...options.connection });
    // Errors surface on each command as a rejection (answered `unavailable`); without a listener
    // ioredis would print every reconnect failure as an unhandled 'error' event.
    this.redis.on('error', () => {});
    for (const [name, script] of Object.entries(redisScripts))
      this.redis.defineCommand(name, { numberOfKeys: script.keys, lua: script.lua });
  }

  async open(): Promise<ConversationRecord[]> {
    if (this.redis.status === 'wait' || this.redis.status === 'end') await this.redis.connect();
    const problem = await checkRedisDurability(this.redis);
    if (problem !== null) {
      if (!this.options.allowUnsafe) throw problem;
      this.options.warn?.(
        `WARNING: ${problem.detail}; running anyway (--redis-allow-unsafe): acks are NOT durable, a Redis crash may lose acknowledged messages`,
      );
    }
    return this.conversations();
  }

  async conversations(only?: readonly ConvId[]): Promise<ConversationRecord[]> {
    const out: ConversationRecord[] = [];
    if (only !== undefined) {
      const replies = await Promise.all(only.map((id) => this.call('chatsimRecord', ...this.convKeys(id))));
      only.forEach((id, i) => {
        const [status, record] = replies[i] as [string, Reply];
        if (status === 'ok') out.push(parseRecord(id, record));
      });
      return out;
    }
    let cursor = '0';
    do {
      const [next, ids] = await this.redis.sscan(this.key('convs'), cursor, 'COUNT', redisLimits.scanCount);
      cursor = next;
      // One call per conversation, all in flight at once: a pipeline would have to stay in one slot
      // of a cluster, and each conversation has its own.
      const replies = await Promise.all(ids.map((id) => this.call('chatsimRecord', ...this.convKeys(id))));
      ids.forEach((id, i) => {
        const [status, record] = replies[i] as [string, Reply];
        if (status === 'ok') out.push(parseRecord(id, record));
      });
    } while (cursor !== '0');
    return out;
  }

  async append(request: AppendRequest): Promise<AppendResult> {
    const { conv, from, cmid, body, ts } = request;
    const wellFormed = !loneSurrogate.test(body);
    const reply = (await this.call(
      'chatsimAppend',
      this.key(`{${conv}}:meta`),
      this.key(`{${conv}}:members`),
      this.key(`{${conv}}:index`),
      this.key(`{${conv}}:msgs`),
      from,
      cmid,
      ts,
      wellFormed ? 'b' : 'j',
      wellFormed ? body : JSON.stringify(body),
    )) as Reply;
    switch (reply[0]) {
      case 'ok':
        return { status: 'ok', seq: Number(reply[1]), ts, duplicate: false, ...membersVersion(reply[2]) };
      case 'duplicate': {
        const [seq, originalTs] = String(reply[1]).split(':');
        return {
          status: 'ok',
          seq: Number(seq),
          ts: Number(originalTs),
          duplicate: true,
          ...membersVersion(reply[2]),
        };
      }
      case 'forbidden':
        return { status: 'forbidden' };
      default:
        return { status: 'not_found' };
    }
  }

  async read(request: ReadRequest): Promise<ReadResult> {
    const { conv } = request;
    const count = Math.min(request.limit, this.readMessagesMax);
    const reply = (await this.call(
      'chatsimRead',
      this.key(`{${conv}}:meta`),
      this.key(`{${conv}}:msgs`),
      Math.max(0, request.after) + 1,
      count,
    )) as Reply;
    if (reply[0] !== 'ok') return { status: 'not_found' };
    const entries = reply[2] as [string, string[]][];
    const messages: Message[] = entries.map(([id, fields]) => ({
      conv,
      seq: Number.parseInt(id, 10),
      from: fields[1]!,
      cmid: fields[3]!,
      body: fields[6] === 'b' ? fields[7]! : (JSON.parse(fields[7]!) as string),
      ts: Number(fields[5]),
    }));
    return { status: 'ok', messages, lastSeq: Number(reply[1]), ...membersVersion(reply[3]) };
  }

  async createConversation(request: CreateRequest): Promise<CreateResult> {
    await this.redis.sadd(this.key('convs'), request.id);
    const reply = (await this.call(
      'chatsimCreate',
      ...this.convKeys(request.id),
      request.kind,
      ...request.members,
    )) as Reply;
    const conversation = parseRecord(request.id, reply[1] as Reply);
    return { status: reply[0] as 'created' | 'exists' | 'conflict', conversation };
  }

  async changeMembers(request: MembersRequest): Promise<MembersResult> {
    const reply = (await this.call(
      'chatsimMembers',
      ...this.convKeys(request.conv),
      request.remove.length,
      ...request.remove,
      ...request.add,
    )) as Reply;
    if (reply[0] === 'ok')
      return { status: 'ok', conversation: parseRecord(request.conv, reply[1] as Reply) };
    return { status: reply[0] as 'not_found' | 'conflict' };
  }

  async advanceCursor(request: CursorRequest): Promise<CursorResult> {
    const reply = (await this.call(
      'chatsimCursor',
      ...this.convKeys(request.conv),
      request.user,
      request.kind,
      request.seq,
    )) as Reply;
    if (reply[0] === 'ok') return { status: 'ok', seq: Number(reply[1]), moved: Number(reply[2]) === 1 };
    return { status: reply[0] as 'not_found' | 'forbidden' };
  }

  async ping(): Promise<void> {
    await this.redis.ping();
  }

  async close(): Promise<void> {
    if (this.redis.status === 'ready') await this.redis.quit().catch(() => undefined);
    this.redis.disconnect();
  }

  private key(suffix: string): string {
    return this.prefix + suffix;
  }

  private convKeys(conv: ConvId): [string, string, string] {
    return [this.key(`{${conv}}:meta`), this.key(`{${conv}}:members`), this.key(`{${conv}}:cursors`)];
  }

  private call(name: ScriptName, ...args: (string | number)[]): Promise<unknown> {
    const wait = this.options.waitReplicas;
    if (wait === undefined || name === 'chatsimRead' || name === 'chatsimRecord')
      return (this.redis as unknown as Record<ScriptName, ScriptCall>)[name](...args);
    return this.callAndWait(name, args, wait);
  }

  /** The script then WAIT on the same connection (a cluster sends both to the slot's master). */
  private async callAndWait(
    name: ScriptName,
    args: (string | number)[],
    wait: { replicas: number; timeoutMs: number },
  ): Promise<unknown> {
    const pipeline = this.redis.pipeline() as unknown as Record<ScriptName, ScriptCall> & {
      wait(replicas: number, timeoutMs: number): unknown;
      exec(): Promise<[Error | null, unknown][] | null>;
    };
    pipeline[name](...args);
    pipeline.wait(wait.replicas, wait.timeoutMs);
    const results = await pipeline.exec();
    const [script, acked] = results ?? [];
    if (script === undefined || acked === undefined)
      throw new StoreUnavailableError('redis: pipeline answered nothing');
    if (script[0]) throw script[0];
    if (acked[0]) throw acked[0];
    if (Number(acked[1]) < wait.replicas)
      throw new StoreUnavailableError(
        `redis: write reached ${acked[1]} of ${wait.replicas} replicas within ${wait.timeoutMs} ms (WAIT); not acknowledged`,
      );
    return script[1];
  }
}

/** [kind, lastSeq, members flat, cursors flat] -> a record with null-prototype maps. */
function parseRecord(id: ConvId, reply: Reply): ConversationRecord {
  const [kind, lastSeq, membersFlat, cursorsFlat] = reply as [string, string, string[], string[]];
  const members: Record<UserId, MembershipSpan[]> = Object.create(null);
  for (let i = 0; i < membersFlat.length; i += 2) members[membersFlat[i]!] = parseSpans(membersFlat[i + 1]!);
  const cursors: Record<UserId, Cursors> = Object.create(null);
  for (let i = 0; i < cursorsFlat.length; i += 2) {
    const [delivered, read] = cursorsFlat[i + 1]!.split(':');
    cursors[cursorsFlat[i]!] = { delivered: Number(delivered), read: Number(read) };
  }
  return { id, kind: kind as ConversationKind, lastSeq: Number(lastSeq), members, cursors };
}

/** The script's `mv` (nil from Lua arrives as null): absent for conversations created before it existed. */
function membersVersion(value: unknown): { membersVersion?: number } {
  return value === null || value === undefined ? {} : { membersVersion: Number(value) };
}
