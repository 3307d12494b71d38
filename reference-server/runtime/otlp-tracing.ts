// Turns tracing on for a live server: the OpenTelemetry Node SDK with an OTLP/HTTP trace exporter
// (to a collector, Jaeger, Tempo...). Off by default; `chatsim serve --otlp-endpoint URL` calls it.
// No auto-instrumentation: the spans are the runtime's own (frame-tracer.ts).

import { type Tracer, trace } from '@opentelemetry/api';
import { OTLPTraceExporter } from '@opentelemetry/exporter-trace-otlp-http';
import { NodeSDK } from '@opentelemetry/sdk-node';

export type Tracing = { tracer: Tracer; shutdown(): Promise<void> };

/** `endpoint` is the collector's traces URL, e.g. http://localhost:4318/v1/traces. */
export function startOtlpTracing(endpoint: string, serviceName = 'chatsim-server'): Tracing {
  const sdk = new NodeSDK({
    serviceName,
    traceExporter: new OTLPTraceExporter({ url: endpoint }),
    instrumentations: [],
  });
  sdk.start();
  return { tracer: trace.getTracer('chatsim'), shutdown: () => sdk.shutdown() };
}
