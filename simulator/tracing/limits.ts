// The bounds of simulated tracing in one place.

export const tracingLimits = {
  /** Spans per OTLP export request (one line of the OTLP/JSON file, one POST to an endpoint). */
  spansPerExport: 512,
  /** How long one POST to an OTLP endpoint may take. */
  exportTimeoutMs: 10_000,
} as const;
