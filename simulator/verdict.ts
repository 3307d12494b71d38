// From checker verdicts and measured figures to SLO lines and the exit code CI gates on, the same for
// a simulation and a live run: 0 pass, 1 a property violated, 2 an SLO breached, 3 the run could not
// be judged (it did not settle, or a checker could not decide: `unknown` is never a pass).
// SLOs are the scenario's k6-syntax thresholds (scenarios/thresholds.ts) judged on what the run measured.

import type { LatencyHistogram } from '../bench/latency-histogram.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import {
  evaluateThresholds,
  type MetricSource,
  type ThresholdMetric,
  type ThresholdVerdict,
} from '../scenarios/thresholds.ts';
import { gapFreeStoreProperty } from './checkers/gap-free-store.ts';
import type { CheckResult } from './history.ts';

export type SloResult = ThresholdVerdict;
export type ExitCode = 0 | 1 | 2 | 3;

/** What a run measured, per threshold metric; a metric left out (or with nothing in it) fails its thresholds. */
export type Measured = Partial<Record<ThresholdMetric, MetricSource>>;

export function judgeRun(
  scenario: Scenario,
  verdicts: readonly CheckResult[],
  settledAt: number | null,
  measured: Measured,
): { slo: SloResult[]; exitCode: ExitCode } {
  const slo = evaluateThresholds(scenario.thresholds, measured);
  const violated = verdicts.some((v) => v.verdict === 'fail' && v.property !== 'liveness');
  const live = verdicts.find((v) => v.property === 'liveness')?.verdict !== 'fail' && settledAt !== null;
  const judged = verdicts.every((v) => v.verdict !== 'unknown');
  const exitCode = violated ? 1 : !live || !judged ? 3 : slo.some((s) => !s.pass) ? 2 : 0;
  return { slo, exitCode };
}

/** A latency histogram as a trend metric; empty, it measures nothing (its thresholds fail). */
export function latencySource(histogram: LatencyHistogram): MetricSource {
  if (histogram.total === 0) return {};
  // Samples above the histogram's range are held at its top: a quantile (or max) that falls among them
  // is only known to exceed the range, so it reads as infinite and no `<=` threshold passes on it.
  const inRange = histogram.total - histogram.overflow;
  return {
    quantile: (q) =>
      Math.max(1, Math.ceil(q * histogram.total)) > inRange
        ? Number.POSITIVE_INFINITY
        : histogram.percentileMs(q * 100),
    count: histogram.total,
    avg: histogram.overflow > 0 ? Number.POSITIVE_INFINITY : histogram.meanMs(),
    min: histogram.minUs / 1000,
    max: histogram.overflow > 0 ? Number.POSITIVE_INFINITY : histogram.maxUs / 1000,
  };
}

/** Failed sends as a rate metric: the count, and the share of sends (`detail`: which failed, and why). */
export function failedSendsSource(counts: { sent: number; failed: number; detail?: string }): MetricSource {
  if (counts.sent === 0) return {};
  const source: MetricSource = { count: counts.failed, rate: counts.failed / counts.sent };
  if (counts.detail !== undefined) source.detail = counts.detail;
  return source;
}

/**
 * A `disk-torn-write` with `tornAt: 'frame-length'` tests that recovery cuts the shortest torn tail,
 * part of a frame's length field, and starts (a recovery that cannot read so short a tail refuses a log
 * that lost nothing acknowledged, and its node stays down). One that met no such write before its heal
 * crashed nothing and tested nothing: while any did, liveness, the property it exists for, cannot pass.
 */
export function judgeTornFrameLengthReach(
  verdicts: readonly CheckResult[],
  faults: readonly { type: string; tornAt?: string }[],
  tornFrameLengths: number | undefined,
): CheckResult[] {
  const asked = faults.filter(
    (fault) => fault.type === 'disk-torn-write' && fault.tornAt === 'frame-length',
  ).length;
  const made = tornFrameLengths ?? 0;
  if (asked === 0 || made >= asked) return [...verdicts];
  const why =
    `could not judge a torn frame length: ${asked - made} of ${asked} disk-torn-write faults with tornAt ` +
    "'frame-length' met no write whose sector boundary fell in a frame's length field before their heal " +
    '(run more clients, or the fault longer)';
  return verdicts.map((v) =>
    v.property === 'liveness' && v.verdict === 'pass'
      ? { ...v, verdict: 'unknown', details: `${v.details}; ${why}` }
      : v,
  );
}

/** The verdicts of the properties the scenario skips (`checks.skip`): listed, never judged, never a pass. */
export function skippedVerdicts(scenario: Scenario): CheckResult[] {
  return scenario.checks.skip.map((property) => ({
    property,
    verdict: 'skipped',
    details: 'not judged: the scenario skips it (checks.skip)',
    witness: [],
  }));
}

/** The properties a run could not judge (verdict `unknown`), for the table, JSON and JUnit. */
export function unjudged(verdicts: readonly CheckResult[]): string[] {
  return verdicts.filter((v) => v.verdict === 'unknown').map((v) => v.property);
}

/**
 * A lost flush tests one promise: a log shorter than its checkpoint is refused, not started, so no
 * acknowledged record is silently lost. A `disk-lost-flush` fault that found no checkpoint recovery
 * would use (none yet, or every one set aside) loses nothing and tests nothing: a store whose
 * checkpoints are never usable passes it by never being put to it. So while any such fault of the run
 * lost nothing, durable-ack, the property it exists for, cannot pass: it is `unknown`, with why.
 */
export function judgeLostFlushReach(
  verdicts: readonly CheckResult[],
  faults: readonly { type: string }[],
  lostFlushes: number | undefined,
): CheckResult[] {
  const asked = faults.filter((fault) => fault.type === 'disk-lost-flush').length;
  const made = lostFlushes ?? 0;
  if (asked === 0 || made >= asked) return [...verdicts];
  const why =
    `could not judge a lost flush: ${asked - made} of ${asked} disk-lost-flush faults found no checkpoint ` +
    'recovery would use, so they lost nothing (a store with no usable checkpoint cannot tell a lost ' +
    'flush from a torn tail; run more clients, or the fault later, so a checkpoint is written first)';
  return verdicts.map((v) =>
    v.property === 'durable-ack' && v.verdict === 'pass'
      ? { ...v, verdict: 'unknown', details: `${v.details}; ${why}` }
      : v,
  );
}

/**
 * A checkpoint is written to a temp file, synced and renamed: no crash, torn write or lost flush of the
 * harness's leaves a damaged one, only a bit it flipped (disk-bitflip). So a recovery that set aside
 * a checkpoint no fault damaged (LogStorage's checkpointsSetAsideUndamaged) read one the store wrote
 * wrong: it loses nothing (every segment is replayed), but the store's promise of a start from its
 * checkpoint is broken, and a lost flush then meets no checkpoint to cut under, so recovery cannot see
 * that loss. gap-free-store, which judges recovery against a replay of the whole log, fails with it.
 */
export function judgeCheckpointsSetAside(
  verdicts: readonly CheckResult[],
  undamagedSetAside: number | undefined,
): CheckResult[] {
  if ((undamagedSetAside ?? 0) === 0) return [...verdicts];
  const why = `${undamagedSetAside} recoveries set aside as damaged a checkpoint no fault damaged (the store wrote one its own recovery cannot read)`;
  return verdicts.map((v) =>
    v.property === gapFreeStoreProperty ? { ...v, verdict: 'fail', details: `${v.details}; ${why}` } : v,
  );
}

export const storeSegmentSizeProperty = 'store-segment-size';

/**
 * The log rotates its segment file before the next record would take it past `segmentBytesMax`
 * (limits.ts), so a segment is never larger unless it holds one record alone. A log that never rotates
 * is one ever-growing file, which a live server meets past 2 GiB (recovery's fs.readFile refuses it:
 * the node cannot restart) and 4 GiB (a location's offset spills into its segment number), sizes a run
 * of seconds never writes (mutant 2461 of the 4a1ec6e seed-4 sample). The harness set the bound and
 * reads its own disk at the end: every segment file that outgrew it with more than one record in it
 * fails. Judged on log-store runs only; a run whose disk holds no segment judged nothing (`unknown`).
 */
export function judgeSegmentSizes(
  segments: readonly { path: string; bytes: Buffer }[],
  segmentBytesMax: number,
): CheckResult {
  if (segments.length === 0)
    return {
      property: storeSegmentSizeProperty,
      verdict: 'unknown',
      details: 'no segment file on the disk at the end: segment sizes were not judged',
      witness: [],
    };
  // Past the bound with bytes after its first frame (the header's length field says where it ends).
  const oversized = segments.filter(
    ({ bytes }) =>
      bytes.length > segmentBytesMax && (bytes.length < 4 || bytes.length > 8 + bytes.readUInt32LE(0)),
  );
  const largest = Math.max(...segments.map(({ bytes }) => bytes.length));
  const details = `${segments.length} segment files, the largest ${largest} bytes (segmentBytesMax ${segmentBytesMax}, or one record alone)`;
  return oversized.length === 0
    ? { property: storeSegmentSizeProperty, verdict: 'pass', details, witness: [] }
    : {
        property: storeSegmentSizeProperty,
        verdict: 'fail',
        details: `${details}: ${oversized.length} grew past it with more than one record (the log does not rotate; live, a file past 2 GiB cannot be read back at recovery)`,
        witness: oversized.map(({ path, bytes }) => ({ path, bytes: bytes.length })),
      };
}

export const storeOpenFilesProperty = 'store-open-files';

/**
 * A real process holds a bounded number of open files (RLIMIT_NOFILE; this project's machine: 20,000),
 * so a store that keeps a descriptor per segment it ever read runs out of them on a large enough log
 * (EMFILE: segment opens fail, reads answer `unavailable`) however small the simulated log keeps that
 * day. The harness sets the store's bound on idle read handles (`readFilesMax`) and watches the disk:
 * with nothing it asked of the store in flight (no read holding a segment), the store's process may hold
 * those, the segment it writes and a checkpoint it is writing, and no more. Judged on log-store runs
 * only; a run where the store was never seen at rest judged nothing and is `unknown`.
 */
export function judgeOpenFilesAtRest(openFilesAtRestMax: number, readFilesMax: number): CheckResult {
  const bound = readFilesMax + 2;
  if (openFilesAtRestMax < 0)
    return {
      property: storeOpenFilesProperty,
      verdict: 'unknown',
      details:
        'the store was never seen at rest (some request always in flight): its open files were not judged',
      witness: [],
    };
  const details = `at most ${openFilesAtRestMax} files open with no request in flight, of ${bound} allowed (readFilesMax ${readFilesMax}, the segment written, a checkpoint being written)`;
  return openFilesAtRestMax <= bound
    ? { property: storeOpenFilesProperty, verdict: 'pass', details, witness: [] }
    : {
        property: storeOpenFilesProperty,
        verdict: 'fail',
        details: `${details}: a descriptor leak, which a long-lived process meets as EMFILE`,
        witness: [{ openFilesAtRestMax, bound }],
      };
}

export const costedStepsProperty = 'costed-steps';

/**
 * With a cost model every step a node takes is costed by the kind the server's own classifier gives it
 * (input-kind.ts): a step of no costed kind is one the live server's `--cost-meter` throws on (dropping
 * the node's queued inputs), whatever input the harness sent (a malformed frame, a binary one, a frame
 * of an unknown type are all `frame-other`). Judged on cost-model runs only; one that costed no step
 * judged nothing and is `unknown`.
 */
export function judgeCostedSteps(
  nodes: readonly { costedSteps: number; uncostedSteps: ReadonlyMap<string, number> }[],
): CheckResult {
  const costed = nodes.reduce((sum, node) => sum + node.costedSteps, 0);
  const uncosted = new Map<string, number>();
  for (const node of nodes)
    for (const [kind, count] of node.uncostedSteps) uncosted.set(kind, (uncosted.get(kind) ?? 0) + count);
  if (costed === 0 && uncosted.size === 0)
    return {
      property: costedStepsProperty,
      verdict: 'unknown',
      details: 'no step was costed: nothing judged',
      witness: [],
    };
  if (uncosted.size === 0)
    return {
      property: costedStepsProperty,
      verdict: 'pass',
      details: `${costed} steps, each of a kind the cost model costs`,
      witness: [],
    };
  const count = [...uncosted.values()].reduce((sum, n) => sum + n, 0);
  return {
    property: costedStepsProperty,
    verdict: 'fail',
    details: `${count} of ${costed + count} steps were classed as no costed kind (${[...uncosted.keys()].map((kind) => JSON.stringify(kind)).join(', ')}): live, \`serve --cost-meter\` throws on such a step`,
    witness: [...uncosted].map(([kind, steps]) => ({ kind, steps })),
  };
}
