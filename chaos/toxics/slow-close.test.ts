// Toxiproxy's slow_close toxic: data passes unchanged and in order; only the close is held back.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { openThrough } from '../../test-support/proxy-connection.ts';
import { freshToxic, keepsEveryByte, toxicBody, useHarness } from '../../test-support/proxy-harness.ts';

const harness = useHarness();
const slowClose = (stream: 'upstream' | 'downstream', delay: number) =>
  toxicBody('slow_close', stream, { delay });

describe('slow_close', () => {
  keepsEveryByte(harness, (stream) =>
    fc.integer({ min: 0, max: 20 }).map((delay) => slowClose(stream, delay)),
  );

  it('holds the close back for the delay, the data not', async () => {
    await freshToxic(harness(), slowClose('downstream', 400));
    const { client, server, close } = await openThrough(harness());
    server.socket.end('bye');
    const ended = performance.now();
    expect(await client.ended).toBe('eof');
    const heldMs = performance.now() - ended;
    expect(client.bytes().toString()).toBe('bye');
    expect(heldMs).toBeGreaterThanOrEqual(380);
    close();
  });
});
