// Spans of one traced send through a live reference server, caught by the in-memory exporter:
// send -> persist -> fan-out -> deliver, all in the client's trace, and the pushed msg carries a
// traceparent of that trace. Without `tp`, and without a tracer, nothing is traced.

import {
  BasicTracerProvider,
  InMemorySpanExporter,
  SimpleSpanProcessor,
} from '@opentelemetry/sdk-trace-base';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFixture } from '../../test-support/server-fixture.ts';
import type { MsgFrame } from '../protocol/frames.ts';

const traceId = '4bf92f3577b34da6a3ce929d0e0e4736';
const clientSpanId = '00f067aa0ba902b7';
const traceparent = `00-${traceId}-${clientSpanId}-01`;

describe('OpenTelemetry spans in the reference server runtime', () => {
  const exporter = new InMemorySpanExporter();
  const provider = new BasicTracerProvider({ spanProcessors: [new SimpleSpanProcessor(exporter)] });
  let fx: ServerFixture;

  beforeAll(async () => {
    fx = await ServerFixture.start({ tracer: provider.getTracer('chatsim-test') });
  });
  afterAll(async () => {
    await fx.close();
    await provider.shutdown();
  });

  it('traces send -> persist -> fan-out -> deliver in the trace the client started', async () => {
    exporter.reset();
    const alice = fx.id('alice');
    const bob = fx.id('bob');
    const conv = await fx.conversation([alice, bob]);
    const sender = (await fx.session(alice)).client;
    const receiver = (await fx.session(bob)).client;
    sender.send({ t: 'send', conv, cmid: 'traced-1', body: 'hi', tp: traceparent });
    await sender.next((f) => f.t === 'ack');
    const pushed = (await receiver.next((f) => f.t === 'msg')) as MsgFrame;

    const spans = exporter.getFinishedSpans();
    const byName = new Map(spans.map((s) => [s.name, s]));
    expect([...byName.keys()].sort()).toEqual(['chat deliver', 'chat fanout', 'chat persist', 'chat send']);
    for (const span of spans) expect(span.spanContext().traceId).toBe(traceId);
    const send = byName.get('chat send')!;
    const parentOf = (name: string) => byName.get(name)!.parentSpanContext?.spanId;
    expect(send.parentSpanContext?.spanId).toBe(clientSpanId);
    expect(parentOf('chat persist')).toBe(send.spanContext().spanId);
    expect(parentOf('chat fanout')).toBe(send.spanContext().spanId);
    expect(parentOf('chat deliver')).toBe(byName.get('chat fanout')!.spanContext().spanId);
    expect(send.attributes).toMatchObject({
      'chat.conv': conv,
      'chat.cmid': 'traced-1',
      'chat.seq': 1,
      'chat.from': alice,
    });
    expect(byName.get('chat fanout')!.attributes['chat.recipients']).toBeGreaterThanOrEqual(1);
    // The push continues the trace: its traceparent names the deliver span.
    expect(pushed.tp).toBe(`00-${traceId}-${byName.get('chat deliver')!.spanContext().spanId}-01`);
  });

  it('traces nothing for a send without tp', async () => {
    exporter.reset();
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice, fx.id('bob')]);
    const { client } = await fx.session(alice);
    await client.mustSend(conv, 'plain-1', 'hi');
    expect(exporter.getFinishedSpans()).toEqual([]);
  });
});
