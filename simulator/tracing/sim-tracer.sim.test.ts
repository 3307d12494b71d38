// Spans in virtual time, checked with the SDK's in-memory exporter: one message's chain (client send
// -> node send -> persist, fan-out -> deliver) has the right parents and runs forwards in virtual
// time; `sim --otlp-file` writes (and `--otlp-endpoint` POSTs) the same spans for
// the same seed; tracing leaves the trace hash alone.

import { mkdtempSync, readFileSync } from 'node:fs';
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { InMemorySpanExporter, type ReadableSpan } from '@opentelemetry/sdk-trace-base';
import { beforeAll, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../history.ts';
import { runScenario } from '../run-scenario.ts';
import { InOrderBatchProcessor } from './otlp-json-file.ts';
import { SimTracer } from './sim-tracer.ts';

const epochMs = Date.UTC(2026, 0, 1);
const scenario = loadScenario('steady');
const run = { seed: 11, clients: 24 };

async function traced(): Promise<{ spans: ReadableSpan[]; traceHash: string; history: HistoryEvent[] }> {
  const exporter = new InMemorySpanExporter();
  // A small batch size, so spans cross export batches as in a long run.
  const tracer = new SimTracer({
    seed: run.seed,
    epochMs,
    processor: new InOrderBatchProcessor(exporter, 7),
  });
  const history: HistoryEvent[] = [];
  const summary = await runScenario(scenario, {
    ...run,
    tracer,
    recorder: { observe: (event) => history.push(event), tick: () => {} },
  });
  // (not shutdown: the in-memory exporter forgets its spans when shut down)
  await tracer.flush();
  return { spans: exporter.getFinishedSpans(), traceHash: summary.traceHash, history };
}

/** Virtual ms of an OTel time. */
const ms = (time: [number, number]): number => (time[0] - epochMs / 1000) * 1000 + time[1] / 1e6;
const parentOf = (span: ReadableSpan): string | undefined => span.parentSpanContext?.spanId;
const kindOf = (span: ReadableSpan): string => `${span.name}/${span.kind}`;

describe('simulated spans', () => {
  let first: Awaited<ReturnType<typeof traced>>;
  beforeAll(async () => {
    first = await traced();
  });

  it('follow one message send -> persist -> fan-out -> deliver in virtual time', () => {
    const ack = first.history.find((event) => event.k === 'ack' && event.sentAt > 3000);
    if (ack?.k !== 'ack') throw new Error('the run acked nothing to trace');
    const root = first.spans.find(
      (span) =>
        span.parentSpanContext === undefined &&
        span.attributes['chat.cmid'] === ack.cmid &&
        span.attributes['chat.user'] === ack.user &&
        span.attributes['chat.conv'] === ack.conv,
    )!;
    expect(root).toBeDefined();
    const inTrace = first.spans.filter((span) => span.spanContext().traceId === root.spanContext().traceId);
    const byId = new Map(inTrace.map((span) => [span.spanContext().spanId, span]));
    const children = (parent: ReadableSpan, name: string) =>
      inTrace.filter((span) => parentOf(span) === parent.spanContext().spanId && span.name === name);

    // The root is the client's send, from its first attempt to its ack, in virtual time.
    expect(kindOf(root)).toBe('chat send/2'); // CLIENT
    expect(ms(root.startTime)).toBeCloseTo(ack.sentAt, 6);
    expect(ms(root.endTime)).toBeCloseTo(ack.at, 6);
    expect(root.attributes['chat.seq']).toBe(ack.seq);
    const [server] = children(root, 'chat send');
    expect(server!.kind).toBe(1); // SERVER
    const [persist] = children(server!, 'chat persist');
    const fanouts = children(server!, 'chat fanout');
    expect(persist).toBeDefined();
    expect(fanouts.length).toBeGreaterThan(0);
    // Durable ack before fan-out; the node's send ends at its ack, which reaches the client later.
    expect(ms(root.startTime)).toBeLessThan(ms(server!.startTime));
    expect(ms(server!.startTime)).toBeLessThanOrEqual(ms(persist!.startTime));
    expect(ms(persist!.startTime)).toBeLessThan(ms(persist!.endTime));
    expect(ms(persist!.endTime)).toBeLessThanOrEqual(ms(server!.endTime));
    expect(ms(server!.endTime)).toBeLessThan(ms(root.endTime));
    for (const fanout of fanouts) {
      expect(ms(fanout.startTime)).toBeGreaterThanOrEqual(ms(persist!.endTime));
      const delivers = children(fanout, 'chat deliver');
      expect(delivers).toHaveLength(fanout.attributes['chat.recipients'] as number);
      for (const deliver of delivers) {
        expect(ms(deliver.startTime)).toBe(ms(fanout.startTime));
        expect(ms(deliver.endTime)).toBeGreaterThan(ms(deliver.startTime));
        expect(ms(deliver.endTime)).toBeLessThanOrEqual(ms(fanout.endTime));
      }
      // The fan-out ends when its last frame arrives.
      expect(Math.max(...delivers.map((deliver) => ms(deliver.endTime)))).toBe(ms(fanout.endTime));
    }
    // Every span in the trace hangs off the root.
    for (const span of inTrace) {
      let at: ReadableSpan | undefined = span;
      while (at !== undefined && at !== root) at = byId.get(parentOf(at) ?? '');
      expect(at).toBe(root);
    }
  });

  it('`sim --otlp-endpoint` says before the run that nothing takes OTLP there', async () => {
    const errors: string[] = [];
    const io = { out: () => {}, err: (line: string) => errors.push(line), env: {} };
    const closed = 'http://127.0.0.1:1/v1/traces';
    expect(await main(['sim', 'steady', '--seed', '1', '--otlp-endpoint', closed], io)).toBe(2);
    expect(errors.join('\n')).toMatch(/OTLP endpoint http:\/\/127\.0\.0\.1:1\/v1\/traces is unreachable/);
  });

  it('`sim --otlp-file` writes the same spans for the same seed, and tracing leaves the trace hash alone', async () => {
    const file = join(mkdtempSync(join(tmpdir(), 'chatsim-otlp-')), 'spans.jsonl');
    const out: string[] = [];
    const io = { out: (line: string) => out.push(line), err: () => {}, env: {} };
    const args = ['--seed', String(run.seed), '--clients', String(run.clients), '--no-progress', '--json'];
    const start = ['--start-time', new Date(epochMs).toISOString()];
    // A collector that takes OTLP/JSON: it gets the file's lines, one POST each.
    const posted: string[] = [];
    const collector = createServer((request, response) => {
      let body = '';
      request.on('data', (chunk) => {
        body += chunk;
      });
      request.on('end', () => {
        if (request.headers['content-type'] === 'application/json') posted.push(body);
        response.writeHead(request.headers['content-type'] === 'application/json' ? 200 : 415).end('{}');
      });
    });
    await new Promise<void>((resolve) => collector.listen(0, '127.0.0.1', resolve));
    const endpoint = `http://127.0.0.1:${(collector.address() as AddressInfo).port}/v1/traces`;
    const otlp = ['--otlp-file', file, '--otlp-endpoint', endpoint];
    try {
      expect(await main(['sim', 'steady', ...args, ...otlp, ...start], io)).toBe(0);
    } finally {
      collector.close();
    }
    type OtlpSpan = { traceId: string; spanId: string; parentSpanId?: string; name: string } & Record<
      'startTimeUnixNano' | 'endTimeUnixNano',
      string
    >;
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    // The first POST is the empty request that checked the endpoint before the run.
    expect(posted).toEqual(['{"resourceSpans":[]}', ...lines]);
    const written = lines.flatMap(
      (line) =>
        JSON.parse(line).resourceSpans[0].scopeSpans[0].spans.map((span: OtlpSpan) => [
          span.name,
          span.traceId,
          span.spanId,
          span.parentSpanId,
          span.startTimeUnixNano,
          span.endTimeUnixNano,
        ]) as unknown[][],
    );
    const nanos = (time: [number, number]) => String(BigInt(time[0]) * 1_000_000_000n + BigInt(time[1]));
    expect(first.spans.length).toBeGreaterThan(100);
    expect(written).toEqual(
      first.spans.map((span) => [
        span.name,
        span.spanContext().traceId,
        span.spanContext().spanId,
        parentOf(span),
        nanos(span.startTime),
        nanos(span.endTime),
      ]),
    );
    const untraced = await runScenario(scenario, run);
    expect(first.traceHash).toBe(untraced.traceHash);
    expect(JSON.parse(out.join('')).traceHash).toBe(untraced.traceHash);
  });
});
