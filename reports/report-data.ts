// Everything a run's report shows, as one plain value: the verdicts with witnesses, the SLOs and when
// each broke, the timeline (latency percentiles, throughput, connections per sample interval, built
// from the recorder's snapshots), fault windows, phases and the fan-out lag distribution.
// report.html, summary.md and summary.json are renderings of it.

import type { PhaseName } from '../metrics/harness-families.ts';
import { phaseNames } from '../metrics/harness-families.ts';
import {
  type FaultWindow,
  type HistogramTotals,
  quantileMs,
  type RunRecorder,
} from '../metrics/run-recorder.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import { reportLimits } from './limits.ts';
import { type ThresholdTiming, thresholdTimings } from './threshold-timing.ts';
import { describeFaults, verdictLine } from './verdict-table.ts';

export type Series = (number | null)[];

export type Timeline = {
  /** Seconds since the run began (virtual in simulation), at the end of each interval. */
  t: number[];
  deliveryP50Ms: Series;
  deliveryP95Ms: Series;
  deliveryP99Ms: Series;
  ackP99Ms: Series;
  fanoutP99Ms: Series;
  sendsPerS: Series;
  displaysPerS: Series;
  failedPerS: Series;
  connected: Series;
  reconnectsPerS: Series;
  resyncsPerS: Series;
};

export type Distribution = { boundsMs: readonly number[]; counts: number[] };

export type ReportData = {
  mode: 'sim' | 'live';
  scenario: Scenario;
  seed: number;
  runId: string;
  repro: string;
  exitCode: number;
  verdictLine: string;
  facts: [string, string][];
  verdicts: { property: string; verdict: string; details: string; witness: string[] }[];
  thresholds: ThresholdTiming[];
  phases: { phase: PhaseName; startS: number }[];
  faults: { type: string; startS: number; endS: number | null; describe: string }[];
  timeline: Timeline;
  fanout: Distribution;
  fanoutFromAck: Distribution;
  latencyMs: Record<'delivery' | 'ack' | 'fanout' | 'connect', Quantiles>;
  generatedAt: string;
};

/**
 * What the report's latency table is: the run recorder's histograms (the buckets its OpenMetrics and
 * Prometheus series have), over every send, warm-up included, interpolated inside a bucket. The
 * thresholds' figures (and the summary's ack p50 and p99) are exact to 1.6% and leave the warm-up out,
 * so the two may differ; the table says so rather than pass for the SLO's own number.
 */
export const metricsLatencyNote =
  'bucketed as its Prometheus series are, a quantile interpolated inside its bucket; the thresholds above judge sends after the warm-up, exact to 1.6%';

export type Quantiles = { count: number; p50: number | null; p95: number | null; p99: number | null };

export function reportData(options: {
  summary: RunSummary;
  scenario: Scenario;
  recorder: RunRecorder;
  repro: string;
  mode: 'sim' | 'live';
}): ReportData {
  const { summary, recorder, scenario } = options;
  const m = summary.messages;
  const facts: [string, string][] = [
    ['scenario', scenario.name],
    ['seed', String(summary.seed)],
    ['run id', recorder.options.runId],
    ['clients', summary.clients.toLocaleString('en-US')],
    [options.mode === 'sim' ? 'virtual time' : 'run time', `${(summary.virtualMs / 1000).toFixed(1)} s`],
    ['wall time', `${(summary.wallMs / 1000).toFixed(1)} s`],
    [
      'messages',
      `${n(m.sent)} sent, ${n(m.acked)} acked, ${n(m.failed)} failed, ${n(m.displayed)} displayed`,
    ],
    ['settled', summary.settledAtMs === null ? 'never' : `at ${(summary.settledAtMs / 1000).toFixed(1)} s`],
  ];
  if (options.mode === 'sim') {
    facts.push(['events', n(summary.events)], ['trace hash', summary.traceHash]);
  }
  if (summary.derived.bugs.length > 0) facts.push(['deliberate bugs', summary.derived.bugs.join(', ')]);
  return {
    mode: options.mode,
    scenario,
    seed: summary.seed,
    runId: recorder.options.runId,
    repro: options.repro,
    exitCode: summary.exitCode,
    verdictLine: verdictLine(summary),
    facts,
    verdicts: summary.verdicts.map((v) => ({
      property: v.property,
      verdict: v.verdict,
      details: v.details,
      witness: v.witness
        .slice(0, reportLimits.witnessCasesShown)
        .map((w) => JSON.stringify(w).slice(0, reportLimits.witnessCharsShown)),
    })),
    thresholds: thresholdTimings(summary, recorder),
    phases: phaseNames.flatMap((phase) => {
      const start = recorder.phaseStart(phase);
      return start === undefined ? [] : [{ phase, startS: start / 1000 }];
    }),
    faults: recorder.faults.map((f: FaultWindow) => ({
      type: f.type,
      startS: f.startMs / 1000,
      endS: f.endMs === null ? null : f.endMs / 1000,
      describe: describeWindow(f, summary, scenario),
    })),
    timeline: timeline(recorder),
    fanout: distribution(recorder.histogramTotals('fanout')),
    fanoutFromAck: distribution(recorder.histogramTotals('fanoutFromAck')),
    latencyMs: {
      delivery: quantiles(recorder.histogramTotals('delivery')),
      ack: quantiles(recorder.histogramTotals('ack')),
      fanout: quantiles(recorder.histogramTotals('fanout')),
      connect: quantiles(recorder.histogramTotals('connect')),
    },
    generatedAt: new Date().toISOString(),
  };
}

function n(value: number): string {
  return value.toLocaleString('en-US');
}

function quantiles(h: HistogramTotals): Quantiles {
  return {
    count: h.count,
    p50: round(quantileMs(h, 0.5)),
    p95: round(quantileMs(h, 0.95)),
    p99: round(quantileMs(h, 0.99)),
  };
}

function distribution(h: HistogramTotals): Distribution {
  return { boundsMs: h.boundsMs, counts: h.counts };
}

function round(ms: number | null): number | null {
  return ms === null ? null : Math.round(ms * 100) / 100;
}

/** Per sample interval: quantiles of what was observed in it, rates, and the connected gauge. */
function timeline(recorder: RunRecorder): Timeline {
  const out: Timeline = {
    t: [],
    deliveryP50Ms: [],
    deliveryP95Ms: [],
    deliveryP99Ms: [],
    ackP99Ms: [],
    fanoutP99Ms: [],
    sendsPerS: [],
    displaysPerS: [],
    failedPerS: [],
    connected: [],
    reconnectsPerS: [],
    resyncsPerS: [],
  };
  const snapshots = recorder.snapshots;
  const totalOf = (key: string, values: Float64Array): number => recorder.total(key, values);
  for (let i = 1; i < snapshots.length; i++) {
    const a = snapshots[i - 1]!;
    const b = snapshots[i]!;
    const seconds = (b.at - a.at) / 1000;
    if (seconds <= 0) continue;
    const window = (key: string): HistogramTotals =>
      difference(
        recorder.histogramTotals(key, undefined, b.values),
        recorder.histogramTotals(key, undefined, a.values),
      );
    const delivery = window('delivery');
    out.t.push(b.at / 1000);
    out.deliveryP50Ms.push(round(quantileMs(delivery, 0.5)));
    out.deliveryP95Ms.push(round(quantileMs(delivery, 0.95)));
    out.deliveryP99Ms.push(round(quantileMs(delivery, 0.99)));
    out.ackP99Ms.push(round(quantileMs(window('ack'), 0.99)));
    out.fanoutP99Ms.push(round(quantileMs(window('fanout'), 0.99)));
    const rate = (key: string): number =>
      Math.round(((totalOf(key, b.values) - totalOf(key, a.values)) / seconds) * 10) / 10;
    out.sendsPerS.push(rate('sends'));
    out.displaysPerS.push(rate('displays'));
    out.failedPerS.push(rate('failed'));
    out.reconnectsPerS.push(rate('reconnects'));
    out.resyncsPerS.push(rate('resyncs'));
    out.connected.push(recorder.connectedIn(b.values));
  }
  return out;
}

function difference(b: HistogramTotals, a: HistogramTotals): HistogramTotals {
  return {
    boundsMs: b.boundsMs,
    counts: b.counts.map((n, i) => n - a.counts[i]!),
    sum: b.sum - a.sum,
    count: b.count - a.count,
  };
}

/** The fault spec that opened this window, described as the verdict table does ("partition(20% of clients)"). */
function describeWindow(window: FaultWindow, summary: RunSummary, scenario: Scenario): string {
  const spec = summary.derived.faults.find(
    (f) => f.type === window.type && Math.abs(scenario.phases.warmupMs + f.atMs - window.startMs) < 1000,
  );
  return spec === undefined ? window.type : describeFaults([spec]).replace(/@[^(]*/, '');
}
