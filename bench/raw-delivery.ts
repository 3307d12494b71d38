// Runs the raw delivery worker (raw-delivery-worker.ts) against a bare `ws` server of its own, both as
// child processes of `group`, and returns what the worker measured: delivery latency from the
// scheduled send time, the open rate and the idle memory of its sockets.

import { fileURLToPath } from 'node:url';
import type { ChildGroup } from './child-group.ts';
import { benchLimits } from './limits.ts';

const rawServer = fileURLToPath(new URL('./raw-ws-server.ts', import.meta.url));
const rawWorker = fileURLToPath(new URL('./raw-delivery-worker.ts', import.meta.url));

export type RawDeliveryOptions = {
  url: string;
  rooms: number;
  roomSize: number;
  ratePerSec: number;
  seconds: number;
  warmupSeconds: number;
};

export type RawDeliveryFigures = {
  connections: number;
  connectsPerSec: number;
  /** The process's memory once every socket is open (idle), for the per-socket cost. */
  openRssBytes: number;
  openHeapUsedBytes: number;
  sent: number;
  deliveries: number;
  /** Deliveries still missing after the drain (a bare broadcast server loses none). */
  missing: number;
  p50: number;
  p99: number;
  p999: number;
};

export async function runRawDelivery(
  group: ChildGroup,
  mode: 'echo' | 'broadcast',
  options: Omit<RawDeliveryOptions, 'url'>,
): Promise<RawDeliveryFigures> {
  const server = group.fork(`raw-ws-${mode}`, rawServer, [mode]);
  try {
    const [, url] = await server.waitForLine(/listening on (ws:\/\/\S+)/, benchLimits.serverStartTimeoutMs);
    const worker = group.fork('raw-delivery', rawWorker, [JSON.stringify({ ...options, url: url! })]);
    const [, json] = await worker.waitForLine(/raw-delivery: (\{.*\})/, (options.seconds + 120) * 1000);
    await group.stop(worker);
    return JSON.parse(json!) as RawDeliveryFigures;
  } finally {
    await group.stop(server);
  }
}
