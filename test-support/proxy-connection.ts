// An open connection through a harness proxy, both ends recorded, for toxic tests that watch one
// connection closely (timing, closes, resets).

import { expect } from 'vitest';
import type { Harness } from './proxy-harness.ts';
import { connectTo, type Received } from './tcp-fixture.ts';

export type ProxyConnection = { client: Received; server: Received; close(): void };

export async function openThrough(harness: Harness): Promise<ProxyConnection> {
  const index = harness.upstream.accepted.length;
  const client = await connectTo(harness.listen);
  const server = await harness.upstream.connection(index);
  client.socket.on('error', () => {});
  server.socket.on('error', () => {});
  return {
    client,
    server,
    close: () => {
      client.socket.destroy();
      server.socket.destroy();
    },
  };
}

/** performance.now() once `received` holds at least `bytes` bytes. */
export async function arrival(received: Received, bytes: number): Promise<number> {
  await expect
    .poll(() => received.bytes().length, { timeout: 20_000, interval: 2 })
    .toBeGreaterThanOrEqual(bytes);
  return performance.now();
}

export const pause = (ms: number) => new Promise((resolve) => setTimeout(resolve, ms));
