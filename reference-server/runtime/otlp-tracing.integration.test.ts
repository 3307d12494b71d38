// With tracing on (what `chatsim serve --otlp-endpoint` does), a traced send's spans reach an OTLP/HTTP
// collector: here a local HTTP server standing in for one, which records what it is sent.

import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, describe, expect, it } from 'vitest';
import { ServerFixture } from '../../test-support/server-fixture.ts';
import { startOtlpTracing } from './otlp-tracing.ts';

const traceId = '0af7651916cd43dd8448eb211c80319c';

describe('OTLP export', () => {
  const received: { path: string; body: string }[] = [];
  const collector = createServer((request, response) => {
    const chunks: Buffer[] = [];
    request.on('data', (chunk: Buffer) => chunks.push(chunk));
    request.on('end', () => {
      received.push({ path: request.url ?? '', body: Buffer.concat(chunks).toString('utf8') });
      response.writeHead(200, { 'content-type': 'application/json' }).end('{}');
    });
  });
  afterAll(() => new Promise<void>((resolve) => collector.close(() => resolve())));

  it("exports the send's spans to the collector when the server shuts tracing down", async () => {
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const { port } = collector.address() as AddressInfo;
    const tracing = startOtlpTracing(`http://127.0.0.1:${port}/v1/traces`, 'chatsim-otlp-test');
    const fx = await ServerFixture.start({ tracer: tracing.tracer });
    try {
      const alice = fx.id('alice');
      const conv = await fx.conversation([alice, fx.id('bob')]);
      const { client } = await fx.session(alice);
      client.send({ t: 'send', conv, cmid: 'otlp-1', body: 'hi', tp: `00-${traceId}-b7ad6b7169203331-01` });
      await client.next((f) => f.t === 'ack');
    } finally {
      await fx.close();
      await tracing.shutdown();
    }
    const traces = received.filter((r) => r.path === '/v1/traces');
    expect(traces.length).toBeGreaterThan(0);
    const body = traces.map((r) => r.body).join('\n');
    expect(body).toContain(traceId);
    expect(body).toContain('chat send');
    expect(body).toContain('chat persist');
    expect(body).toContain('chatsim-otlp-test');
  });
});
