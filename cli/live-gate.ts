// `chatsim gate --live`: the CI gate of a team's own server. The standard scenarios, shortened, over
// fixed seeds, against the chosen target (reference nodes, --server-cmd, --url); JUnit XML; exit
// codes as in `sim`. A fault the target cannot carry out is dropped from that run by name (printed,
// and a skipped test case in the JUnit XML), never silently: the rest of the scenario still runs.

import { mkdirSync, writeFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { liveReproCommand } from '../reports/verdict-table.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { CliIo } from './cli-error.ts';
import { gateScenarios, printGateRun, worseExit } from './gate.ts';
import { type LiveFlags, makeTarget, runOrExplain } from './live.ts';
import { loadOrExplain } from './sim.ts';

export type LiveGateFlags = LiveFlags & {
  seeds: number[];
  junit: string;
  budgetS: number;
  /** Judge the scenarios' latency thresholds too (off by default: they are calibrated for `sim`). */
  slo?: boolean;
  /** A subset of the standard scenarios (default: all). */
  scenarios?: string[];
};

/** How the gate shortens each standard scenario: about 20 s a run here. */
export const liveGateSize = { faultsMs: 6000, warmupMs: 1500, healMs: 1500, clients: 200 };

export async function liveGate(flags: LiveGateFlags, io: CliIo): Promise<number> {
  const { shortenScenario } = await import('../simulator/live/shorten.ts');
  const { runLive } = await import('../simulator/live/run-live.ts');
  const { liveRefusal } = await import('../simulator/live/live-faults.ts');
  const { junitXml } = await import('../reports/junit.ts');
  const start = Date.now();
  const runs: import('../reports/junit.ts').GateRun[] = [];
  const outDir = join(dirname(flags.junit), 'live-gate');
  mkdirSync(outDir, { recursive: true });
  let worst = 0;
  for (const seed of flags.seeds)
    for (const name of flags.scenarios ?? gateScenarios) {
      if ((Date.now() - start) / 1000 > flags.budgetS) {
        io.err(`chatsim gate --live: time budget of ${flags.budgetS}s spent; later runs skipped`);
        break;
      }
      const full = loadOrExplain(name);
      const short = shortenScenario(full, {
        ...liveGateSize,
        clients: flags.clients ?? liveGateSize.clients,
      });
      const target = await makeTarget(short, flags, io);
      const caps = { canSignal: target.fleet.canSignal, network: true };
      const dropped: string[] = [];
      const faults = short.faults.filter((fault) => {
        const why = liveRefusal(fault, caps);
        if (why !== null) dropped.push(`${fault.type}@${fault.atMs}ms: ${why}`);
        return why === null;
      });
      // The standard scenarios' latency thresholds describe the simulated network (5 ms links); a live
      // run's latency is the target's hardware and load. Judged only when asked (--slo).
      const thresholds = flags.slo ? short.thresholds : { ...short.thresholds, ackLatency: [] };
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
          ...(flags.generators === undefined ? {} : { generators: flags.generators }),
        }),
      );
      const repro = liveReproCommand(file, seed, undefined, target.fleet.reproFlags);
      runs.push({ summary, repro, skipped: dropped });
      printGateRun(io, name, seed, summary, repro);
      if (summary.exitCode !== 0) worst = worseExit(worst, summary.exitCode);
    }
  mkdirSync(dirname(flags.junit), { recursive: true });
  writeFileSync(flags.junit, junitXml(runs));
  const failed = runs.filter((r) => r.summary.exitCode !== 0).length;
  io.out(
    `chatsim gate --live: ${runs.length} runs (${failed} failed) in ${((Date.now() - start) / 1000).toFixed(1)} s; JUnit XML at ${flags.junit}`,
  );
  io.out(`\n${runs.length - failed} passed, ${failed} failed`);
  return worst;
}
