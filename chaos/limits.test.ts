// The proxy's buffers are bounded: when the receiver stops reading, the proxy stops reading from the
// sender (so a slow consumer pushes back on the server, as through a real network), holding no more
// than the named bounds in its chain.

import { once } from 'node:events';
import { describe, expect, it } from 'vitest';
import { openThrough, pause } from '../test-support/proxy-connection.ts';
import { freshToxic, toxicBody, useHarness } from '../test-support/proxy-harness.ts';
import { chaosLimits } from './limits.ts';

const harness = useHarness();

describe('chaosLimits', () => {
  it('a receiver that does not read makes the proxy stop reading; its queues stay within bounds', async () => {
    await freshToxic(harness(), toxicBody('latency', 'downstream', { latency: 1, jitter: 0 }));
    const { client, server, close } = await openThrough(harness());
    client.socket.pause();
    const block = Buffer.alloc(64 * 1024, 1);
    let written = 0;
    // Write until the server's socket stays full: the proxy has stopped taking data.
    for (;;) {
      written += block.length;
      if (written > 256 * 1024 * 1024) break;
      if (server.socket.write(block)) continue;
      const drained = await Promise.race([
        once(server.socket, 'drain').then(() => true),
        pause(500).then(() => false),
      ]);
      if (!drained) break;
    }
    const proxy = harness().server.api.proxies.get(harness().proxyName)!;
    const [connection] = proxy.toxics.connections;
    const [head, lag] = connection!.links.downstream.stubs;
    expect(head!.queue.length).toBeLessThanOrEqual(chaosLimits.stubQueueChunks + 1);
    expect(lag!.queue.length).toBeLessThanOrEqual(chaosLimits.latencyQueueChunks + 1);
    expect(written).toBeLessThan(256 * 1024 * 1024);
    close();
  });
});
