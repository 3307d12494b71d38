// Toxiproxy's timeout toxic: a blackhole. What arrives is an exact prefix of what was sent (what
// crossed before the toxic came); with timeout > 0 the connection closes after that long without
// data; removing the toxic closes the connection, even where the toxicity roll chose noop.

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

const timeoutToxic = (stream: 'upstream' | 'downstream', timeout: number, toxicity = 1) =>
  toxicBody('timeout', stream, { timeout }, { name: 'blackhole', toxicity });

describe('timeout', () => {
  for (const direction of ['upstream', 'downstream'] as const) {
    it(`what arrives ${direction} is an exact prefix of what was sent`, async () => {
      await fc.assert(
        fc.asyncProperty(
          chunksArbitrary(16).chain((chunks) =>
            fc.tuple(
              fc.constant(chunks),
              fc.integer({ min: 0, max: chunks.length }),
              fc.integer({ min: 0, max: 50 }),
            ),
          ),
          async ([chunks, at, timeout]) => {
            await resetToxics(harness());
            const received = await streamThrough(harness(), direction, chunks, [
              { at, op: 'add', toxic: timeoutToxic(direction, timeout) },
              { at: chunks.length, op: 'remove', name: 'blackhole' },
            ]);
            expect(isPrefix(received, Buffer.concat(chunks))).toBe(true);
            if (at === 0) expect(received.length).toBe(0);
          },
        ),
        { numRuns: 15 },
      );
    });
  }

  it('timeout 0 drops data without closing, until removed; removal closes both ends', async () => {
    const toxic = await freshToxic(harness(), timeoutToxic('upstream', 0));
    const { client, server, close } = await openThrough(harness());
    client.socket.write('into the void');
    server.socket.write('still flows back');
    await arrival(client, 'still flows back'.length);
    await pause(200);
    expect(server.bytes().length).toBe(0);
    await toxic.remove();
    expect(await client.ended).toBe('eof');
    expect(await server.ended).toBe('eof');
    close();
  });

  it('timeout > 0 closes the connection after that long without data', async () => {
    await freshToxic(harness(), timeoutToxic('downstream', 300));
    const { client, server, close } = await openThrough(harness());
    const opened = performance.now();
    expect(await client.ended).toBe('eof');
    expect(performance.now() - opened).toBeGreaterThanOrEqual(280);
    expect(await server.ended).toBe('eof');
    close();
  });

  it('removal closes connections whose toxicity roll chose noop', async () => {
    const toxic = await freshToxic(harness(), timeoutToxic('upstream', 0, 0));
    const { client, server, close } = await openThrough(harness());
    client.socket.write('passes: toxicity 0');
    await arrival(server, 'passes: toxicity 0'.length);
    await toxic.remove();
    expect(await client.ended).toBe('eof');
    close();
  });
});
