// The harness's metric families and where each keeps its numbers in one flat Float64Array. One flat
// array makes a snapshot one copy (the OpenMetrics file and the report's timeline are built from
// snapshots), and the hot path an index computation. Names follow Prometheus conventions: base units
// (`_seconds`), counters end in `_total`; every series carries scenario, phase and run_id.

export const phaseNames = ['warmup', 'faults', 'heal', 'settle', 'final'] as const;
export type PhaseName = (typeof phaseNames)[number];

/** Upper bounds (ms) of every latency histogram; scenario thresholds are merged in (see boundsResolving). */
export const latencyBoundsMs: readonly number[] = [
  1, 2.5, 5, 10, 25, 50, 75, 100, 150, 200, 250, 300, 400, 500, 750, 1000, 1500, 2000, 3000, 5000, 10_000,
  20_000, 30_000, 60_000,
];

/** The default bounds plus every SLO threshold (ms), so a p(99)<X threshold falls on a bucket edge. */
export function boundsResolving(thresholdsMs: readonly number[]): number[] {
  const bounds = new Set(latencyBoundsMs);
  for (const ms of thresholdsMs) if (Number.isFinite(ms) && ms > 0) bounds.add(ms);
  return [...bounds].sort((a, b) => a - b);
}

export type FamilyKind = 'counter' | 'gauge' | 'histogram';

export type FamilySpec = {
  /** Without `_total` for counters (OpenMetrics family name); the sample gets the suffix. */
  name: string;
  help: string;
  kind: FamilyKind;
  /** One extra label and its values, e.g. via = push | resume | sync. */
  label?: { name: string; values: readonly string[] };
  /** Gauges hold one value (exposed under the current phase); counters and histograms one per phase. */
};

export type Family = FamilySpec & {
  offset: number;
  /** Slots per (label value, phase): 1, or bounds + 1 buckets + sum + count for a histogram. */
  width: number;
  bounds: readonly number[];
};

export class FamilyLayout {
  readonly families: Family[] = [];
  size = 0;

  constructor(readonly boundsMs: readonly number[]) {}

  add(spec: FamilySpec): Family {
    const width = spec.kind === 'histogram' ? this.boundsMs.length + 3 : 1;
    const labelCount = spec.label?.values.length ?? 1;
    const phases = spec.kind === 'gauge' ? 1 : phaseNames.length;
    const family: Family = { ...spec, offset: this.size, width, bounds: this.boundsMs };
    this.size += width * labelCount * phases;
    this.families.push(family);
    return family;
  }
}

/** The slot of (family, label value index, phase index): counters and histograms are per phase. */
export function slotOf(family: Family, labelIndex: number, phase: number): number {
  const phases = family.kind === 'gauge' ? 1 : phaseNames.length;
  return family.offset + (labelIndex * phases + (family.kind === 'gauge' ? 0 : phase)) * family.width;
}
