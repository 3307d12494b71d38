// Exploration with fast-check: fault schedules and workload parameters are arbitraries, each run of
// the property is one deterministic simulation, and a failure is shrunk to a minimal schedule (fewer
// faults, earlier and shorter, smaller rates) before it is reported. The shrunk scenario is a plain
// scenario value, so it is written to a file and replayed with `chatsim sim <file> --seed N`.

import fc from 'fast-check';
import type { BugName } from '../reference-server/known-bugs/bugs.ts';
import { type FaultSpec, faultTypes, type Scenario, validateScenario } from '../scenarios/scenario.ts';
import { type RunSummary, runScenario } from './run-scenario.ts';

export type Variant = {
  faults: FaultSpec[];
  ratePer1kClients: number;
  churnFraction: number;
  membershipChangesPerMin: number;
  jitter: boolean;
};

/** One fault anywhere in the faults phase, touching a share of clients or one node. */
export function faultArbitrary(scenario: Scenario): fc.Arbitrary<FaultSpec> {
  const window = Math.max(1, scenario.phases.faultsMs);
  return fc
    .record({
      // redis-latency and store-flaky act on the path to a shared store: a scenario with an embedded one has none.
      // disk-misdirected-write and disk-lost-flush lose acked records (one copy of the log): scenarios of their own.
      // disk-open-error reads history itself around its heal: disk-faults runs it (and the draws stay as they were).
      type: fc.constantFrom(
        ...faultTypes.filter(
          (type) =>
            (scenario.topology.store === 'shared' || (type !== 'redis-latency' && type !== 'store-flaky')) &&
            type !== 'disk-misdirected-write' &&
            type !== 'disk-lost-flush' &&
            type !== 'disk-open-error',
        ),
      ),
      atMs: fc.integer({ min: 0, max: window - 1 }),
      durationMs: fc.integer({ min: 100, max: window }),
      fraction: fc.integer({ min: 1, max: 100 }).map((n) => n / 100),
      node: fc.integer({ min: 0, max: scenario.topology.nodes - 1 }),
      target: fc.constantFrom('clients' as const, 'node' as const, 'store' as const),
      latencyMs: fc.integer({ min: 10, max: 2000 }),
      bytesPerSec: fc.integer({ min: 2048, max: 131_072 }),
      offsetMs: fc.integer({ min: -60_000, max: 60_000 }),
      slowFactor: fc.integer({ min: 2, max: 100 }),
    })
    .map((f) => {
      // Each fault type takes only its own parameters (the scenario schema refuses the others).
      const spec: FaultSpec = { type: f.type, atMs: f.atMs };
      const once =
        f.type === 'timeout' ||
        f.type === 'reset_peer' ||
        f.type === 'reconnect-storm' ||
        f.type === 'disk-bitflip';
      if (!once) spec.durationMs = f.durationMs;
      switch (f.type) {
        case 'partition':
          spec.target = f.target;
          if (f.target === 'clients') spec.fraction = f.fraction;
          else spec.node = f.node;
          break;
        case 'latency':
          spec.fraction = f.fraction;
          spec.latencyMs = f.latencyMs;
          spec.jitterMs = Math.floor(f.latencyMs / 2);
          break;
        case 'redis-latency':
          spec.node = f.node;
          spec.latencyMs = f.latencyMs;
          spec.jitterMs = Math.floor(f.latencyMs / 2);
          break;
        case 'bandwidth':
        case 'slow-consumer':
          spec.fraction = f.fraction;
          spec.bytesPerSec = f.bytesPerSec;
          break;
        case 'clock-offset':
          spec.node = f.node;
          spec.offsetMs = f.offsetMs;
          break;
        case 'store-flaky':
          spec.node = f.node;
          spec.fraction = f.fraction;
          break;
        case 'node-crash':
        case 'node-pause':
          spec.node = f.node;
          break;
        case 'rolling-restart':
        case 'store-outage':
        case 'disk-torn-write':
        case 'disk-fsync-error':
        case 'disk-full':
        case 'crash-during-recovery':
          break;
        case 'disk-slow':
          spec.slowFactor = f.slowFactor;
          break;
        case 'disk-bitflip':
          // A flipped record is unreadable for good on one copy: only the checkpoint is explored.
          spec.file = 'checkpoint';
          break;
        default:
          spec.fraction = f.fraction;
      }
      return spec;
    });
}

export function variantArbitrary(scenario: Scenario): fc.Arbitrary<Variant> {
  const base = scenario.workload;
  return fc.record({
    faults: fc.array(faultArbitrary(scenario), { maxLength: 8 }),
    ratePer1kClients: fc.integer({ min: 1, max: Math.max(2, Math.ceil(base.ratePer1kClients * 2)) }),
    churnFraction: fc.integer({ min: 0, max: 50 }).map((n) => n / 100),
    membershipChangesPerMin: fc.integer({ min: 0, max: 60 }),
    jitter: fc.boolean(),
  });
}

/** The base scenario with a variant's schedule and parameters in place of its own. */
export function applyVariant(scenario: Scenario, variant: Variant): Scenario {
  const value = structuredClone(scenario) as unknown as Record<string, unknown> & Scenario;
  value.faults = [...variant.faults].sort((a, b) => a.atMs - b.atMs);
  delete value.swarm;
  value.workload = {
    ...value.workload,
    ratePer1kClients: variant.ratePer1kClients,
    churnFraction: variant.churnFraction,
    membershipChangesPerMin: variant.membershipChangesPerMin,
  };
  value.clients = { ...value.clients, jitter: variant.jitter };
  value.name = `${scenario.name}-explored`;
  return validateScenario(value, `${scenario.name} (explored)`);
}

export type ExploreOptions = {
  runs: number;
  /** fast-check's seed: the same seed explores the same variants. */
  seed: number;
  /** Each simulation's own seed. */
  runSeed: number;
  clients?: number;
  bugs?: readonly BugName[];
  /** Bound on the whole exploration, shrinking included. */
  timeLimitMs?: number;
  onRun?: (summary: RunSummary) => void;
};

export type ExploreResult =
  | { ok: true; runs: number }
  | { ok: false; runs: number; shrinks: number; scenario: Scenario; summary: RunSummary };

/**
 * What exploration hunts: a violated property or a run that never settles. SLO thresholds are set
 * for a scenario's own schedule and say nothing under a random one.
 */
function violates(summary: RunSummary): boolean {
  if (summary.exitCode === 1) return true;
  // Exit 3 for a run that never settled is a finding. A checker that judged nothing because the
  // variant turned its workload off (no typing, no watches) is not: shrinking would otherwise walk
  // towards the emptiest workload instead of the smallest schedule that breaks the server.
  return summary.exitCode === 3 && (summary.settledAtMs === null || failed(summary, 'liveness'));
}

function failed(summary: RunSummary, property: string): boolean {
  return summary.verdicts.some((v) => v.property === property && v.verdict === 'fail');
}

export async function explore(scenario: Scenario, options: ExploreOptions): Promise<ExploreResult> {
  let last: { scenario: Scenario; summary: RunSummary } | null = null;
  const property = fc.asyncProperty(variantArbitrary(scenario), async (variant) => {
    const explored = applyVariant(scenario, variant);
    const summary = await runScenario(explored, {
      seed: options.runSeed,
      ...(options.clients === undefined ? {} : { clients: options.clients }),
      bugs: options.bugs ?? [],
    });
    options.onRun?.(summary);
    if (violates(summary)) last = { scenario: explored, summary };
    return !violates(summary);
  });
  const details = await fc.check(property, {
    numRuns: options.runs,
    seed: options.seed,
    ...(options.timeLimitMs === undefined ? {} : { interruptAfterTimeLimit: options.timeLimitMs }),
  });
  if (!details.failed || details.counterexample === null) return { ok: true, runs: details.numRuns };
  // Replay the shrunk counterexample so what is reported is exactly the minimal failing run.
  const explored = applyVariant(scenario, details.counterexample[0]);
  const summary = await runScenario(explored, {
    seed: options.runSeed,
    ...(options.clients === undefined ? {} : { clients: options.clients }),
    bugs: options.bugs ?? [],
  });
  const failing = violates(summary) ? { scenario: explored, summary } : last!;
  return { ok: false, runs: details.numRuns, shrinks: details.numShrinks, ...failing };
}
