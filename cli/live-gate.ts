// `chatsim gate --live`: the CI gate of a team's own server. The standard scenarios, shortened, over
// fixed seeds, against the chosen target (reference nodes, --server-cmd, --url); JUnit XML; exit
// codes as in `sim`. A fault the target cannot carry out is dropped from that run by name (printed,
// and a skipped test case in the JUnit XML), never silently: the rest of the scenario still runs.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { liveReproCommand } from '../reports/verdict-table.ts';
import { type Scenario, withLiveThresholds } from '../scenarios/scenario.ts';
import { CliError, type CliIo } from './cli-error.ts';
import { gateScenarios, printGateRun, worseExit } from './gate.ts';
import { type LiveFlags, makeTarget, runOrExplain, targetReproFlags, withScenarioNodes } from './live.ts';
import { loadOrExplain } from './sim.ts';

export type LiveGateFlags = LiveFlags & {
  seeds: number[];
  junit: string;
  budgetS: number;
  /** Judge the scenarios' latency thresholds too (off by default: they are calibrated for `sim`). */
  slo?: boolean;
  /** A subset of the standard scenarios (default: all). */
  scenarios?: string[];
  /** Runs at once, each on servers of its own (default 1). */
  parallel?: number;
};

/**
 * How the gate shortens each standard scenario: about 20 s a run here. The warm-up holds the rate-limit
 * press (at 30% of it) and its answers before the first fault. At 1.5 s, crash-restart's crash cut the
 * press off before its acks came; at 3 s, on a box at load 15, churn's and crash-restart's first faults
 * still did, 2 times in 8 (rate-limit could not judge, a red gate); 5 s leaves a loaded machine room.
 * `readEveryMs`: the store is read during the run this often (progressive-read.ts; 60 s by default), so
 * the gate's short runs judge as a soak does: the later reads cover seqs acked 4 s before them.
 */
export const liveGateSize = { faultsMs: 6000, warmupMs: 5000, healMs: 1500, clients: 200, readEveryMs: 4000 };

export async function liveGate(flags: LiveGateFlags, io: CliIo): Promise<number> {
  const { shortenScenario } = await import('../simulator/live/shorten.ts');
  const { runLive, liveCapabilities } = await import('../simulator/live/run-live.ts');
  const { splitLiveFaults } = await import('../simulator/live/live-faults.ts');
  const { junitXml } = await import('../reports/junit.ts');
  const parallel = flags.parallel ?? 1;
  if (parallel > 1 && (flags.url.length > 0 || flags.port !== undefined || flags.redis !== undefined))
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      '--parallel runs each scenario on servers of its own: use it with --nodes or --server-cmd, without --url, --port or --redis',
    );
  const start = Date.now();
  const outDir = join(dirname(flags.junit), 'live-gate');
  mkdirSync(outDir, { recursive: true });
  const planned = flags.seeds.flatMap((seed) =>
    (flags.scenarios ?? gateScenarios).map((name) => ({ seed, name })),
  );
  // JUnit keeps the planned order, whatever order the runs finish in.
  const runs: (import('../reports/junit.ts').GateRun | undefined)[] = planned.map(() => undefined);
  let worst = 0;
  let next = 0;
  let budgetSpent = false;
  let broken = false;

  async function runOne(seed: number, name: string): Promise<import('../reports/junit.ts').GateRun> {
    const full = loadOrExplain(name);
    const short = withLiveThresholds(
      shortenScenario(full, {
        ...liveGateSize,
        clients: flags.clients ?? liveGateSize.clients,
      }),
    );
    // Without a target flag, each scenario runs on the reference nodes its topology names (node-down on
    // two), as `live` does; a fault naming a node the target lacks is dropped below by name.
    const target = await makeTarget(short, withScenarioNodes(short, flags, io), io);
    const { kept: faults, dropped } = splitLiveFaults(short.faults, liveCapabilities(target.fleet));
    // The standard scenarios' latency thresholds describe the simulated network (5 ms links); a live
    // run's latency is the target's hardware and load. Judged only when asked (--slo).
    // The same for repeated pushes: the standard scenarios' bound is what the reference server does.
    const thresholds = flags.slo
      ? short.thresholds
      : { ...short.thresholds, ackLatency: [], repeatedPushes: [] };
    // Real restarts take seconds and clients back off up to 30 s between reconnects: a settle
    // window of a minute (settle still ends as soon as the run converges).
    const phases = { ...short.phases, settleMaxMs: Math.max(short.phases.settleMaxMs, 60_000) };
    const scenario: Scenario = { ...short, faults, thresholds, phases };
    const file = join(outDir, `${name}.json`);
    writeFileSync(file, `${JSON.stringify(scenario, null, 2)}\n`);
    for (const line of dropped) io.out(`SKIP  ${name.padEnd(16)} fault ${line}`);
    const summary = await runOrExplain(() =>
      runLive(scenario, {
        seed,
        fleet: target.fleet,
        secret: target.secret,
        bugs: flags.bug,
        progressiveReadEveryMs: liveGateSize.readEveryMs,
        ...(target.largeGroupThreshold === undefined
          ? {}
          : { largeGroupThreshold: target.largeGroupThreshold }),
        ...(flags.generators === undefined ? {} : { generators: flags.generators }),
        ...(flags.holdOwed === undefined ? {} : { holdOwedMaxMs: flags.holdOwed }),
      }),
    );
    const repro = liveReproCommand(file, seed, undefined, targetReproFlags(target, flags));
    printGateRun(io, name, seed, summary, repro);
    return { summary, repro, skipped: dropped };
  }

  // `parallel` lanes take the planned runs in order; a lane starts no run once the budget is spent.
  async function lane(): Promise<void> {
    while (next < planned.length && !broken) {
      if ((Date.now() - start) / 1000 > flags.budgetS) {
        if (!budgetSpent)
          io.err(`chatsim gate --live: time budget of ${flags.budgetS}s spent; later runs skipped`);
        budgetSpent = true;
        return;
      }
      const index = next++;
      const { seed, name } = planned[index]!;
      const run = await runOne(seed, name).catch((error: unknown) => {
        broken = true; // a target that will not start: the other lanes finish their runs, start none
        throw error;
      });
      runs[index] = run;
      if (run.summary.exitCode !== 0) worst = worseExit(worst, run.summary.exitCode);
    }
  }
  const lanes = await Promise.allSettled(Array.from({ length: Math.min(parallel, planned.length) }, lane));
  const error = lanes.find((outcome) => outcome.status === 'rejected');
  if (error) throw error.reason;

  const done = runs.filter((run) => run !== undefined);
  if (done.length === 0) {
    // A gate that ran nothing proved nothing: never a pass.
    io.err('chatsim gate --live: no run finished within the budget: nothing judged');
    return 3;
  }
  mkdirSync(dirname(flags.junit), { recursive: true });
  writeFileSync(flags.junit, junitXml(done));
  const failed = done.filter((r) => r.summary.exitCode !== 0).length;
  io.out(
    `chatsim gate --live: ${done.length} runs (${failed} failed) in ${((Date.now() - start) / 1000).toFixed(1)} s; JUnit XML at ${flags.junit}`,
  );
  io.out(`\n${done.length - failed} passed, ${failed} failed`);
  const outcome = liveGateExit(worst, planned, runs);
  if (outcome.notRun.length > 0)
    io.err(
      `chatsim gate --live: not judged, the ${flags.budgetS}s budget was spent first: ${outcome.notRun.join(', ')} (exit 3 unless a run did worse; --budget-s gives more time)`,
    );
  return outcome.exitCode;
}

/**
 * The gate's exit code: its runs' worst, and could-not-judge (3) when a planned run was never started
 * (the budget was spent): a scenario the gate did not run is not a pass (2026-12-01 05:17, load 13-22:
 * node-down was cut and the other nine alone decided the exit).
 */
export function liveGateExit(
  worst: number,
  planned: readonly { seed: number; name: string }[],
  runs: readonly unknown[],
): { exitCode: number; notRun: string[] } {
  const notRun = planned
    .filter((_, i) => runs[i] === undefined)
    .map(({ name, seed }) => `${name} seed ${seed}`);
  return { exitCode: notRun.length > 0 ? worseExit(worst, 3) : worst, notRun };
}
