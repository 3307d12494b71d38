// The chat phases on a fleet (`--nodes N`): a redis-server of the bench's own (AOF with an fsync per
// write, as the Redis store demands), N `chatsim serve --redis` nodes, clients spread round-robin over
// the nodes so the members of a conversation sit on different nodes and every push crosses Redis.
// Besides the usual figures it prints what Redis did: commands per stored message (the round trips
// a send costs) and Redis's own CPU.

import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { Redis } from 'ioredis';
import { RedisServer } from '../chaos/redis-server.ts';
import { mintToken } from '../reference-server/runtime/auth.ts';
import type { BenchOptions } from './bench-options.ts';
import {
  type ChatKind,
  type Conversation,
  clientsOf,
  createConversations,
  directConversations,
  groups,
  listeningPattern,
  raisedLimitFlags,
  waitReady,
} from './chatsim-phase.ts';
import type { Child, ChildGroup } from './child-group.ts';
import { benchLimits } from './limits.ts';
import { type PhaseFigures, planBase, runLoadPhase } from './load-phase.ts';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
const prefix = 'bench:';

type RedisSnapshot = { calls: Map<string, number>; cpuSec: number };

export async function runFleetPhase(
  group: ChildGroup,
  kind: ChatKind,
  options: BenchOptions,
): Promise<PhaseFigures> {
  const redis = await RedisServer.start();
  const admin = new Redis(redis.url, { lazyConnect: true });
  await admin.connect();
  const secret = randomBytes(32).toString('hex');
  const servers: Child[] = [];
  try {
    for (let node = 1; node <= options.nodes; node++)
      servers.push(
        group.spawn(
          `chatsim-serve-${kind}-n${node}`,
          process.execPath,
          [
            binPath,
            'serve',
            '--port',
            '0',
            '--redis',
            redis.url,
            '--redis-prefix',
            prefix,
            '--node-id',
            `n${node}`,
            ...raisedLimitFlags,
          ],
          { env: { ...process.env, CHAT_JWT_SECRET: secret } },
        ),
      );
    const addresses = await Promise.all(
      servers.map((server) => server.waitForLine(listeningPattern, benchLimits.serverStartTimeoutMs)),
    );
    const httpUrls = addresses.map((match) => match[1]!);
    const wsUrls = addresses.map((match) => match[2]!);
    await Promise.all(httpUrls.map(waitReady));
    const conversations =
      kind === 'direct' ? directConversations(options.connections) : groups(options.groupConnections);
    await createConversations(
      httpUrls[0]!,
      await mintToken(secret, { sub: 'bench-admin', admin: true }),
      conversations,
    );
    await everyNodeKnows(httpUrls, conversations, secret);
    const clients = (await clientsOf(conversations, secret)).map((client, i) => ({
      ...client,
      url: wsUrls[i % wsUrls.length]!,
    }));
    const before = await snapshot(admin);
    const figures = await runLoadPhase(
      group,
      { ...planBase(options), dialect: 'chat', url: wsUrls[0]!, clients },
      options.loadProcesses,
      servers[0]!.process.pid,
    );
    const after = await snapshot(admin);
    const stored = await storedMessages(admin, conversations);
    console.error(describeRedis(kind, options.nodes, before, after, stored));
    return figures;
  } finally {
    await Promise.all(servers.map((server) => group.stop(server)));
    admin.disconnect();
    await redis.dispose();
  }
}

/** Conversations are created on node 1; the others learn of them over the bus. */
async function everyNodeKnows(
  httpUrls: string[],
  conversations: Conversation[],
  secret: string,
): Promise<void> {
  const last = conversations[conversations.length - 1]!;
  const token = await mintToken(secret, { sub: last.members[0]! });
  for (const url of httpUrls) {
    const deadline = Date.now() + benchLimits.serverStartTimeoutMs;
    for (;;) {
      const response = await fetch(`${url}/v1/conversations/${last.id}/messages?after=0&limit=1`, {
        headers: { authorization: `Bearer ${token}` },
      });
      if (response.status === 200) break;
      if (Date.now() > deadline) throw new Error(`${url} did not learn of ${last.id} over the bus`);
      await new Promise((resolve) => setTimeout(resolve, benchLimits.readyPollIntervalMs));
    }
  }
}

async function snapshot(redis: Redis): Promise<RedisSnapshot> {
  const calls = new Map<string, number>();
  for (const line of (await redis.info('commandstats')).split('\n')) {
    const match = /^cmdstat_([^:]+):calls=(\d+)/.exec(line);
    if (match) calls.set(match[1]!, Number(match[2]));
  }
  const cpu = await redis.info('cpu');
  const field = (name: string) => Number(new RegExp(`${name}:([\\d.]+)`).exec(cpu)?.[1] ?? 0);
  return { calls, cpuSec: field('used_cpu_sys') + field('used_cpu_user') };
}

/** Every message the fleet stored: the length of each conversation's stream. */
async function storedMessages(redis: Redis, conversations: Conversation[]): Promise<number> {
  const pipeline = redis.pipeline();
  for (const conv of conversations) pipeline.xlen(`${prefix}{${conv.id}}:msgs`);
  const replies = (await pipeline.exec()) ?? [];
  return replies.reduce((sum, [, length]) => sum + Number(length ?? 0), 0);
}

function describeRedis(
  kind: ChatKind,
  nodes: number,
  before: RedisSnapshot,
  after: RedisSnapshot,
  stored: number,
): string {
  const deltas: string[] = [];
  let total = 0;
  for (const [command, calls] of after.calls) {
    const delta = calls - (before.calls.get(command) ?? 0);
    if (delta <= 0) continue;
    total += delta;
    deltas.push(`${command} ${(delta / Math.max(1, stored)).toFixed(2)}`);
  }
  return (
    `bench: chat-${kind} on ${nodes} nodes over Redis: ${stored} messages stored; Redis commands per stored message ` +
    `${(total / Math.max(1, stored)).toFixed(2)} (${deltas.join(', ')}); Redis CPU ${(after.cpuSec - before.cpuSec).toFixed(1)} s over the phase`
  );
}
