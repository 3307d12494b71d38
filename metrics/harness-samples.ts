// Turns the recorder's flat numbers into labelled samples: one function serves the live scrape (via a
// prom-client registry), the Pushgateway and the timestamped OpenMetrics file of a simulated run, so
// the three cannot disagree on a name, a label or a bucket.

import { type Family, phaseNames, slotOf } from './harness-families.ts';
import type { FaultWindow } from './run-recorder.ts';

export type Labels = Record<string, string>;
export type Sample = { suffix: string; labels: Labels; value: number };
/** One labelled series of a family: its samples at one moment. */
export type Series = { key: string; samples: Sample[] };

export type RunLabels = { scenario: string; run_id: string };

/**
 * The series of `family` in `values`, for the phases reached so far (0..phase). A gauge holds one
 * value: it shows under the current phase and as 0 under the phases before, so `sum` over phases is
 * right even where no staleness marker ends the old series (an imported OpenMetrics file).
 */
export function familySeries(family: Family, values: Float64Array, phase: number, run: RunLabels): Series[] {
  const out: Series[] = [];
  const labelValues = family.label?.values ?? [''];
  labelValues.forEach((labelValue, labelIndex) => {
    for (let p = 0; p <= phase; p++) {
      const labels: Labels = { scenario: run.scenario, phase: phaseNames[p]!, run_id: run.run_id };
      if (family.label) labels[family.label.name] = labelValue;
      const key = `${labelValue}\u0000${p}`;
      if (family.kind === 'gauge' && p < phase)
        out.push({ key, samples: [{ suffix: '', labels, value: 0 }] });
      else out.push({ key, samples: samplesAt(family, values, slotOf(family, labelIndex, p), labels) });
    }
  });
  return out;
}

function samplesAt(family: Family, values: Float64Array, slot: number, labels: Labels): Sample[] {
  if (family.kind === 'counter') return [{ suffix: '_total', labels, value: values[slot]! }];
  if (family.kind === 'gauge') return [{ suffix: '', labels, value: values[slot]! }];
  const samples: Sample[] = [];
  let cumulative = 0;
  family.bounds.forEach((boundMs, i) => {
    cumulative += values[slot + i]!;
    samples.push({ suffix: '_bucket', labels: { ...labels, le: formatSeconds(boundMs) }, value: cumulative });
  });
  const count = values[slot + family.bounds.length + 2]!;
  samples.push({ suffix: '_bucket', labels: { ...labels, le: '+Inf' }, value: count });
  samples.push({ suffix: '_count', labels, value: count });
  samples.push({ suffix: '_sum', labels, value: values[slot + family.bounds.length + 1]! });
  return samples;
}

export const faultFamily = {
  name: 'chatsim_harness_fault_active',
  help: 'A fault of this type is active (1) or healed (0): dashboards shade these windows',
} as const;

/** One series per fault type: 1 while a window of that type is open at `atMs`, else 0. */
export function faultSeries(
  faults: readonly FaultWindow[],
  atMs: number,
  phase: number,
  run: RunLabels,
): Series[] {
  const types = [...new Set(faults.map((f) => f.type))].sort();
  const out: Series[] = [];
  for (const type of types) {
    const active = faults.some(
      (f) => f.type === type && f.startMs <= atMs && (f.endMs === null || atMs < f.endMs),
    );
    for (let p = 0; p <= phase; p++) {
      const labels = { scenario: run.scenario, phase: phaseNames[p]!, run_id: run.run_id, fault: type };
      out.push({
        key: `${type}\u0000${p}`,
        samples: [{ suffix: '', labels, value: active && p === phase ? 1 : 0 }],
      });
    }
  }
  return out;
}

/** Seconds from ms without float noise (2.5 ms -> "0.0025"). */
export function formatSeconds(ms: number): string {
  return String(Number((ms / 1000).toPrecision(12)));
}

export function formatLabels(labels: Labels): string {
  const parts = Object.entries(labels).map(([k, v]) => `${k}="${escapeLabel(v)}"`);
  return `{${parts.join(',')}}`;
}

function escapeLabel(value: string): string {
  return value.replace(/\\/g, '\\\\').replace(/\n/g, '\\n').replace(/"/g, '\\"');
}

export function formatValue(value: number): string {
  if (Number.isNaN(value)) return 'NaN';
  if (value === Number.POSITIVE_INFINITY) return '+Inf';
  if (value === Number.NEGATIVE_INFINITY) return '-Inf';
  return String(Number(value.toPrecision(15)));
}
