// Toxiproxy's latency toxic: every byte arrives in order whatever the chunking and the churn; each
// chunk arrives about `latency` after it was sent (measured with generous tolerances, never tight);
// removing it releases what it holds at once, in order.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrival, openThrough } from '../../test-support/proxy-connection.ts';
import { freshToxic, keepsEveryByte, toxicBody, useHarness } from '../../test-support/proxy-harness.ts';

const harness = useHarness();
const latencyToxic = (name: string, stream: 'upstream' | 'downstream', latency: number, jitter = 0) =>
  toxicBody('latency', stream, { latency, jitter }, { name });

describe('latency', () => {
  keepsEveryByte(
    harness,
    (stream) => fc.integer({ min: 0, max: 30 }).map((latency) => latencyToxic('lag', stream, latency, 5)),
    { removeHalfway: true },
  );

  it('delays each chunk by about the latency, measured from when it was sent', async () => {
    await freshToxic(harness(), latencyToxic('lag', 'upstream', 200));
    const { client, server, close } = await openThrough(harness());
    const delays: number[] = [];
    for (let i = 1; i <= 3; i++) {
      const sent = performance.now();
      client.socket.write('x');
      delays.push((await arrival(server, i)) - sent);
    }
    close();
    // At least the latency less a timer's slack; the upper bound is loose on purpose (a loaded box).
    for (const delay of delays) expect(delay).toBeGreaterThanOrEqual(190);
    for (const delay of delays) expect(delay).toBeLessThan(5_000);
  });

  it('jitter spreads delays within latency ± jitter; two latency toxics add up', async () => {
    const proxy = await freshToxic(harness(), latencyToxic('a', 'downstream', 150, 100)).then(() =>
      harness().client.get(harness().proxyName),
    );
    await proxy.addToxic(latencyToxic('b', 'downstream', 150) as never);
    const { client, server, close } = await openThrough(harness());
    for (let i = 1; i <= 4; i++) {
      const sent = performance.now();
      server.socket.write('y');
      const delay = (await arrival(client, i)) - sent;
      expect(delay).toBeGreaterThanOrEqual(150 - 100 + 150 - 10);
      expect(delay).toBeLessThan(5_000);
    }
    close();
  });

  it('removing the toxic releases every chunk it holds at once, in order', async () => {
    const toxic = await freshToxic(harness(), latencyToxic('long', 'upstream', 60_000));
    const { client, server, close } = await openThrough(harness());
    const parts = ['one,', 'two,', 'three,', 'four,', 'five'];
    for (const part of parts) {
      client.socket.write(part);
      await new Promise((resolve) => setTimeout(resolve, 20));
    }
    expect(server.bytes().length).toBe(0);
    await toxic.remove();
    await arrival(server, parts.join('').length);
    expect(server.bytes().toString()).toBe(parts.join(''));
    close();
  });

  it('an update applies to open connections and lets the held chunk go', async () => {
    const toxic = await freshToxic(harness(), latencyToxic('long', 'downstream', 60_000));
    const { client, server, close } = await openThrough(harness());
    server.socket.write('held');
    await new Promise((resolve) => setTimeout(resolve, 50));
    await toxic.update({ ...toxic.toJson(), attributes: { latency: 0, jitter: 0 } });
    await arrival(client, 4);
    server.socket.write('+fast');
    await arrival(client, 9);
    expect(client.bytes().toString()).toBe('held+fast');
    close();
  });
});
