// How a live run shows its metrics: a /metrics endpoint Prometheus scrapes while the run goes on,
// and one push to a Pushgateway at the end (a scrape may miss a short run's last seconds).

import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { Pushgateway, type Registry } from 'prom-client';
import { harnessRegistry } from './harness-registry.ts';
import type { RunRecorder } from './run-recorder.ts';

export type MetricsEndpoint = { url: string; registry: Registry; close(): Promise<void> };

/** Serves GET /metrics for `recorder` on host:port (port 0: a free one; `url` says which). */
export async function startMetricsEndpoint(options: {
  recorder: RunRecorder;
  port?: number;
  host?: string;
}): Promise<MetricsEndpoint> {
  const registry = harnessRegistry(options.recorder);
  const server: Server = createServer((request, response) => {
    if (request.method !== 'GET' || (request.url ?? '').split('?')[0] !== '/metrics') {
      response.writeHead(404, { 'content-type': 'text/plain' }).end('not found: try GET /metrics\n');
      return;
    }
    registry.metrics().then(
      (body) => response.writeHead(200, { 'content-type': registry.contentType }).end(body),
      (error: Error) => response.writeHead(500, { 'content-type': 'text/plain' }).end(`${error.message}\n`),
    );
  });
  const host = options.host ?? '127.0.0.1';
  await new Promise<void>((resolve, reject) => {
    server.once('error', reject);
    server.listen(options.port ?? 0, host, () => resolve());
  });
  const { port } = server.address() as AddressInfo;
  return {
    url: `http://${host}:${port}/metrics`,
    registry,
    close: () =>
      new Promise<void>((resolve) => {
        server.closeAllConnections();
        server.close(() => resolve());
      }),
  };
}

export class PushError extends Error {
  readonly code = 'CHATSIM_ERR_PUSHGATEWAY';
}

/**
 * Pushes the run's metrics to a Pushgateway (job `chatsim`, grouped by run_id), replacing what that
 * run pushed before. Throws PushError with what to check when the gateway refuses or is unreachable.
 */
export async function pushToGateway(url: string, recorder: RunRecorder, job = 'chatsim'): Promise<void> {
  const gateway = new Pushgateway(url, { timeout: 10_000 }, harnessRegistry(recorder));
  try {
    await gateway.push({ jobName: job, groupings: { run_id: recorder.options.runId } });
  } catch (error) {
    throw new PushError(
      `could not push metrics to the Pushgateway at ${url}: ${(error as Error).message} (is it running? --pushgateway takes its base URL, e.g. http://localhost:9091)`,
    );
  }
}

/** Fails fast (before a long run) when the Pushgateway is not there to take the final push. */
export async function checkGateway(url: string): Promise<void> {
  try {
    const response = await fetch(new URL('/-/ready', url), { signal: AbortSignal.timeout(5000) });
    if (response.status !== 200) throw new Error(`GET /-/ready answered ${response.status}`);
  } catch (error) {
    throw new PushError(
      `the Pushgateway at ${url} is not ready: ${(error as Error).message} (start it, or drop --pushgateway)`,
    );
  }
}
