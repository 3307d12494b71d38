// A capacity sweep against a live target: step the load (concurrent connections at the scenario's
// per-client rate, then messages/s at the most connections that held), run each step `repeats`
// times as one ordinary live run (runLive: the same generators, checkers and thresholds as
// `chatsim live`, without the scenario's faults), and stop a phase at its first broken step.
// Each run starts a fresh fleet from `target()`, so one step's backlog never leaks into the next.

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
import { ServerSampler } from './server-sampler.ts';

export type CapacityOptions = {
  seed: number;
  /** Client counts of the connections phase, ascending. */
  clientSteps: number[];
  /** msgs/s of the rate phase, ascending (default: 2x, 4x, 8x what the last held connections step offered). */
  rateSteps?: number[];
  repeats: number;
  /** How long each step holds its load (the live run's faults phase, here without faults). */
  stepMs: number;
  /** A fresh target per run (fleet + the secret its tokens are signed with). */
  target: () => Promise<{ fleet: LiveFleet; secret: string }>;
  /** Runs one live run; runLive in production (a parameter so the CLI owns the import). */
  run: (
    scenario: Scenario,
    options: { seed: number; clients: number; fleet: LiveFleet; secret: string },
  ) => Promise<RunSummary>;
  log?: (line: string) => void;
};

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
  server: ReturnType<ServerSampler['stop']>,
  loadMs: number,
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
    deliveryP99Ms: Math.max(live?.latencyMs.deliveryDirect.p99 ?? 0, live?.latencyMs.deliveryGroup.p99 ?? 0),
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
      const { fleet, secret } = await options.target();
      targetName = fleet.reproFlags;
      const sampler = new ServerSampler(() => fleet.urls);
      sampler.start();
      let summary: RunSummary;
      try {
        summary = await options.run(stepped, { seed: options.seed + r, clients, fleet, secret });
      } catch (error) {
        sampler.stop();
        throw error;
      }
      const server = sampler.stop();
      const result = repeatResult(summary, server, warmupMs + faultsMs + healMs);
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
