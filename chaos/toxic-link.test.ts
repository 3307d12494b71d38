// Toxicity as Toxiproxy rolls it: per connection and direction when the link starts, and again when
// the toxic is updated on an open connection.

import { describe, expect, it } from 'vitest';
import { arrival, openThrough, pause } from '../test-support/proxy-connection.ts';
import { freshToxic, toxicBody, useHarness } from '../test-support/proxy-harness.ts';

const harness = useHarness();
const cutAll = (toxicity: number) =>
  toxicBody('limit_data', 'upstream', { bytes: 0 }, { name: 'cut', toxicity });

/** Opens `count` connections, sends one byte on each; how many the toxic cut. */
async function cutCount(count: number): Promise<number> {
  let cut = 0;
  for (let i = 0; i < count; i++) {
    const { client, server, close } = await openThrough(harness());
    client.socket.write('x');
    const outcome = await Promise.race([
      server.ended.then(() => 'cut'),
      arrival(server, 1).then(() => 'passed'),
    ]);
    if (outcome === 'cut' && server.bytes().length === 0) cut++;
    close();
  }
  return cut;
}

describe('toxicity', () => {
  it('0 never applies, 1 always, 0.5 to about half the connections', async () => {
    await freshToxic(harness(), cutAll(0));
    expect(await cutCount(10)).toBe(0);
    await freshToxic(harness(), cutAll(1));
    expect(await cutCount(10)).toBe(10);
    await freshToxic(harness(), cutAll(0.5));
    // Binomial(60, 0.5) falls outside 10..50 with probability below 1e-6.
    const cut = await cutCount(60);
    expect(cut).toBeGreaterThanOrEqual(10);
    expect(cut).toBeLessThanOrEqual(50);
  });

  it('is rolled again when the toxic is updated on an open connection', async () => {
    const toxic = await freshToxic(harness(), cutAll(0));
    const { client, server, close } = await openThrough(harness());
    client.socket.write('a');
    await arrival(server, 1);
    await toxic.update({ ...toxic.toJson(), toxicity: 1 });
    client.socket.write('b');
    expect(await server.ended).toBe('eof');
    await pause(10);
    expect(server.bytes().toString()).toBe('a');
    close();
  });
});

describe('backpressure', () => {
  it('a receiver that stops reading and starts again gets every byte (the writer wakes its stub on drain)', async () => {
    await freshToxic(harness(), toxicBody('noop', 'downstream', {}));
    const { client, server, close } = await openThrough(harness());
    client.socket.pause();
    const total = 32 * 1024 * 1024;
    const block = Buffer.alloc(64 * 1024);
    for (let i = 0; i < total / block.length; i++) {
      block.writeUInt32BE(i);
      server.socket.write(Buffer.from(block));
    }
    await pause(300);
    client.socket.resume();
    await arrival(client, total);
    const received = client.bytes();
    for (let i = 0; i < total / block.length; i++) expect(received.readUInt32BE(i * block.length)).toBe(i);
    close();
  });
});
