// Just enough of k6's JavaScript API, on Node, to run the k6 scripts' session code against a real
// server in a test (there is no k6 binary here). Each export stands in for one k6 module and follows
// its documented behaviour for what the scripts use: `k6` (check, fail), `k6/crypto` (hmac),
// `k6/encoding` (b64encode), `k6/http` (a synchronous post, as k6's is), `k6/metrics` (samples kept
// per metric), `k6/timers`, `k6/websockets` (the event-handler WebSocket, over `ws`) and
// `k6/execution`. It is not k6: the scripts' k6 behaviour is type-checked against @types/k6, and
// only their protocol logic is exercised here.

import { spawnSync } from 'node:child_process';
import { createHmac } from 'node:crypto';
import NodeWebSocket from 'ws';

export type Sample = { value: number; tags: Record<string, string> };

/** Everything the shimmed modules recorded. */
export const recorded = {
  samples: new Map<string, Sample[]>(),
  checks: [] as { name: string; ok: boolean }[],
  openSockets: new Set<NodeWebSocket>(),
  reset(): void {
    for (const samples of this.samples.values()) samples.length = 0;
    this.checks.length = 0;
  },
  values(metric: string, tags: Record<string, string> = {}): number[] {
    return (this.samples.get(metric) ?? [])
      .filter((s) => Object.entries(tags).every(([k, v]) => s.tags[k] === v))
      .map((s) => s.value);
  },
};

/** Resolves once every shimmed WebSocket has closed. */
export async function allSocketsClosed(timeoutMs: number): Promise<void> {
  const deadline = Date.now() + timeoutMs;
  while (recorded.openSockets.size > 0) {
    if (Date.now() > deadline) throw new Error(`${recorded.openSockets.size} k6 sockets still open`);
    await new Promise((resolve) => setTimeout(resolve, 20));
  }
}

export const k6 = {
  check<T>(value: T, sets: Record<string, (value: T) => boolean>): boolean {
    let all = true;
    for (const [name, predicate] of Object.entries(sets)) {
      const ok = predicate(value);
      recorded.checks.push({ name, ok });
      all &&= ok;
    }
    return all;
  },
  fail(message: string): never {
    throw new Error(`k6 fail(): ${message}`);
  },
};

export const k6Crypto = {
  default: {
    hmac(algorithm: string, secret: string, data: string, encoding: string): string {
      if (algorithm !== 'sha256' || encoding !== 'base64rawurl')
        throw new Error(`shim: hmac(${algorithm}, ..., ${encoding}) is not shimmed`);
      return createHmac('sha256', secret).update(data).digest('base64url');
    },
  },
};

export const k6Encoding = {
  default: {
    b64encode(text: string, variant: string): string {
      if (variant !== 'rawurl') throw new Error(`shim: b64encode variant ${variant} is not shimmed`);
      return Buffer.from(text, 'utf8').toString('base64url');
    },
  },
};

/** k6's http.post is synchronous; a child process makes the request so this one can block on it. */
export const k6Http = {
  default: {
    post(url: string, body: string, params: { headers?: Record<string, string> } = {}) {
      const script = `fetch(${JSON.stringify(url)}, { method: 'POST', headers: ${JSON.stringify(params.headers ?? {})}, body: ${JSON.stringify(body)} })
        .then(async (r) => process.stdout.write(JSON.stringify({ status: r.status, body: await r.text() })))
        .catch((e) => process.stdout.write(JSON.stringify({ status: 0, body: String(e) })));`;
      const child = spawnSync(process.execPath, ['-e', script], { encoding: 'utf8', timeout: 20_000 });
      return JSON.parse(child.stdout || '{"status":0,"body":"no answer"}') as {
        status: number;
        body: string;
      };
    },
  },
};

class Metric {
  constructor(readonly name: string) {
    recorded.samples.set(name, recorded.samples.get(name) ?? []);
  }

  add(value: number | boolean, tags: Record<string, string> = {}): void {
    let samples = recorded.samples.get(this.name);
    if (!samples) {
      samples = [];
      recorded.samples.set(this.name, samples);
    }
    samples.push({ value: Number(value), tags });
  }
}

export const k6Metrics = { Trend: Metric, Rate: Metric, Counter: Metric, Gauge: Metric };

export const k6Timers = { setTimeout, clearTimeout, setInterval, clearInterval };

/** k6/websockets' WebSocket: handlers as properties, `event.data` for messages. */
class K6WebSocket {
  onopen: () => void = () => {};
  onmessage: (event: { data: string }) => void = () => {};
  onclose: () => void = () => {};
  onerror: (event: { error: string }) => void = () => {};
  private readonly ws: NodeWebSocket;

  constructor(url: string) {
    this.ws = new NodeWebSocket(url);
    recorded.openSockets.add(this.ws);
    this.ws.on('open', () => this.onopen());
    this.ws.on('message', (data) => this.onmessage({ data: String(data) }));
    this.ws.on('error', (error) => this.onerror({ error: error.message }));
    this.ws.on('close', () => {
      recorded.openSockets.delete(this.ws);
      this.onclose();
    });
  }

  send(data: string): void {
    if (this.ws.readyState === NodeWebSocket.OPEN) this.ws.send(data);
  }

  close(code?: number): void {
    this.ws.close(code);
  }
}

export const k6Websockets = { WebSocket: K6WebSocket };

export const k6Execution = { default: { vu: { idInTest: 1 } } };
