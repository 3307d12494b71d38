// Toxiproxy's limit_data toxic: exactly the first `bytes` bytes pass in its direction (an exact
// prefix, cut inside a chunk if need be), then the connection closes; the count survives updates.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrival, openThrough } from '../../test-support/proxy-connection.ts';
import {
  chunksArbitrary,
  freshToxic,
  resetToxics,
  streamThrough,
  toxicBody,
  useHarness,
} from '../../test-support/proxy-harness.ts';

const harness = useHarness();

const limitToxic = (stream: 'upstream' | 'downstream', bytes: number) =>
  toxicBody('limit_data', stream, { bytes }, { name: 'limit' });

describe('limit_data', () => {
  for (const direction of ['upstream', 'downstream'] as const) {
    it(`passes exactly the first min(sent, bytes) bytes ${direction}`, async () => {
      await fc.assert(
        fc.asyncProperty(chunksArbitrary(16), fc.integer({ min: 0, max: 40_000 }), async (chunks, bytes) => {
          await resetToxics(harness());
          const sent = Buffer.concat(chunks);
          const received = await streamThrough(harness(), direction, chunks, [
            { at: 0, op: 'add', toxic: limitToxic(direction, bytes) },
          ]);
          expect(received.equals(sent.subarray(0, Math.min(sent.length, bytes)))).toBe(true);
        }),
        { numRuns: 20 },
      );
    });
  }

  it('closes as soon as the limit is reached; bytes 0 closes at the first chunk', async () => {
    const toxic = await freshToxic(harness(), limitToxic('upstream', 5));
    const first = await openThrough(harness());
    first.client.socket.write('12345');
    expect(await first.server.ended).toBe('eof');
    expect(first.server.bytes().toString()).toBe('12345');
    first.close();
    await toxic.update({ ...toxic.toJson(), attributes: { bytes: 0 } });
    const second = await openThrough(harness());
    second.client.socket.write('x');
    expect(await second.server.ended).toBe('eof');
    expect(second.server.bytes().length).toBe(0);
    second.close();
  });

  it('counts across updates of the toxic on an open connection', async () => {
    const toxic = await freshToxic(harness(), limitToxic('downstream', 10));
    const { client, server, close } = await openThrough(harness());
    server.socket.write('123456');
    await arrival(client, 6);
    await toxic.update({ ...toxic.toJson(), attributes: { bytes: 8 } });
    server.socket.write('789');
    expect(await client.ended).toBe('eof');
    expect(client.bytes().toString()).toBe('12345678');
    close();
  });
});
