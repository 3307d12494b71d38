// Turns what a live node's cost meter summed (reference-server/runtime/cost-meter.ts) into a cost
// model: a least-squares fit of each step's time against its kind (one intercept per kind) and its
// effect features (frames, recipients, store ops, publishes), kept non-negative by dropping the most
// negative term and fitting again. The spans are wall time: on a shared box they include time the
// node was preempted mid-step, and they miss work done outside them (ws framing and parsing, socket
// writes completing, the log store's continuations, GC). So the fitted costs are scaled to process
// CPU time, what the node would need of a core of its own. Over the calibration's runs, process CPU
// is fitted as a fixed share of a core per wall second plus a cost per message sent (fitProcessCpu);
// what is left after the fixed share is spread over the steps in proportion to their timed spans.
// Dividing all of a run's CPU by its spans instead charges the process's fixed CPU (timers, pings,
// idle GC, the runtime) to its steps: at low rates, where it is most of the CPU, that made every step
// ~2.5× too dear. Messages, not span time, are the regressor: spans grow with preemption on a shared
// box, counts do not. The fixed share stays in the model apart (`fixedCpuShare`): a simulated node
// serves steps with the rest of its core. How much of a core the node actually got while busy (CPU over event-loop busy time)
// is recorded beside it: a simulation of that box divides service times by it (`cpuShare`).

import { effectFeatures, type InputKind } from '../reference-server/core/input-kind.ts';
import type { CostMeterReading } from '../reference-server/runtime/cost-meter.ts';
import type { CostModel } from '../simulator/world/cost-model.ts';

/** One unknown of the fit: a kind's intercept or a feature's cost (indices into the reading). */
type Term = { kind: number } | { feature: number };

/** A kind seen fewer times than this is not fitted: it costs the model's default. */
export const samplesPerKindMin = 20;

export type CostFit = {
  model: CostModel;
  /** CPU time per µs of span time (the fit's slope over the runs): what the fitted costs were multiplied by. */
  scale: number;
  /** How the scale and the fixed share were found (see fitProcessCpu). */
  cpuFit: CpuFit;
  /**
   * Process CPU over event-loop busy time, at most 1: the share of a core the node got while it had
   * work (1 on a machine of its own; lower on a shared box, where it waited for a core mid-step).
   */
  cpuShareWhileBusy: number;
  steps: number;
  /** Per fitted kind: steps, mean measured µs (unscaled), mean the fit gives back (unscaled). */
  kinds: Record<string, { steps: number; meanUs: number; fittedUs: number }>;
};

/** Adds readings (several runs of one calibration) into one. */
export function addReadings(readings: readonly CostMeterReading[]): CostMeterReading {
  const [first, ...rest] = readings;
  if (first === undefined) throw new Error('addReadings: no reading');
  const sum = structuredClone(first) as CostMeterReading;
  for (const r of rest) {
    if (r.kinds.join() !== sum.kinds.join() || r.features.join() !== sum.features.join())
      throw new Error('cost meter readings of different formats');
    addInto(sum.steps, r.steps);
    addInto(sum.stepUs, r.stepUs);
    for (const [i, row] of sum.featureSums.entries()) addInto(row, r.featureSums[i]!);
    for (const [i, row] of sum.featureProducts.entries()) addInto(row, r.featureProducts[i]!);
    addInto(sum.featureTimes, r.featureTimes);
    sum.meteredMs += r.meteredMs;
    sum.eluActiveMs += r.eluActiveMs;
    sum.cpuUs += r.cpuUs;
  }
  return sum;
}

function addInto(into: number[], from: readonly number[]): void {
  for (let i = 0; i < into.length; i++) into[i]! += from[i]!;
}

/** One calibration run's totals, as the cost meter read them when the node drained. */
export type CpuRun = {
  cpuUs: number;
  meteredMs: number;
  spanUs: number;
  sends: number;
  /**
   * How busy the whole box was over the run (every process's CPU over its cores, from /proc/stat), when
   * known: a box with CPU to spare did not starve its nodes, however flat their CPU was.
   */
  boxBusyShare?: number;
};

export type CpuFit = {
  /** Process CPU µs per µs of timed span: what the model's step costs are the spans times. */
  scale: number;
  /**
   * The share of a core a simulated node keeps apart from its steps (the model's `fixedCpuShare`): the
   * fitted fixed CPU less what the steps that come whatever the load (ticks, pings, hellos) already cost
   * at the scale, so the fixed share and the steps together give back the measured CPU at every rate.
   */
  fixedCpuShare: number;
  /** The process CPU the node spends per wall second whatever its load, as fitted, in cores (0..1). */
  measuredFixedCpuShare: number;
  /** The regression's CPU per message sent, µs (0 with the ratio). */
  sendUs: number;
  /**
   * Where a node with a core of its own runs out of it on the calibration's mix: the core less the
   * fixed share, over the CPU per message (null with the ratio). A first estimate of the knee, before
   * any queueing is simulated. On a fleet (every node's CPU and wall added, sends counted once) it
   * is per node: N nodes run out near N times it.
   */
  saturationMsgsPerSec: number | null;
  /** 'regression': fitted over two runs or more; 'ratio': Σ CPU / Σ spans, nothing fixed. */
  method: 'regression' | 'ratio';
  /** Why the ratio was used, when it was; or what the regression was kept despite. */
  why?: string;
};

/**
 * A fit that leaves the messages less than this share of the busiest run's CPU found no load in it:
 * the node's CPU hardly grew with the rate (three nodes, Redis, a generator and the driver on 2 cores
 * at 18:05 UTC: 30% of a core per node at 1,500, 3,000 and 4,500 msgs/s, the event loop 61-73% busy),
 * unless the box was seen to have CPU to spare in every run (`boxBusyShareMax`).
 */
const loadCpuShareMin = 0.1;

/**
 * A box busier than this in a calibration run may have starved its nodes. Under it, a flat CPU is the
 * node's (three nodes on a quiet box, 2026-12-01 02:01: about 28% of a core each at 500-1,500 msgs/s,
 * 61 µs per message, the box's own processes using 1.7 of its 2 cores).
 */
export const boxBusyShareMax = 0.9;

/** Runs whose loads differ by less than this (relative sends per wall second) cannot separate fixed from per-message CPU. */
const sendRateSpreadMin = 0.2;

/** Least squares of `y = a × wall + b × sends` over the runs (no intercept). */
function fitWallAndSends(runs: readonly CpuRun[], y: (r: CpuRun) => number): [number, number] {
  const rows = runs.map((r) => [r.meteredMs * 1000, r.sends]);
  const normal = [0, 1].map((i) => [0, 1].map((j) => rows.reduce((a, row) => a + row[i]! * row[j]!, 0)));
  const vector = [0, 1].map((i) => runs.reduce((a, r, k) => a + rows[k]![i]! * y(r), 0));
  return solve(normal, vector) as [number, number];
}

/**
 * Least squares over the runs of `cpu = fixed × wall + perSend × sends` (no intercept: a run of no
 * length costs nothing). The spans are fitted the same way (`spans = a × wall + b × sends`), and the
 * scale is the CPU per message over the span time per message (perSend / b): the step costs then add
 * up to the measured CPU per message, which sets where the node runs out of its core. (Spreading what
 * is left after the fixed share over all the spans instead gave the steps that come whatever the load
 * their share of it, and a message cost the simulated fleet half of what it cost the live one.) Falls
 * back to the plain ratio when the runs cannot tell the two apart (fewer than two, or loads too alike)
 * or the fit is not physical (a negative term, a fixed share of a whole core or more), and says why.
 */
export function fitProcessCpu(runs: readonly CpuRun[]): CpuFit {
  const cpu = runs.reduce((a, r) => a + r.cpuUs, 0);
  const spans = runs.reduce((a, r) => a + r.spanUs, 0);
  const ratio = (why: string): CpuFit => ({
    scale: spans > 0 && cpu > 0 ? cpu / spans : 1,
    fixedCpuShare: 0,
    measuredFixedCpuShare: 0,
    sendUs: 0,
    saturationMsgsPerSec: null,
    method: 'ratio',
    why,
  });
  const usable = runs.filter((r) => r.meteredMs > 0 && r.spanUs > 0 && r.cpuUs > 0 && r.sends > 0);
  if (usable.length < 2) return ratio('fewer than two runs with sends to fit over');
  const rates = usable.map((r) => r.sends / r.meteredMs);
  if (Math.max(...rates) < Math.min(...rates) * (1 + sendRateSpreadMin))
    return ratio('the runs offered too alike loads to separate fixed from per-message CPU');
  const [fixed, sendUs] = fitWallAndSends(usable, (r) => r.cpuUs);
  if (!(sendUs > 0)) return ratio(`the fit gave a CPU per message of ${round(sendUs)} µs`);
  if (fixed < 0) return ratio(`the fit gave a negative fixed CPU (${round(fixed * 100)}% of a core)`);
  if (fixed >= 1) return ratio(`the fit gave a fixed CPU of ${round(fixed * 100)}% of a core`);
  const busiest = usable.reduce((a, r) => (r.sends / r.meteredMs > a.sends / a.meteredMs ? r : a));
  const loadShare = (sendUs * busiest.sends) / busiest.cpuUs;
  const boxBusy = usable.map((r) => r.boxBusyShare);
  const boxHadRoom = boxBusy.every((b) => b !== undefined && b < boxBusyShareMax);
  let why: string | undefined;
  if (loadShare < loadCpuShareMin) {
    if (!boxHadRoom)
      return ratio(
        `the node's CPU hardly grew with the rate (the fit leaves its messages ${Math.round(loadShare * 100)}% of the busiest run's CPU): was it short of a core? Calibrate where each node has one`,
      );
    why = `kept although the messages are only ${Math.round(loadShare * 100)}% of the busiest run's CPU: the box had CPU to spare in every run (at most ${Math.round(Math.max(...(boxBusy as number[])) * 100)}% busy)`;
  }
  const wallUs = usable.reduce((a, r) => a + r.meteredMs * 1000, 0);
  const usableCpu = usable.reduce((a, r) => a + r.cpuUs, 0);
  const usableSpans = usable.reduce((a, r) => a + r.spanUs, 0);
  const [spanPerWall, spanPerSend] = fitWallAndSends(usable, (r) => r.spanUs);
  // The spans' own split into load and no load; without one (spans that fell with the rate), the CPU
  // left after the fixed share is spread over all of them.
  const split = spanPerSend > 0 && spanPerWall >= 0;
  const scale = split ? sendUs / spanPerSend : (usableCpu - fixed * wallUs) / usableSpans;
  const stepsFixed = split ? scale * spanPerWall : 0;
  return {
    scale,
    fixedCpuShare: Math.max(0, fixed - stepsFixed),
    measuredFixedCpuShare: fixed,
    sendUs,
    saturationMsgsPerSec: Math.round(((1 - fixed) * 1e6) / sendUs),
    method: 'regression',
    ...(why === undefined ? {} : { why }),
  };
}

/**
 * Fits `reading` (the runs added up). `runs`, each run's own reading, set the CPU scale by regression
 * (fitProcessCpu); without them the scale is the reading's CPU over its spans.
 */
export function fitCostModel(
  reading: CostMeterReading,
  about: { name: string; command: string; date: string; machine: string; note?: string },
  runs: readonly CostMeterReading[] = [reading],
  /** How busy the whole box was over each run (same order as `runs`), where it was measured. */
  boxBusyShares: readonly (number | null)[] = [],
): CostFit {
  const kinds = reading.kinds
    .map((kind, index) => ({ kind, index }))
    .filter(({ index }) => reading.steps[index]! >= samplesPerKindMin);
  if (kinds.length === 0)
    throw new Error(
      `the cost meter saw fewer than ${samplesPerKindMin} steps of every kind: nothing to fit (was any load offered?)`,
    );
  const features = reading.features.map((_, index) => index).filter((f) => sumOver(reading, f) > 0);
  // Unknowns: one intercept per fitted kind, then one cost per feature the run exercised.
  let terms: Term[] = [
    ...kinds.map(({ index }) => ({ kind: index })),
    ...features.map((f) => ({ feature: f })),
  ];
  let solution: number[] = [];
  for (;;) {
    solution = solve(normalMatrix(reading, terms), normalVector(reading, terms));
    let worst = -1;
    for (let i = 0; i < solution.length; i++)
      if (solution[i]! < 0 && (worst === -1 || solution[i]! < solution[worst]!)) worst = i;
    if (worst === -1) break;
    terms = terms.filter((_, i) => i !== worst);
  }
  const coefficient = (term: Term): number => {
    const i = terms.findIndex((t) => JSON.stringify(t) === JSON.stringify(term));
    return i === -1 ? 0 : solution[i]!;
  };
  const cpuFit = fitProcessCpu(
    runs.map((run, i) => {
      const busy = boxBusyShares[i];
      return busy === undefined || busy === null ? cpuRun(run) : { ...cpuRun(run), boxBusyShare: busy };
    }),
  );
  const { scale } = cpuFit;
  const effectUs = Object.fromEntries(
    effectFeatures.map((name, f) => [name, round(coefficient({ feature: f }) * scale)]),
  ) as CostModel['effectUs'];
  const inputUs: Partial<Record<InputKind, number>> = {};
  const fitted: CostFit['kinds'] = {};
  for (const { kind, index } of kinds) {
    const intercept = coefficient({ kind: index });
    inputUs[kind] = round(intercept * scale);
    const n = reading.steps[index]!;
    const perFeature = reading.featureSums[index]!;
    let fittedUs = intercept * n;
    for (let f = 0; f < perFeature.length; f++) fittedUs += coefficient({ feature: f }) * perFeature[f]!;
    fitted[kind] = { steps: n, meanUs: round(reading.stepUs[index]! / n), fittedUs: round(fittedUs / n) };
  }
  const intercepts = Object.values(inputUs).sort((a, b) => a - b);
  const model: CostModel = {
    name: about.name,
    measured: {
      command: about.command,
      date: about.date,
      machine: about.machine,
      ...(about.note === undefined ? {} : { note: about.note }),
    },
    inputUs,
    defaultInputUs: intercepts[Math.floor(intercepts.length / 2)]!,
    effectUs,
    ...(cpuFit.fixedCpuShare > 0 ? { fixedCpuShare: round(cpuFit.fixedCpuShare) } : {}),
  };
  return {
    model,
    scale: round(scale),
    cpuFit: {
      ...cpuFit,
      scale: round(cpuFit.scale),
      fixedCpuShare: round(cpuFit.fixedCpuShare),
      measuredFixedCpuShare: round(cpuFit.measuredFixedCpuShare),
      sendUs: round(cpuFit.sendUs),
    },
    cpuShareWhileBusy:
      reading.eluActiveMs > 0 ? Math.min(1, round(reading.cpuUs / 1000 / reading.eluActiveMs)) : 1,
    steps: reading.steps.reduce((a, b) => a + b, 0),
    kinds: fitted,
  };
}

export function cpuRun(reading: CostMeterReading): CpuRun {
  return {
    cpuUs: reading.cpuUs,
    meteredMs: reading.meteredMs,
    spanUs: reading.stepUs.reduce((a, b) => a + b, 0),
    sends: reading.steps[reading.kinds.indexOf('send')] ?? 0,
  };
}

function sumOver(reading: CostMeterReading, feature: number): number {
  return reading.featureSums.reduce((sum, row) => sum + row[feature]!, 0);
}

/** XᵀX for the terms: kind×kind is the kind's step count (one-hot), kind×feature its feature sum. */
function normalMatrix(r: CostMeterReading, terms: readonly Term[]): number[][] {
  return terms.map((a) =>
    terms.map((b) => {
      if ('kind' in a && 'kind' in b) return a.kind === b.kind ? r.steps[a.kind]! : 0;
      if ('kind' in a && 'feature' in b) return r.featureSums[a.kind]![b.feature]!;
      if ('feature' in a && 'kind' in b) return r.featureSums[b.kind]![a.feature]!;
      return r.featureProducts[(a as { feature: number }).feature]![(b as { feature: number }).feature]!;
    }),
  );
}

/** Xᵀy: Σ µs per kind, Σ feature·µs per feature. */
function normalVector(r: CostMeterReading, terms: readonly Term[]): number[] {
  return terms.map((t) => ('kind' in t ? r.stepUs[t.kind]! : r.featureTimes[t.feature]!));
}

/** Gaussian elimination with partial pivoting; a singular column gets 0 (that term is not identified). */
export function solve(matrix: readonly (readonly number[])[], vector: readonly number[]): number[] {
  const n = vector.length;
  const a = matrix.map((row, i) => [...row, vector[i]!]);
  for (let col = 0; col < n; col++) {
    let pivot = col;
    for (let row = col + 1; row < n; row++)
      if (Math.abs(a[row]![col]!) > Math.abs(a[pivot]![col]!)) pivot = row;
    [a[col], a[pivot]] = [a[pivot]!, a[col]!];
    const p = a[col]![col]!;
    if (Math.abs(p) < 1e-12) continue;
    for (let row = 0; row < n; row++) {
      if (row === col) continue;
      const factor = a[row]![col]! / p;
      if (factor === 0) continue;
      for (let k = col; k <= n; k++) a[row]![k]! -= factor * a[col]![k]!;
    }
  }
  return a.map((row, i) => (Math.abs(row[i]!) < 1e-12 ? 0 : row[n]! / row[i]!));
}

function round(n: number): number {
  return Math.round(n * 100) / 100;
}
