// A proxied connection closes as Toxiproxy's does: one side's close closes both sockets (no
// half-close), but only after each direction has handed on what it already carried.

import { describe, expect, it } from 'vitest';
import { arrival, openThrough } from '../test-support/proxy-connection.ts';
import { freshToxic, resetToxics, toxicBody, useHarness } from '../test-support/proxy-harness.ts';

const harness = useHarness();

describe('Connection', () => {
  it('the client closing ends the server side fully', async () => {
    await resetToxics(harness());
    const { client, server, close } = await openThrough(harness());
    client.socket.end('last words');
    expect(await server.ended).toBe('eof');
    expect(server.bytes().toString()).toBe('last words');
    expect(await client.ended).toBe('eof');
    close();
  });

  it('data still in the other direction reaches the client before the close', async () => {
    await freshToxic(harness(), toxicBody('latency', 'downstream', { latency: 300, jitter: 0 }));
    const { client, server, close } = await openThrough(harness());
    server.socket.write('in flight');
    await new Promise((resolve) => setTimeout(resolve, 20));
    client.socket.end();
    await arrival(client, 'in flight'.length);
    expect(await client.ended).toBe('eof');
    expect(client.bytes().toString()).toBe('in flight');
    close();
  });
});
