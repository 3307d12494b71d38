// `npm run bench:history`: autocannon against the HTTP history endpoint
// (`GET /v1/conversations/:id/messages?after=S&limit=N`), the read a client pages through to catch up.
// Starts `chatsim serve` in its own process on a fresh data dir (fsync on), fills one conversation
// over WebSocket, checks that paging returns every message in order (a bench of a broken endpoint
// measures nothing), then runs each case for --seconds: the HTTP floor (`/healthz`), pages of 50 and
// 500 at offsets spread over the history, the newest page, and whole-history walks that follow the
// cursor as a client does. Any non-2xx answer or socket error fails the run (exit 1).

import { randomBytes } from 'node:crypto';
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath, pathToFileURL } from 'node:url';
import { parseArgs } from 'node:util';
import autocannon from 'autocannon';
import WebSocket from 'ws';
import { mintToken } from '../reference-server/runtime/auth.ts';
import { clientFrame, encodeClientFrame } from '../simulator/client/wire.ts';
import { raisedLimitFlags } from './chatsim-phase.ts';
import { ChildGroup } from './child-group.ts';
import { machine } from './report-table.ts';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
const listeningPattern = /chatsim: listening on (http:\/\/127\.0\.0\.1:\d+), (ws:\/\/\S+)/;
const conv = 'history';
const reader = 'reader';
const writer = 'writer';

export const historyBenchLimits = {
  serverStartTimeoutMs: 30_000,
  /** Sends in flight while filling the conversation. */
  fillWindow: 256,
  fillTimeoutMs: 300_000,
  pageLimitMax: 500,
} as const;

export type HistoryBenchOptions = {
  messages: number;
  seconds: number;
  connections: number;
  bodyBytes: number;
};

export class HistoryBenchError extends Error {
  readonly code = 'CHATSIM_ERR_BENCH_HISTORY';
}

export const historyBenchUsage = `usage: npm run bench:history -- [--messages N] [--seconds S] [--connections C] [--body-bytes B]
  --messages     messages in the conversation read (default 20000, at least 1000)
  --seconds      duration of each autocannon case (default 10)
  --connections  autocannon connections (default 20)
  --body-bytes   body size of each message (default 200)`;

export function parseHistoryBenchOptions(argv: readonly string[]): HistoryBenchOptions {
  const { values } = parseArgs({
    args: [...argv],
    options: {
      messages: { type: 'string' },
      seconds: { type: 'string' },
      connections: { type: 'string' },
      'body-bytes': { type: 'string' },
    },
    strict: true,
  });
  const problems: string[] = [];
  const int = (name: string, text: string | undefined, fallback: number, min: number, max: number) => {
    if (text === undefined) return fallback;
    const value = Number(text);
    if (!/^\d+$/.test(text) || value < min || value > max)
      problems.push(`--${name} must be an integer from ${min} to ${max}, got '${text}'`);
    return value;
  };
  const options = {
    messages: int('messages', values.messages, 20_000, 1000, 5_000_000),
    seconds: int('seconds', values.seconds, 10, 1, 3600),
    connections: int('connections', values.connections, 20, 1, 1000),
    bodyBytes: int('body-bytes', values['body-bytes'], 200, 1, 4096),
  };
  if (problems.length > 0) throw new HistoryBenchError(problems.join('; '));
  return options;
}

export type CaseFigures = {
  name: string;
  requestsPerSec: number;
  messagesPerSec: number;
  latencyMsP50: number;
  latencyMsP99: number;
  throughputMBPerSec: number;
  requests: number;
};

type Page = { messages: { seq: number }[]; lastSeq: number };

export async function historyBench(
  options: HistoryBenchOptions,
  log: (line: string) => void,
): Promise<CaseFigures[]> {
  const group = new ChildGroup();
  const dataDir = await mkdtemp(join(tmpdir(), 'chatsim-history-bench-'));
  const secret = randomBytes(32).toString('hex');
  try {
    const server = group.spawn(
      'chatsim-serve-history',
      process.execPath,
      [binPath, 'serve', '--port', '0', '--data-dir', dataDir, ...raisedLimitFlags],
      { env: { ...process.env, CHAT_JWT_SECRET: secret } },
    );
    const [, httpUrl, wsUrl] = await server.waitForLine(
      listeningPattern,
      historyBenchLimits.serverStartTimeoutMs,
    );
    const admin = await mintToken(secret, { sub: 'bench-admin', admin: true });
    const created = await fetch(`${httpUrl}/v1/admin/conversations`, {
      method: 'POST',
      headers: { authorization: `Bearer ${admin}`, 'content-type': 'application/json' },
      body: JSON.stringify({ id: conv, kind: 'direct', members: [writer, reader] }),
    });
    if (created.status !== 201) throw new HistoryBenchError(`creating ${conv}: HTTP ${created.status}`);
    log(`history bench: filling ${options.messages} messages...`);
    await fill(wsUrl!, await mintToken(secret, { sub: writer }), options);
    const token = await mintToken(secret, { sub: reader });
    await verifyPaging(httpUrl!, token, options.messages);
    const figures: CaseFigures[] = [];
    for (const benchCase of cases(options.messages)) {
      log(`history bench: ${benchCase.name}, ${options.seconds} s...`);
      figures.push(await runCase(httpUrl!, token, options, benchCase));
    }
    return figures;
  } finally {
    await group.close();
    await rm(dataDir, { recursive: true, force: true });
  }
}

type BenchCase = {
  name: string;
  /** Messages one answer carries (for messages/s); 0 for the health check. */
  messagesPerRequest: number;
  path: (context: { after?: number; n?: number }) => string;
  /** Follows the cursor from the answer (a whole-history walk). */
  walk?: boolean;
};

function cases(messages: number): BenchCase[] {
  const spread = (limit: number) => (context: { n?: number }) => {
    // Offsets stride through the history (a fixed sequence, so runs are comparable).
    context.n = ((context.n ?? 0) + 7919) % Math.max(1, messages - limit);
    return `/v1/conversations/${conv}/messages?after=${context.n}&limit=${limit}`;
  };
  return [
    { name: 'GET /healthz (HTTP floor)', messagesPerRequest: 0, path: () => '/healthz' },
    { name: 'page of 50 at spread offsets', messagesPerRequest: 50, path: spread(50) },
    { name: 'page of 500 at spread offsets', messagesPerRequest: 500, path: spread(500) },
    {
      name: 'newest page (after = lastSeq - 50)',
      messagesPerRequest: 50,
      path: () => `/v1/conversations/${conv}/messages?after=${messages - 50}&limit=500`,
    },
    {
      name: 'whole-history walk, pages of 500',
      messagesPerRequest: 500,
      path: (context) => `/v1/conversations/${conv}/messages?after=${context.after ?? 0}&limit=500`,
      walk: true,
    },
  ];
}

async function runCase(
  httpUrl: string,
  token: string,
  options: HistoryBenchOptions,
  benchCase: BenchCase,
): Promise<CaseFigures> {
  const result = await autocannon({
    url: httpUrl,
    connections: options.connections,
    duration: options.seconds,
    headers: { authorization: `Bearer ${token}` },
    requests: [
      {
        method: 'GET',
        setupRequest: (request, context) => ({
          ...request,
          path: benchCase.path(context as { after?: number }),
        }),
        ...(benchCase.walk
          ? {
              onResponse: (_status: number, body: string, context: object) => {
                const page = JSON.parse(body) as Page;
                const last = page.messages.at(-1)?.seq ?? page.lastSeq;
                (context as { after?: number }).after = last >= page.lastSeq ? 0 : last;
              },
            }
          : {}),
      },
    ],
  });
  if (result.non2xx > 0 || result.errors > 0)
    throw new HistoryBenchError(
      `${benchCase.name}: ${result.non2xx} non-2xx answers, ${result.errors} socket errors: the figures would mean nothing`,
    );
  const perSec = result.requests.average;
  return {
    name: benchCase.name,
    requestsPerSec: Math.round(perSec),
    messagesPerSec: Math.round(perSec * benchCase.messagesPerRequest),
    latencyMsP50: result.latency.p50,
    latencyMsP99: result.latency.p99,
    throughputMBPerSec: Math.round((result.throughput.average / 2 ** 20) * 10) / 10,
    requests: result.requests.total,
  };
}

/** Sends `messages` messages over one socket with a window of sends in flight; resolves when all are acked. */
function fill(wsUrl: string, token: string, options: HistoryBenchOptions): Promise<void> {
  return new Promise((resolve, reject) => {
    const ws = new WebSocket(wsUrl);
    const body = 'x'.repeat(options.bodyBytes);
    let sent = 0;
    let acked = 0;
    const timer = setTimeout(() => {
      ws.terminate();
      reject(new HistoryBenchError(`filling: only ${acked} of ${options.messages} acked in time`));
    }, historyBenchLimits.fillTimeoutMs);
    const sendMore = () => {
      while (sent < options.messages && sent - acked < historyBenchLimits.fillWindow)
        ws.send(encodeClientFrame(clientFrame.send(conv, `m${++sent}`, body)));
    };
    ws.on('open', () => ws.send(encodeClientFrame(clientFrame.hello(token))));
    ws.on('message', (data) => {
      const frame = JSON.parse(String(data)) as { t: string; code?: string; message?: string };
      if (frame.t === 'welcome') sendMore();
      else if (frame.t === 'ack') {
        if (++acked === options.messages) {
          clearTimeout(timer);
          ws.close();
          resolve();
        } else sendMore();
      } else if (frame.t === 'err') {
        clearTimeout(timer);
        ws.terminate();
        reject(new HistoryBenchError(`filling: err ${frame.code}: ${frame.message}`));
      }
    });
    ws.on('error', (error) => {
      clearTimeout(timer);
      reject(new HistoryBenchError(`filling: ${error.message}`));
    });
  });
}

/** Pages through the whole conversation once and checks every seq 1..messages comes back in order. */
async function verifyPaging(httpUrl: string, token: string, messages: number): Promise<void> {
  let expected = 1;
  for (let after = 0; ; ) {
    const response = await fetch(`${httpUrl}/v1/conversations/${conv}/messages?after=${after}&limit=500`, {
      headers: { authorization: `Bearer ${token}` },
    });
    if (response.status !== 200)
      throw new HistoryBenchError(`paging after ${after}: HTTP ${response.status}`);
    const page = (await response.json()) as Page;
    for (const message of page.messages) {
      if (message.seq !== expected)
        throw new HistoryBenchError(`paging: seq ${message.seq} where ${expected} was due`);
      expected++;
    }
    const last = page.messages.at(-1)?.seq;
    if (last === undefined || last >= page.lastSeq) break;
    after = last;
  }
  if (expected - 1 !== messages)
    throw new HistoryBenchError(`paging returned ${expected - 1} of ${messages} messages`);
}

export function formatHistoryReport(options: HistoryBenchOptions, figures: CaseFigures[]): string {
  const m = machine();
  const lines = [
    `history bench, ${new Date().toISOString()}, ${m.cpu}, ${m.cores} cores, ${m.memGiB} GiB, Node ${m.node}`,
    `${options.messages} messages of ${options.bodyBytes} B in one conversation; autocannon ${options.connections} connections, ${options.seconds} s per case`,
    '',
    '| case | requests/s | messages/s | latency p50 | latency p99 | MB/s |',
    '|---|---:|---:|---:|---:|---:|',
    ...figures.map(
      (f) =>
        `| ${f.name} | ${f.requestsPerSec} | ${f.messagesPerSec > 0 ? f.messagesPerSec : '-'} | ${f.latencyMsP50} ms | ${f.latencyMsP99} ms | ${f.throughputMBPerSec} |`,
    ),
  ];
  return lines.join('\n');
}

async function main(argv: readonly string[]): Promise<number> {
  if (argv.includes('--help')) {
    console.log(historyBenchUsage);
    return 0;
  }
  let options: HistoryBenchOptions;
  try {
    options = parseHistoryBenchOptions(argv);
  } catch (error) {
    console.error(
      `${(error as { code?: string }).code ?? 'CHATSIM_ERR_USAGE'}: ${(error as Error).message}\n${historyBenchUsage}`,
    );
    return 2;
  }
  try {
    const figures = await historyBench(options, (line) => console.error(line));
    console.log(formatHistoryReport(options, figures));
    console.log(JSON.stringify({ options, figures }));
    return 0;
  } catch (error) {
    console.error(`history bench failed: ${(error as Error).message}`);
    return 1;
  }
}

if (import.meta.url === pathToFileURL(process.argv[1] ?? '').href)
  process.exitCode = await main(process.argv.slice(2));
