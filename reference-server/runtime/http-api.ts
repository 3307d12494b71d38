// The HTTP side of the live server: probes and metrics answered here, everything under /v1/ handed
// to the core as an `http` input once its token is verified and its body read. Invariants: a body is
// never buffered beyond httpBodyBytesMax, and every request handed to the core is answered at most once.

import type { IncomingMessage, ServerResponse } from 'node:http';
import type { Input, Principal } from '../core/inputs.ts';
import { ErrorCode } from '../protocol/codes.ts';
import type { MessageStore } from '../store/message-store.ts';
import type { TokenVerifier } from './auth.ts';
import { runtimeLimits } from './limits.ts';
import type { ServerMetrics } from './metrics.ts';

export type HttpApiOptions = {
  feed: (input: Input) => void;
  verifier: TokenVerifier;
  store: MessageStore;
  metrics: ServerMetrics;
  isDraining: () => boolean;
  /** Why the fleet's bus is unusable now (null when it is, or for a single node); /readyz reports it. */
  busProblem?: () => string | null;
};

type Body = { ok: true; value: unknown } | { ok: false; tooLarge: true } | { ok: false; invalid: string };

export class HttpApi {
  private readonly pending = new Map<number, ServerResponse>();
  private nextReq = 1;

  constructor(private readonly options: HttpApiOptions) {}

  /** The HTTP server's `request` listener. */
  readonly handle = (req: IncomingMessage, res: ServerResponse): void => {
    this.route(req, res).catch((error: unknown) => {
      const message = error instanceof Error ? error.message : String(error);
      json(res, 500, { code: 'internal', message: `the server failed to answer: ${message}` });
    });
  };

  /** Carries out the core's `reply` effect. */
  reply(req: number, status: number, body: unknown): void {
    const res = this.pending.get(req);
    if (res === undefined) return;
    this.pending.delete(req);
    json(res, status, body);
  }

  private async route(req: IncomingMessage, res: ServerResponse): Promise<void> {
    const url = parseUrl(req.url);
    if (url === null)
      return json(res, 400, { code: ErrorCode.badRequest, message: 'unparsable request target' });
    const path = url.pathname;
    if (path.startsWith('/v1/')) return this.toCore(req, res, url);
    if (req.method === 'GET' && path === '/healthz') return json(res, 200, { status: 'ok' });
    if (req.method === 'GET' && path === '/readyz') return this.ready(res);
    if (req.method === 'GET' && path === '/metrics') {
      const { contentType, body } = await this.options.metrics.exposition();
      res.writeHead(200, { 'content-type': contentType, 'content-length': Buffer.byteLength(body) });
      res.end(body);
      return;
    }
    json(res, 404, {
      code: ErrorCode.notFound,
      message: `no route ${req.method} ${path}; the API is under /v1/, probes are /healthz, /readyz, /metrics`,
    });
  }

  private async ready(res: ServerResponse): Promise<void> {
    if (this.options.isDraining()) return json(res, 503, { status: 'draining' });
    const failure = await pingWithin(this.options.store, runtimeLimits.readyPingTimeoutMs);
    const busProblem = this.options.busProblem?.() ?? null;
    if (failure !== null) json(res, 503, { status: 'unavailable', message: `store: ${failure}` });
    else if (busProblem !== null) json(res, 503, { status: 'unavailable', message: `bus: ${busProblem}` });
    else json(res, 200, { status: 'ready' });
  }

  private async toCore(req: IncomingMessage, res: ServerResponse, url: URL): Promise<void> {
    if (this.pending.size >= runtimeLimits.httpRequestsPendingMax)
      return json(res, 503, {
        code: ErrorCode.unavailable,
        message: 'too many requests in flight; retry later',
      });
    const [principal, body] = await Promise.all([this.principalOf(req), readJsonBody(req)]);
    if (!body.ok && 'tooLarge' in body) {
      res.setHeader('connection', 'close');
      return json(res, 413, {
        code: ErrorCode.tooLarge,
        message: `request bodies are limited to ${runtimeLimits.httpBodyBytesMax} bytes`,
      });
    }
    const id = this.nextReq++;
    this.pending.set(id, res);
    res.once('close', () => this.pending.delete(id));
    this.options.feed({
      type: 'http',
      req: id,
      request: {
        method: req.method ?? 'GET',
        path: url.pathname,
        query: Object.fromEntries(url.searchParams),
        principal,
        body: body.ok ? body.value : undefined,
        ...(!body.ok && 'invalid' in body ? { bodyError: body.invalid } : {}),
      },
    });
  }

  private async principalOf(req: IncomingMessage): Promise<Principal> {
    const header = req.headers.authorization;
    if (header === undefined) return { kind: 'none' };
    const match = /^Bearer\s+(\S+)\s*$/i.exec(header);
    if (match === null) return { kind: 'invalid', reason: 'the Authorization header must be "Bearer <jwt>"' };
    const verdict = await this.options.verifier(match[1]!);
    return verdict.ok ? { kind: 'user', ...verdict.claims } : { kind: 'invalid', reason: verdict.reason };
  }
}

function parseUrl(target: string | undefined): URL | null {
  try {
    // Prefixing keeps a target like `//x/y` a path instead of a host.
    return new URL(target?.startsWith('/') ? `http://localhost${target}` : (target ?? ''));
  } catch {
    return null;
  }
}

/** Reads at most httpBodyBytesMax bytes; an empty body is `undefined`. */
function readJsonBody(req: IncomingMessage): Promise<Body> {
  const max = runtimeLimits.httpBodyBytesMax;
  const declared = Number(req.headers['content-length'] ?? 0);
  if (declared > max) {
    req.resume();
    return Promise.resolve({ ok: false, tooLarge: true });
  }
  return new Promise((resolve) => {
    const chunks: Buffer[] = [];
    let bytes = 0;
    req.on('data', (chunk: Buffer) => {
      bytes += chunk.length;
      if (bytes > max) {
        req.removeAllListeners('data');
        req.resume();
        resolve({ ok: false, tooLarge: true });
        return;
      }
      chunks.push(chunk);
    });
    req.on('error', () => resolve({ ok: false, invalid: 'the request body was cut off' }));
    req.on('end', () => {
      if (bytes === 0) return resolve({ ok: true, value: undefined });
      try {
        resolve({ ok: true, value: JSON.parse(Buffer.concat(chunks).toString('utf8')) as unknown });
      } catch (error) {
        resolve({ ok: false, invalid: `the body is not valid JSON: ${(error as Error).message}` });
      }
    });
  });
}

/** null when the store answered in time, else why not. */
async function pingWithin(store: MessageStore, timeoutMs: number): Promise<string | null> {
  let timer: NodeJS.Timeout | undefined;
  const timeout = new Promise<string>((resolve) => {
    timer = setTimeout(() => resolve(`no answer to ping within ${timeoutMs} ms`), timeoutMs);
  });
  try {
    return await Promise.race([
      store.ping().then(
        () => null,
        (error: unknown) => (error instanceof Error ? error.message : String(error)),
      ),
      timeout,
    ]);
  } finally {
    clearTimeout(timer);
  }
}

function json(res: ServerResponse, status: number, body: unknown): void {
  if (res.headersSent || res.destroyed) return;
  const text = JSON.stringify(body);
  res.writeHead(status, {
    'content-type': 'application/json; charset=utf-8',
    'content-length': Buffer.byteLength(text),
  });
  res.end(text);
}
