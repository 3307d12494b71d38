// The embedded Toxiproxy-compatible server: Toxiproxy 2.12's HTTP API (routes, middleware, status
// codes, bodies) over node:http, in front of ToxiproxyApi. The harness drives it only through
// toxiproxy-node-client, so a real Toxiproxy (TOXIPROXY_URL) can stand in for it unchanged.

import { randomBytes } from 'node:crypto';
import { createServer, type IncomingMessage, type ServerResponse } from 'node:http';
import type { AddressInfo } from 'node:net';
import { goStringify } from './go-json.ts';
import { chaosLimits } from './limits.ts';
import { ProxyMetrics } from './proxy-metrics.ts';
import { type ApiAnswer, ToxiproxyApi } from './toxiproxy-api.ts';

/** Reported by GET /version: the Toxiproxy release whose API this server speaks, and who serves it. */
export const toxiproxyVersion = '2.12.0-chatsim';

export type ToxiproxyServerOptions = {
  /** Toxiproxy's -host; `localhost` (the default) listens on 127.0.0.1 only, as Go does. */
  host?: string;
  /** Toxiproxy's -port (8474); 0 picks a free port. */
  port?: number;
  /** Toxicity rolls and jitter; Math.random unless a test needs them fixed. */
  random?: () => number;
  /** Toxiproxy's -proxy-metrics: GET /metrics serves the byte counters (404 without it). */
  proxyMetrics?: boolean;
  /** Told one line per change that succeeded (proxies, toxics, populate, reset), for game-day logs. */
  log?: (line: string) => void;
};

export type ToxiproxyServer = {
  /** e.g. http://127.0.0.1:8474, for toxiproxy-node-client. */
  url: string;
  host: string;
  port: number;
  api: ToxiproxyApi;
  /** Closes every proxy and connection, then the HTTP server. */
  close(): Promise<void>;
};

type Route = {
  /** A route that exists only when this says so (Toxiproxy registers /metrics only with metrics on). */
  optional?: (api: ToxiproxyApi) => boolean;
  pattern: RegExp;
  methods: Record<
    string,
    (api: ToxiproxyApi, params: string[], body: string) => Promise<ApiAnswer> | ApiAnswer
  >;
};

const segment = '([^/]+)';
const routes: Route[] = [
  { pattern: /^\/reset$/, methods: { POST: (api) => api.reset() } },
  {
    pattern: /^\/proxies$/,
    methods: { GET: (api) => api.listProxies(), POST: (api, _, body) => api.createProxy(body) },
  },
  { pattern: /^\/populate$/, methods: { POST: (api, _, body) => api.populate(body) } },
  {
    pattern: new RegExp(`^/proxies/${segment}$`),
    methods: {
      GET: (api, [proxy]) => api.getProxy(proxy!),
      POST: (api, [proxy], body) => api.updateProxy(proxy!, body),
      PATCH: (api, [proxy], body) => api.updateProxy(proxy!, body),
      DELETE: (api, [proxy]) => api.deleteProxy(proxy!),
    },
  },
  {
    pattern: new RegExp(`^/proxies/${segment}/toxics$`),
    methods: {
      GET: (api, [proxy]) => api.listToxics(proxy!),
      POST: (api, [proxy], body) => api.createToxic(proxy!, body),
    },
  },
  {
    pattern: new RegExp(`^/proxies/${segment}/toxics/${segment}$`),
    methods: {
      GET: (api, [proxy, toxic]) => api.getToxic(proxy!, toxic!),
      POST: (api, [proxy, toxic], body) => api.updateToxic(proxy!, toxic!, body),
      PATCH: (api, [proxy, toxic], body) => api.updateToxic(proxy!, toxic!, body),
      DELETE: (api, [proxy, toxic]) => api.deleteToxic(proxy!, toxic!),
    },
  },
  {
    pattern: /^\/metrics$/,
    methods: { GET: (api) => api.metricsText() },
    optional: (api) => api.metrics !== null,
  },
  {
    pattern: /^\/version$/,
    methods: { GET: (api) => ({ status: 200, json: { version: api.version } }) },
  },
];

export async function startToxiproxyServer(options: ToxiproxyServerOptions = {}): Promise<ToxiproxyServer> {
  const metrics = options.proxyMetrics ? new ProxyMetrics() : null;
  const api = new ToxiproxyApi(options.random ?? Math.random, toxiproxyVersion, metrics);
  const server = createServer((request, response) => {
    handle(api, request, response, options.log).catch((error: Error) => {
      if (!response.headersSent) plainText(response, 500, `${error.message}\n`);
      else response.destroy();
    });
  });
  server.requestTimeout = 15_000;
  const host = !options.host || options.host === 'localhost' ? '127.0.0.1' : options.host;
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen({ host, port: options.port ?? 8474 }, () => {
      server.off('error', reject);
      resolve();
    });
  });
  const { port, address } = server.address() as AddressInfo;
  const shownHost = address.includes(':') ? `[${address}]` : address;
  return {
    url: `http://${shownHost}:${port}`,
    host: address,
    port,
    api,
    close: async () => {
      api.stopAll();
      await new Promise<void>((resolve) => {
        server.close(() => resolve());
        server.closeAllConnections();
      });
    },
  };
}

async function handle(
  api: ToxiproxyApi,
  request: IncomingMessage,
  response: ServerResponse,
  log?: (line: string) => void,
): Promise<void> {
  const path = new URL(request.url ?? '/', 'http://x').pathname;
  const route = routes.find(
    (candidate) => candidate.pattern.test(path) && (candidate.optional?.(api) ?? true),
  );
  if (!route) return plainText(response, 404, '404 page not found\n');
  const handler = route.methods[request.method ?? ''];
  if (!handler) return plainText(response, 405, '');
  response.setHeader('X-Toxiproxy-Request-Id', randomBytes(10).toString('hex'));
  if ((request.headers['user-agent'] ?? '').startsWith('Mozilla/'))
    return plainText(response, 403, 'User agent not allowed\n');
  const body = await readBody(request);
  if (body === null) return apiError(response, 413, 'request body too large');
  const params = route.pattern.exec(path)!.slice(1).map(decodeURIComponent);
  let timer: NodeJS.Timeout | undefined;
  const timedOut = new Promise<'timeout'>((resolve) => {
    timer = setTimeout(() => resolve('timeout'), chaosLimits.apiRequestTimeoutMs);
  });
  const answer = await Promise.race([api.answer(async () => handler(api, params, body)), timedOut]);
  clearTimeout(timer);
  if (answer === 'timeout') return plainText(response, 503, '');
  send(response, answer, path === '/version');
  if (log && request.method !== 'GET' && answer.status < 300) log(changeLine(request.method!, path, answer));
}

function send(response: ServerResponse, answer: ApiAnswer, isVersion: boolean): void {
  if ('error' in answer) return apiError(response, answer.status, answer.error);
  if ('populate' in answer) {
    const { error, proxies } = answer.populate;
    const body = error === undefined ? { proxies } : { error, status: answer.status, proxies };
    response.writeHead(answer.status, { 'Content-Type': 'application/json' });
    response.end(goStringify(body));
    return;
  }
  if ('text' in answer) {
    response.writeHead(answer.status, { 'Content-Type': answer.contentType });
    response.end(answer.text);
    return;
  }
  if (!('json' in answer)) {
    response.writeHead(answer.status);
    response.end();
    return;
  }
  if (isVersion) {
    // Toxiproxy writes this one by hand: a space after the colon and a newline.
    const { version } = answer.json as { version: string };
    response.writeHead(200, { 'Content-Type': 'application/json;charset=utf-8' });
    response.end(`{"version": "${version}"}\n`);
    return;
  }
  response.writeHead(answer.status, { 'Content-Type': 'application/json' });
  response.end(goStringify(answer.json));
}

/** `POST /proxies/redis/toxics 200 {"attributes":...}`, the answer cut to a readable length. */
function changeLine(method: string, path: string, answer: ApiAnswer): string {
  const shown =
    'json' in answer ? goStringify(answer.json) : 'populate' in answer ? goStringify(answer.populate) : '';
  return `${method} ${path} ${answer.status}${shown ? ` ${shown.length > 300 ? `${shown.slice(0, 297)}...` : shown}` : ''}`;
}

/** Toxiproxy's apiError: a JSON body sent through http.Error, so it is labelled text/plain. */
function apiError(response: ServerResponse, status: number, message: string): void {
  plainText(response, status, `${goStringify({ error: message, status })}\n`);
}

function plainText(response: ServerResponse, status: number, text: string): void {
  response.writeHead(status, {
    'Content-Type': 'text/plain; charset=utf-8',
    'X-Content-Type-Options': 'nosniff',
  });
  response.end(text);
}

function readBody(request: IncomingMessage): Promise<string | null> {
  return new Promise((resolve, reject) => {
    const chunks: Buffer[] = [];
    let size = 0;
    request.on('data', (chunk: Buffer) => {
      size += chunk.length;
      if (size <= chaosLimits.apiBodyBytesMax) chunks.push(chunk);
    });
    request.on('end', () =>
      resolve(size > chaosLimits.apiBodyBytesMax ? null : Buffer.concat(chunks).toString()),
    );
    request.on('error', reject);
  });
}
