// Times every core step of a live node by kind, for `chatsim capacity --calibrate`: how long each
// step took to run and to carry its effects out (the driver's synchronous span), with the step's
// effect features (frames, recipients, store ops, publishes). It keeps the sums a least-squares fit
// needs (per kind, and the features' cross products), not the samples, so metering a long run costs
// constant memory, and writes them, with the event loop's busy time and the process's CPU over the
// same window, to a file about once a second (write then rename: a reader never sees half a file).

import { renameSync, writeFileSync } from 'node:fs';
import { loadavg } from 'node:os';
import { type EventLoopUtilization, performance } from 'node:perf_hooks';
import type { Effect } from '../core/effects.ts';
import {
  type CoreStep,
  effectFeatures,
  InputClassifier,
  type InputKind,
  inputKinds,
} from '../core/input-kind.ts';

/** What the meter file holds: sums over every step metered since the first. */
export type CostMeterReading = {
  kinds: readonly InputKind[];
  features: readonly string[];
  /** Per kind: steps, Σ µs, Σ of each feature. */
  steps: number[];
  stepUs: number[];
  featureSums: number[][];
  /** Σ f_i·f_j over every step (features × features), and Σ f_j·µs. */
  featureProducts: number[][];
  featureTimes: number[];
  /** Wall ms from the first metered step to this reading. */
  meteredMs: number;
  /** Of those, ms the event loop was busy (not waiting for I/O): the node's own service time. */
  eluActiveMs: number;
  /** Process CPU over the same window (all threads), µs. */
  cpuUs: number;
  loadAverage: number[];
};

const writeEveryMs = 1000;

/**
 * A step the classifier (core/input-kind.ts) named with no kind of `inputKinds`: its cost cannot be
 * told, so the meter, or a cost-model simulation, stops here rather than count NaN or nothing.
 */
export class UncostedStepError extends Error {
  constructor(kind: unknown) {
    super(
      `a core step was classed as ${JSON.stringify(kind) ?? String(kind)}, not one of the costed kinds (reference-server/core/input-kind.ts)`,
    );
    this.name = 'UncostedStepError';
  }
}

export class CostMeter {
  private readonly classifier = new InputClassifier();
  private readonly features = new Array<number>(effectFeatures.length).fill(0);
  private readonly kindIndex = new Map<InputKind, number>(inputKinds.map((kind, i) => [kind, i]));
  private readonly steps = new Array<number>(inputKinds.length).fill(0);
  private readonly stepUs = new Array<number>(inputKinds.length).fill(0);
  private readonly featureSums = inputKinds.map(() => new Array<number>(effectFeatures.length).fill(0));
  private readonly featureProducts = effectFeatures.map(() =>
    new Array<number>(effectFeatures.length).fill(0),
  );
  private readonly featureTimes = new Array<number>(effectFeatures.length).fill(0);
  private startedAt = 0;
  private elu: EventLoopUtilization | null = null;
  private cpu: NodeJS.CpuUsage | null = null;
  private timer: NodeJS.Timeout | null = null;

  /** The driver's StepMeter: bind it (`meter.step.bind(meter)` or an arrow). */
  step(step: CoreStep, effects: readonly Effect[], elapsedMs: number): void {
    if (this.elu === null) {
      this.startedAt = performance.now();
      this.elu = performance.eventLoopUtilization();
      this.cpu = process.cpuUsage();
    }
    const named = this.classifier.kindOf(step);
    const kind = this.kindIndex.get(named);
    if (kind === undefined) throw new UncostedStepError(named);
    const f = this.features;
    f.fill(0);
    this.classifier.effects(effects, f);
    const us = elapsedMs * 1000;
    this.steps[kind]!++;
    this.stepUs[kind]! += us;
    const sums = this.featureSums[kind]!;
    for (let i = 0; i < f.length; i++) {
      const fi = f[i]!;
      if (fi === 0) continue;
      sums[i]! += fi;
      this.featureTimes[i]! += fi * us;
      const row = this.featureProducts[i]!;
      for (let j = 0; j < f.length; j++) row[j]! += fi * f[j]!;
    }
  }

  reading(): CostMeterReading {
    const elu = this.elu === null ? null : performance.eventLoopUtilization(this.elu);
    const cpu = this.cpu === null ? null : process.cpuUsage(this.cpu);
    return {
      kinds: inputKinds,
      features: effectFeatures,
      steps: [...this.steps],
      stepUs: [...this.stepUs],
      featureSums: this.featureSums.map((row) => [...row]),
      featureProducts: this.featureProducts.map((row) => [...row]),
      featureTimes: [...this.featureTimes],
      meteredMs: elu === null ? 0 : performance.now() - this.startedAt,
      eluActiveMs: elu?.active ?? 0,
      cpuUs: cpu === null ? 0 : cpu.user + cpu.system,
      loadAverage: loadavg(),
    };
  }

  /** Writes a reading to `file` now and about every second until `stop`. */
  writeTo(file: string): void {
    const write = () => {
      writeFileSync(`${file}.tmp`, JSON.stringify(this.reading()));
      renameSync(`${file}.tmp`, file);
    };
    write();
    this.timer = setInterval(write, writeEveryMs);
    this.timer.unref();
    this.stop = () => {
      if (this.timer) clearInterval(this.timer);
      this.timer = null;
      write();
    };
  }

  /** Stops writing, after a last reading. */
  stop: () => void = () => {};
}
