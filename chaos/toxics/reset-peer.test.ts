// Toxiproxy's reset_peer toxic: the connection is cut at the first data in its direction, so what
// arrives is an exact prefix; connections accepted while the toxic was in place are reset (RST), those
// it joined later close with a plain FIN; idle connections are left alone.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { arrival, openThrough, pause } from '../../test-support/proxy-connection.ts';
import {
  chunksArbitrary,
  freshToxic,
  isPrefix,
  resetToxics,
  streamThrough,
  toxicBody,
  useHarness,
} from '../../test-support/proxy-harness.ts';

const harness = useHarness();

const resetToxic = (stream: 'upstream' | 'downstream', timeout: number) =>
  toxicBody('reset_peer', stream, { timeout }, { name: 'rst' });

describe('reset_peer', () => {
  for (const direction of ['upstream', 'downstream'] as const) {
    it(`what arrives ${direction} is an exact prefix of what was sent`, async () => {
      await fc.assert(
        fc.asyncProperty(
          chunksArbitrary(12).chain((chunks) =>
            fc.tuple(fc.constant(chunks), fc.integer({ min: 0, max: chunks.length })),
          ),
          async ([chunks, at]) => {
            await resetToxics(harness());
            const received = await streamThrough(harness(), direction, chunks, [
              { at, op: 'add', toxic: resetToxic(direction, 0) },
            ]);
            expect(isPrefix(received, Buffer.concat(chunks))).toBe(true);
          },
        ),
        { numRuns: 15 },
      );
    });
  }

  it('a connection accepted with the toxic in place reads ECONNRESET at the first data', async () => {
    await freshToxic(harness(), resetToxic('upstream', 0));
    const { client, server, close } = await openThrough(harness());
    await pause(100);
    expect(client.socket.destroyed).toBe(false);
    client.socket.write('trigger');
    expect(await client.ended).toBe('reset');
    expect(await server.ended).toBe('reset');
    expect(server.bytes().length).toBe(0);
    close();
  });

  it('added to an open connection it closes with FIN after its timeout', async () => {
    await resetToxics(harness());
    const { client, server, close } = await openThrough(harness());
    server.socket.write('before');
    await arrival(client, 6);
    const proxy = await harness().client.get(harness().proxyName);
    await proxy.addToxic(resetToxic('downstream', 200) as never);
    const sent = performance.now();
    server.socket.write('dropped');
    expect(await client.ended).toBe('eof');
    expect(performance.now() - sent).toBeGreaterThanOrEqual(180);
    expect(client.bytes().toString()).toBe('before');
    close();
  });
});
