// Which SLO threshold broke and when: the run's verdict judges the whole run (k6 semantics), so
// "when" is the first sample at which the run-so-far aggregate crossed the limit, read back from the
// recorder's snapshots. Latency thresholds count sends after the warm-up, as the verdict does.

import { type HistogramTotals, quantileBucket, type RunRecorder } from '../metrics/run-recorder.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';

export type ThresholdTiming = {
  name: string;
  /** The threshold as the scenario states it. */
  expression: string;
  limit: number;
  actual: number;
  pass: boolean;
  /** Seconds into the run when the run-so-far aggregate first crossed the limit; null if never seen. */
  brokeAtS: number | null;
};

/** How to read a threshold's aggregate from a snapshot, by threshold name. */
const aggregates: Record<string, (recorder: RunRecorder, values: Float64Array) => number> = {
  ackLatencyMsP99: (recorder, values) => p99UpperMs(afterWarmup(recorder, 'ack', values)),
  failedSendsMax: (recorder, values) => recorder.total('failed', values),
};

export function thresholdTimings(
  summary: RunSummary,
  recorder: RunRecorder,
  scenario: Scenario,
): ThresholdTiming[] {
  return summary.slo.map((slo) => {
    const aggregate = aggregates[slo.name];
    let brokeAtS: number | null = null;
    if (!slo.pass && aggregate)
      for (const snapshot of recorder.snapshots)
        if (aggregate(recorder, snapshot.values) > slo.limit) {
          brokeAtS = snapshot.at / 1000;
          break;
        }
    const raw = (scenario.thresholds as Record<string, unknown>)[slo.name];
    return {
      name: slo.name,
      expression: typeof raw === 'number' ? `${slo.name} <= ${raw}` : JSON.stringify(raw ?? slo.limit),
      limit: slo.limit,
      actual: slo.actual,
      pass: slo.pass,
      brokeAtS,
    };
  });
}

function afterWarmup(recorder: RunRecorder, key: string, values: Float64Array): HistogramTotals {
  const totals = recorder.histogramTotals(key, undefined, values);
  const warmup = recorder.histogramTotals(key, 0, values);
  return {
    boundsMs: totals.boundsMs,
    counts: totals.counts.map((n, i) => n - warmup.counts[i]!),
    sum: totals.sum - warmup.sum,
    count: totals.count - warmup.count,
  };
}

function p99UpperMs(h: HistogramTotals): number {
  return quantileBucket(h, 0.99)?.upperMs ?? 0;
}
