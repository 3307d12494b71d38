// The bounds of simulated tracing in one place.

export const tracingLimits = {
  /** Spans per OTLP export request (one line of the OTLP/JSON file). */
  spansPerExport: 512,
} as const;
