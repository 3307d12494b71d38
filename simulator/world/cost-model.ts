// What each core step costs a node in service time, from a calibrated cost model (data beside the
// scenarios, scenarios/cost-model/*.json, written by `chatsim capacity --calibrate`): a cost per input
// kind plus a cost per frame, recipient, store op and publish in the step's effects. With a model, a
// simulated node is a single-threaded server in virtual time (node-queue.ts): a step starts when the
// node is free, and its effects leave when its service time is over, so overload shows as queueing.

import type { Effect } from '../../reference-server/core/effects.ts';
import {
  type CoreStep,
  effectFeatures,
  InputClassifier,
  type InputKind,
  inputKinds,
} from '../../reference-server/core/input-kind.ts';
import { UncostedStepError } from '../../reference-server/runtime/cost-meter.ts';

/**
 * The box the model was measured on, as its calibration saw it: its cores, and what the processes
 * beside the nodes (Redis, the load generators, the driver and its checkers) spent, fitted over the
 * runs as cores whatever the load plus CPU per message sent. With it, simulated nodes share the cores
 * those processes leave (host-cpu.ts) instead of each having one.
 */
export type HostShare = {
  cores: number;
  othersFixedCores: number;
  othersUsPerMessage: number;
  /** Which processes the others were (for the reader). */
  others: string;
};

export type CostModel = {
  name: string;
  /** How the figures were made: the command, when, where (shown in reports; not used to cost). */
  measured: { command: string; date: string; machine: string; note?: string };
  /** Service time of a step of each kind, before its effects (µs). Kinds not listed cost `defaultInputUs`. */
  inputUs: Partial<Record<InputKind, number>>;
  /** A kind the calibration did not see (µs). */
  defaultInputUs: number;
  /** Service time per effect feature (µs): per frame sent, per recipient of a frame, per store op, per publish. */
  effectUs: Record<(typeof effectFeatures)[number], number>;
  /**
   * The share of a core each node gets (0..1; default 1, a core of its own): a step's service time
   * is its cost over this, less `fixedCpuShare`. Below 1 models a node that competes for its core (a
   * shared box).
   */
  cpuShare?: number;
  /**
   * The share of a core a node spends whatever its load (timers, pings, idle GC, the runtime), which
   * the calibration fitted apart from the steps (default 0): steps are served with what is left.
   */
  fixedCpuShare?: number;
  /** The measured box: nodes share its cores with the other processes (absent: a core per node). */
  host?: HostShare;
};

/** The share of a core left for steps: what `cpuShare` gives less what `fixedCpuShare` takes. */
export function stepCpuShare(model: CostModel): number {
  return (model.cpuShare ?? 1) - (model.fixedCpuShare ?? 0);
}

/** Costs one node's steps; owns the classifier's memory of the node's store ops in flight. */
export class StepCoster {
  private readonly classifier = new InputClassifier();
  private readonly features = [0, 0, 0, 0];
  private readonly inputUs = new Map<InputKind, number>();
  private readonly effectUs: readonly number[];
  private readonly msPerUs: number;

  constructor(model: CostModel) {
    for (const kind of inputKinds) this.inputUs.set(kind, model.inputUs[kind] ?? model.defaultInputUs);
    this.effectUs = effectFeatures.map((feature) => model.effectUs[feature]);
    const share = stepCpuShare(model);
    if (!(share > 0))
      throw new Error(
        `cost model ${model.name}: a cpu share of ${model.cpuShare ?? 1} leaves nothing for steps after the fixed ${model.fixedCpuShare}`,
      );
    this.msPerUs = 1 / 1000 / share;
  }

  kindOf(step: CoreStep): InputKind {
    return this.classifier.kindOf(step);
  }

  /** Service time (ms of virtual time) of a step of `kind` that produced `effects`. */
  serviceMs(kind: InputKind, effects: readonly Effect[]): number {
    return this.cpuUs(kind, effects) * this.msPerUs;
  }

  /** CPU time (µs of a whole core) of a step of `kind` that produced `effects`. */
  cpuUs(kind: InputKind, effects: readonly Effect[]): number {
    const features = this.features;
    features.fill(0);
    this.classifier.effects(effects, features);
    let us = this.inputUs.get(kind);
    if (us === undefined) throw new UncostedStepError(kind);
    for (let i = 0; i < features.length; i++) us += features[i]! * this.effectUs[i]!;
    return us;
  }

  reset(): void {
    this.classifier.reset();
  }
}
