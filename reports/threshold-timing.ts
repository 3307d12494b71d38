// Which SLO threshold broke and when. The verdict judges the whole run (k6 semantics), so "when" is
// the first sample at which the run-so-far aggregate no longer met the threshold, read back from the
// recorder's snapshots with the same k6 parser and comparison the verdict used (scenarios/thresholds.ts).
// Latency thresholds count acks after the warm-up, as the verdict does; the recorder's buckets are
// coarser than the verdict's histogram, so "when" is as precise as a bucket.

import { type HistogramTotals, quantileMs, type RunRecorder } from '../metrics/run-recorder.ts';
import {
  aggregate,
  compare,
  type MetricSource,
  parseThreshold,
  type ThresholdMetric,
  thresholdMetricNames,
  thresholdMetrics,
} from '../scenarios/thresholds.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';

export type ThresholdTiming = {
  name: string;
  /** The threshold as the scenario states it, e.g. `ackLatency: p(99)<=500`. */
  expression: string;
  limit: number;
  actual: number;
  /** `actual` for a reader: rounded, with the metric's unit ("24,641.5 ms", "0", "not measured"). */
  actualText: string;
  pass: boolean;
  /** Seconds into the run when the run-so-far aggregate first failed the threshold; null if never seen. */
  brokeAtS: number | null;
};

/** A threshold metric's run-so-far values in one snapshot. */
const sources: Record<ThresholdMetric, (recorder: RunRecorder, values: Float64Array) => MetricSource> = {
  ackLatency: (recorder, values) => trend(afterWarmup(recorder, 'ack', values)),
  fanoutLag: (recorder, values) => trend(afterWarmup(recorder, 'fanout', values)),
  // Not in the recorder's series: when it broke is not known, only that it did.
  repeatedPushes: () => ({}),
  failedSends: (recorder, values) => {
    const failed = recorder.total('failed', values);
    const sends = recorder.total('sends', values);
    return { count: failed, ...(sends > 0 ? { rate: failed / sends } : {}) };
  },
};

export function thresholdTimings(summary: RunSummary, recorder: RunRecorder): ThresholdTiming[] {
  return summary.slo.map((slo) => {
    const space = slo.name.indexOf(' ');
    const metric = slo.name.slice(0, space) as ThresholdMetric;
    const text = slo.name.slice(space + 1);
    const threshold = thresholdMetricNames.includes(metric) ? parseThreshold(metric, text) : 'unknown';
    let brokeAtS: number | null = null;
    if (!slo.pass && typeof threshold !== 'string')
      for (const snapshot of recorder.snapshots) {
        const actual = aggregate(threshold.aggregation, sources[metric](recorder, snapshot.values));
        if (!Number.isNaN(actual) && !compare(actual, threshold.operator, threshold.value)) {
          brokeAtS = snapshot.at / 1000;
          break;
        }
      }
    return {
      name: slo.name,
      expression: typeof threshold === 'string' ? slo.name : `${metric}: ${threshold.expression}`,
      limit: slo.limit,
      actual: slo.actual,
      actualText: formatActual(metric, slo.actual),
      pass: slo.pass,
      brokeAtS,
    };
  });
}

function formatActual(metric: ThresholdMetric, actual: number): string {
  if (Number.isNaN(actual)) return 'not measured';
  const ms = thresholdMetrics[metric]?.unit === 'ms';
  const text = actual.toLocaleString('en-US', { maximumFractionDigits: ms ? 1 : 4 });
  return ms ? `${text} ms` : text;
}

/** A recorder histogram as a trend metric (percentiles and average, in ms). */
function trend(h: HistogramTotals): MetricSource {
  return {
    quantile: (q) => quantileMs(h, q) ?? Number.NaN,
    count: h.count,
    ...(h.count > 0 ? { avg: (h.sum * 1000) / h.count } : {}),
  };
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
