// The chatsim phases: start `chatsim serve` in its own process on a fresh data dir (fsync on, as an
// operator runs it) with rate limits raised out of the way, create the conversations through the
// admin HTTP API, mint a token per user, drive it with the load workers, then stop it and delete
// the data dir. 1:1 conversations measure acked sends; 50-member groups measure fan-out.

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { mintToken } from '../reference-server/runtime/auth.ts';
import type { BenchOptions } from './bench-options.ts';
import { type ChildGroup, ChildStartError } from './child-group.ts';
import { runFleetPhase } from './fleet-phase.ts';
import { scrapeFsyncFigures } from './fsync-figures.ts';
import { benchLimits } from './limits.ts';
import { groupCount, type PhaseFigures, planBase, runLoadPhase } from './load-phase.ts';
import type { ClientSpec } from './load-plan.ts';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
export const listeningPattern = /chatsim: listening on (http:\/\/127\.0\.0\.1:\d+), (ws:\/\/\S+)/;

/** High enough that the limiter never answers `rate_limited`: the bench measures throughput. */
const unlimited = String(1_000_000_000);
export const raisedLimitFlags = [
  '--user-sends-per-sec',
  unlimited,
  '--user-send-burst',
  unlimited,
  '--conn-frames-per-sec',
  unlimited,
  '--conn-frame-burst',
  unlimited,
];

export class BenchServerError extends Error {
  readonly code = 'CHATSIM_ERR_BENCH_SERVER';
}

export type ChatKind = 'direct' | 'group';
export type Conversation = { id: string; kind: ChatKind; members: string[] };

export async function runChatPhase(
  group: ChildGroup,
  kind: ChatKind,
  options: BenchOptions,
): Promise<PhaseFigures> {
  if (options.nodes > 1) return runFleetPhase(group, kind, options);
  const dataDir = await mkdtemp(join(tmpdir(), 'chatsim-bench-'));
  const secret = randomBytes(32).toString('hex');
  const server = group.spawn(
    `chatsim-serve-${kind}`,
    process.execPath,
    [binPath, 'serve', '--port', '0', '--data-dir', dataDir, ...raisedLimitFlags],
    { env: { ...process.env, CHAT_JWT_SECRET: secret } },
  );
  try {
    const [, httpUrl, wsUrl] = await server.waitForLine(listeningPattern, benchLimits.serverStartTimeoutMs);
    await waitReady(httpUrl!);
    const conversations =
      kind === 'direct' ? directConversations(options.connections) : groups(options.groupConnections);
    await createConversations(
      httpUrl!,
      await mintToken(secret, { sub: 'bench-admin', admin: true }),
      conversations,
    );
    const figures = await runLoadPhase(
      group,
      { ...planBase(options), dialect: 'chat', url: wsUrl!, clients: await clientsOf(conversations, secret) },
      options.loadProcesses,
      server.process.pid,
    );
    const fsync = await scrapeFsyncFigures(httpUrl!);
    return fsync === null ? figures : { ...figures, fsync };
  } catch (error) {
    // ChildStartError carries the output already; anything else is explained by what the server said.
    if (error instanceof Error && !(error instanceof ChildStartError))
      error.message += explain(server.outputTail());
    throw error;
  } finally {
    await group.stop(server);
    await rm(dataDir, { recursive: true, force: true });
  }
}

export function directConversations(connections: number): Conversation[] {
  return Array.from({ length: Math.max(1, Math.floor(connections / 2)) }, (_, i) => ({
    id: `d${i}`,
    kind: 'direct',
    members: [`d${i}a`, `d${i}b`],
  }));
}

export function groups(connections: number): Conversation[] {
  return Array.from({ length: groupCount(connections) }, (_, i) => ({
    id: `g${i}`,
    kind: 'group',
    members: Array.from({ length: benchLimits.groupSize }, (_, m) => `g${i}m${m}`),
  }));
}

export async function clientsOf(conversations: Conversation[], secret: string): Promise<ClientSpec[]> {
  const clients: ClientSpec[] = [];
  for (const conv of conversations) {
    for (const user of conv.members)
      clients.push({ id: user, conv: conv.id, token: await mintToken(secret, { sub: user }) });
  }
  return clients;
}

export async function waitReady(httpUrl: string): Promise<void> {
  const deadline = Date.now() + benchLimits.serverStartTimeoutMs;
  let last = 'no answer';
  while (Date.now() < deadline) {
    try {
      const response = await fetch(`${httpUrl}/readyz`);
      if (response.status === 200) return;
      last = `${response.status} ${await response.text()}`;
    } catch (error) {
      last = (error as Error).message;
    }
    await new Promise((resolve) => setTimeout(resolve, benchLimits.readyPollIntervalMs));
  }
  throw new BenchServerError(
    `${httpUrl}/readyz not 200 within ${benchLimits.serverStartTimeoutMs} ms (last: ${last})`,
  );
}

export async function createConversations(
  httpUrl: string,
  adminToken: string,
  conversations: Conversation[],
) {
  const pending = [...conversations];
  const creator = async () => {
    for (let conv = pending.shift(); conv; conv = pending.shift()) {
      const response = await fetch(`${httpUrl}/v1/admin/conversations`, {
        method: 'POST',
        headers: { authorization: `Bearer ${adminToken}`, 'content-type': 'application/json' },
        body: JSON.stringify(conv),
      });
      if (response.status !== 201 && response.status !== 200) {
        throw new BenchServerError(`creating ${conv.id}: HTTP ${response.status} ${await response.text()}`);
      }
    }
  };
  await Promise.all(Array.from({ length: benchLimits.adminConcurrency }, creator));
}

function explain(tail: string): string {
  return tail.trim() === '' ? '' : `\nchatsim serve's last output:\n${tail.trim()}`;
}
