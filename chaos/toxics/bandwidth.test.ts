// Toxiproxy's bandwidth toxic: every byte arrives in order; the rate holds (measured loosely); a rate
// of 0 holds data until the toxic goes, then releases all of it.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrival, openThrough, pause } from '../../test-support/proxy-connection.ts';
import { freshToxic, keepsEveryByte, toxicBody, useHarness } from '../../test-support/proxy-harness.ts';

const harness = useHarness();
const bandwidthToxic = (stream: 'upstream' | 'downstream', rate: number) =>
  toxicBody('bandwidth', stream, { rate });

describe('bandwidth', () => {
  // Low rates hold data across the churn; the toxic leaves halfway so no run takes long.
  keepsEveryByte(
    harness,
    (stream) => fc.integer({ min: 1, max: 2_000 }).map((rate) => bandwidthToxic(stream, rate)),
    {
      removeHalfway: true,
    },
  );

  it('holds the rate: 60 KB at 100 KB/s takes about 600 ms', async () => {
    await freshToxic(harness(), bandwidthToxic('downstream', 100));
    const { client, server, close } = await openThrough(harness());
    const sent = performance.now();
    server.socket.write(Buffer.alloc(60_000, 1));
    const took = (await arrival(client, 60_000)) - sent;
    close();
    expect(took).toBeGreaterThanOrEqual(500);
    expect(took).toBeLessThan(20_000);
  });

  it('rate 0 holds everything until the toxic is removed', async () => {
    const toxic = await freshToxic(harness(), bandwidthToxic('upstream', 0));
    const { client, server, close } = await openThrough(harness());
    client.socket.write('stalled ');
    client.socket.write('then released');
    await pause(300);
    expect(server.bytes().length).toBe(0);
    await toxic.remove();
    await arrival(server, 'stalled then released'.length);
    expect(server.bytes().toString()).toBe('stalled then released');
    close();
  });
});
