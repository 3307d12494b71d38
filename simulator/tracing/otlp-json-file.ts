// Where a simulated run's spans go: OTLP/JSON, one ExportTraceServiceRequest per line (the format
// the OpenTelemetry Collector's `otlpjsonfile` receiver reads), written in the order spans ended.
// The SDK's BatchSpanProcessor is no use here: it flushes on a wall-clock timer and drops spans when
// its queue fills, so what a run wrote would depend on the machine; this one exports synchronously.

import { closeSync, openSync, writeSync } from 'node:fs';
import { ExportResultCode } from '@opentelemetry/core';
import { JsonTraceSerializer } from '@opentelemetry/otlp-transformer';
import type { ReadableSpan, SpanExporter, SpanProcessor } from '@opentelemetry/sdk-trace-base';
import { tracingLimits } from './limits.ts';

/** Hands ended spans to an exporter in batches, in the order they ended, without timers or drops. */
export class InOrderBatchProcessor implements SpanProcessor {
  private batch: ReadableSpan[] = [];

  constructor(
    private readonly exporter: SpanExporter,
    private readonly batchSize: number = tracingLimits.spansPerExport,
  ) {}

  onStart(): void {}

  onEnd(span: ReadableSpan): void {
    this.batch.push(span);
    if (this.batch.length >= this.batchSize) this.flush();
  }

  forceFlush(): Promise<void> {
    this.flush();
    return this.exporter.forceFlush?.() ?? Promise.resolve();
  }

  async shutdown(): Promise<void> {
    await this.forceFlush();
    await this.exporter.shutdown();
  }

  private flush(): void {
    if (this.batch.length === 0) return;
    const spans = this.batch;
    this.batch = [];
    this.exporter.export(spans, (result) => {
      if (result.code !== ExportResultCode.SUCCESS) throw result.error ?? new Error('span export failed');
    });
  }
}

/** Writes each export as one line of OTLP/JSON to a file (created or truncated). */
export class OtlpJsonFileExporter implements SpanExporter {
  private fd: number | null;

  constructor(readonly path: string) {
    this.fd = openSync(path, 'w');
  }

  export(spans: ReadableSpan[], done: (result: { code: ExportResultCode; error?: Error }) => void): void {
    if (this.fd === null)
      return done({ code: ExportResultCode.FAILED, error: new Error('exporter shut down') });
    writeSync(this.fd, JsonTraceSerializer.serializeRequest(spans)!);
    writeSync(this.fd, '\n');
    done({ code: ExportResultCode.SUCCESS });
  }

  async shutdown(): Promise<void> {
    if (this.fd !== null) closeSync(this.fd);
    this.fd = null;
  }
}
