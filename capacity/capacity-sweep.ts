// A capacity sweep against a live target: step the load (concurrent connections at the scenario's
// per-client rate, then messages/s at the most connections that held), run each step `repeats`
// times as one ordinary run without the scenario's faults (live: runLive, the same generators,
// checkers and thresholds as `chatsim live`; --sim: runScenario with a cost model), and stop a phase
// at its first broken step.

import type { Scenario } from '../scenarios/scenario.ts';
import type { LiveFleet } from '../simulator/live/fleet.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import {
  findKnee,
  type Knee,
  type RepeatResult,
  type StepResult,
  type SweepPhase,
  stepHeld,
} from './knee.ts';
import { type ServerFigures, ServerSampler } from './server-sampler.ts';

export type CapacityOptions = {
  seed: number;
  /** Client counts of the connections phase, ascending. */
  clientSteps: number[];
  /** msgs/s of the rate phase, ascending (default: 2x, 4x, 8x what the last held connections step offered). */
  rateSteps?: number[];
  repeats: number;
  /** How long each step holds its load (the live run's faults phase, here without faults). */
  stepMs: number;
  /** Runs one repeat of one step: a live run on a fresh fleet (liveStep) or a simulated one (capacity-sim.ts). */
  runStep: StepRunner;
  log?: (line: string) => void;
};

/** One run of one step: what it summed up, what the server(s) measured, and what the target was. */
export type StepRunner = (
  scenario: Scenario,
  options: { seed: number; clients: number },
) => Promise<{ summary: RunSummary; server: ServerFigures; target: string; deliveryP99Ms?: number }>;

/**
 * A live step: a fresh target per run (so one step's backlog never leaks into the next), its nodes'
 * /metrics sampled for CPU and memory while the run lasts.
 */
export function liveStep(
  target: () => Promise<{ fleet: LiveFleet; secret: string }>,
  run: (
    scenario: Scenario,
    options: { seed: number; clients: number; fleet: LiveFleet; secret: string },
  ) => Promise<RunSummary>,
): StepRunner {
  return async (scenario, { seed, clients }) => {
    const { fleet, secret } = await target();
    const sampler = new ServerSampler(() => fleet.urls);
    let server: ServerFigures | undefined;
    try {
      // The baseline for memory per connection is a sample taken once the nodes are up and before any client
      // connects: sampling started beside the run raced the connects on a loaded box (no baseline, no figure).
      const sampled = sampledOnStart(fleet, sampler);
      const summary = await run(scenario, { seed, clients, fleet: sampled, secret });
      server = sampler.stop();
      return { summary, server, target: fleet.reproFlags };
    } finally {
      if (server === undefined) sampler.stop();
    }
  };
}

export type CapacityReport = {
  scenario: string;
  seed: number;
  target: string;
  repeats: number;
  stepMs: number;
  thresholds: Scenario['thresholds'];
  steps: StepResult[];
  knee: Knee;
};

/** The scenario one step runs: its clients and rate, its phases, no faults. */
export function stepScenario(
  scenario: Scenario,
  clients: number,
  msgsPerSec: number,
  stepMs: number,
): Scenario {
  const { swarm: _swarm, ...rest } = scenario;
  return {
    ...rest,
    clients: { ...scenario.clients, count: clients },
    workload: {
      ...scenario.workload,
      executor: 'constant-arrival-rate',
      ratePer1kClients: (msgsPerSec * 1000) / clients,
    },
    phases: { ...scenario.phases, faultsMs: stepMs, healMs: Math.min(scenario.phases.healMs, 2000) },
    faults: [],
  };
}

/** msgs/s the scenario offers at `clients` (its rate scales with the client count). */
export function offeredAt(scenario: Scenario, clients: number): number {
  return (scenario.workload.ratePer1kClients * clients) / 1000;
}

/** What one run says about capacity: its rates, tails, resources, and why it did not hold. */
export function repeatResult(
  summary: RunSummary,
  server: ServerFigures,
  loadMs: number,
  deliveryP99Ms?: number,
): RepeatResult {
  const broke: string[] = [];
  for (const s of summary.slo) if (!s.pass) broke.push(`threshold ${s.name} (actual ${round(s.actual)})`);
  for (const v of summary.verdicts) if (v.verdict === 'fail') broke.push(`check ${v.property} failed`);
  for (const v of summary.verdicts)
    if (v.verdict === 'unknown') broke.push(`check ${v.property} could not judge`);
  if (summary.settledAtMs === null) broke.push('did not settle');
  if (summary.exitCode !== 0 && broke.length === 0) broke.push(`exit ${summary.exitCode}`);
  const live = summary.live;
  const seconds = loadMs / 1000;
  return {
    exitCode: summary.exitCode,
    broke,
    sentPerSec: summary.messages.sent / seconds,
    ackedPerSec: summary.messages.acked / seconds,
    displayedPerSec: summary.messages.displayed / seconds,
    failedSends: summary.messages.failed,
    ackP99Ms: live?.latencyMs.ack.p99 ?? summary.ackLatencyMsP99,
    deliveryP99Ms:
      deliveryP99Ms ??
      Math.max(live?.latencyMs.deliveryDirect.p99 ?? 0, live?.latencyMs.deliveryGroup.p99 ?? 0),
    serverCpuShare: server.cpuShare,
    serverBytesPerConnection: server.bytesPerConnection,
    serverConnectionsPeak: server.connectionsPeak,
    generatorCpuShareMax: live?.generatorCpuShareMax ?? 0,
    generatorRssBytesMax: live?.generatorRssBytesMax ?? 0,
    generatorLimited: live?.loadLimited ?? false,
  };
}

export async function runCapacity(scenario: Scenario, options: CapacityOptions): Promise<CapacityReport> {
  const log = options.log ?? (() => {});
  const steps: StepResult[] = [];
  let targetName = '';
  const runStep = async (phase: SweepPhase, clients: number, msgsPerSec: number): Promise<StepResult> => {
    const stepped = stepScenario(scenario, clients, msgsPerSec, options.stepMs);
    const { warmupMs, faultsMs, healMs } = stepped.phases;
    const repeats: RepeatResult[] = [];
    for (let r = 0; r < options.repeats; r++) {
      const step = await options.runStep(stepped, { seed: options.seed + r, clients });
      targetName = step.target;
      const result = repeatResult(
        step.summary,
        step.server,
        warmupMs + faultsMs + healMs,
        step.deliveryP99Ms,
      );
      repeats.push(result);
      log(
        `${phase} step ${clients} clients, ${round(msgsPerSec)} msgs/s offered, repeat ${r + 1}/${options.repeats}: ${round(result.ackedPerSec)} acked/s, ack p99 ${round(result.ackP99Ms)} ms, ${result.broke.length === 0 ? 'held' : `broke: ${result.broke.join('; ')}`}`,
      );
    }
    const step = { phase, clients, offeredMsgsPerSec: msgsPerSec, repeats, held: stepHeld(repeats) };
    steps.push(step);
    return step;
  };

  let heldClients: number | null = null;
  for (const clients of options.clientSteps) {
    const step = await runStep('connections', clients, offeredAt(scenario, clients));
    if (!step.held) break;
    heldClients = clients;
  }
  if (heldClients !== null) {
    const base = offeredAt(scenario, heldClients);
    const rates = options.rateSteps ?? [2, 4, 8].map((f) => base * f);
    for (const rate of rates.filter((r) => r > base)) {
      const step = await runStep('rate', heldClients, rate);
      if (!step.held) break;
    }
  }
  return {
    scenario: scenario.name,
    seed: options.seed,
    target: targetName,
    repeats: options.repeats,
    stepMs: options.stepMs,
    thresholds: scenario.thresholds,
    steps,
    knee: findKnee(steps),
  };
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}

/** `fleet`, whose start takes the sampler's first sample and then starts its polling. */
function sampledOnStart(fleet: LiveFleet, sampler: ServerSampler): LiveFleet {
  return new Proxy(fleet, {
    get(target, key) {
      if (key === 'start')
        return async () => {
          await target.start();
          await sampler.start();
        };
      const value = Reflect.get(target, key, target);
      return typeof value === 'function' ? value.bind(target) : value;
    },
  });
}
