// `chatsim capacity <scenario>`: a load sweep against the same targets as `chatsim live` (--nodes,
// --server-cmd, --url), each step an ordinary live run without faults, to find the knee: the last
// step that held every SLO threshold and check of the scenario, and the first that did not.
// Exit 0 when the sweep bracketed the knee; 3 when it could not (every step held, or the first broke):
// the figure it was asked for is not there, which is not a pass.

import { randomBytes, randomInt } from 'node:crypto';
import { writeFileSync } from 'node:fs';
import { basename } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import type { CapacityReport, StepRunner } from '../capacity/capacity-sweep.ts';
import { type Scenario, ScenarioError } from '../scenarios/scenario.ts';
import type { CostModel } from '../simulator/world/cost-model.ts';
import { addPlanFlags, type PlanFlags, planCommand } from './capacity-plan.ts';
import { CliError, type CliIo, commanderOutput } from './cli-error.ts';
import { addTargetFlags, type LiveFlags, makeTarget, parseDuration, runOrExplain } from './live.ts';
import type { CommandResult } from './main.ts';
import { loadOrExplain, parseSeed } from './sim.ts';

type CapacityFlags = Omit<LiveFlags, 'clients'> & {
  clients?: number[];
  rates?: number[];
  repeats: number;
  stepDuration: number;
  calibrate?: boolean;
  out?: string;
  sim?: boolean;
  costModel?: string;
  cpuShare?: number;
  /** false with --no-host: each simulated node gets a core of its own (or --cpu-share of one). */
  host: boolean;
};

export function registerCapacity(program: Command, result: CommandResult, io: CliIo): void {
  const command = program
    .command('capacity')
    .description(
      'step live load (connections, then msgs/s) until a threshold or check of the scenario breaks; report the knee and the capacity curve',
    )
    .configureOutput(commanderOutput(io, 'chatsim capacity --help'))
    .argument('[scenario]', 'scenario name (steady, ...) or path to a .json file (not with --plan)');
  addTargetFlags(command)
    .option('--seed <n>', 'root seed (default: a fresh random one, printed)', parseSeed)
    .option(
      '--clients <list>',
      "connection steps, ascending, e.g. 200,400,800 (default: 1/2, 1, 2 and 4 times the scenario's clients)",
      parseList,
    )
    .option(
      '--rates <list>',
      'msgs/s steps at the most connections that held (default: 2, 4 and 8 times what that step offered)',
      parseList,
    )
    .option('--repeats <n>', 'runs per step; a step holds only if every run held', parseRepeats, 2)
    .option('--step-duration <time>', 'load held per step (e.g. 10s, 1m)', parseDuration, 10_000)
    .option('--json', 'print the sweep as JSON instead of the table')
    .option(
      '--report <dir>',
      'write capacity.json, capacity.md and capacity.html (the chart) into this directory',
    )
    .option('--no-progress', 'no progress lines on stderr')
    .option(
      '--sim',
      "sweep simulated runs instead of live ones: each node step costs the service time of a calibrated cost model (see --cost-model), so the knee is the model's prediction",
    )
    .option(
      '--cost-model <name>',
      "with --sim: a cost model in scenarios/cost-model/ or a path to one (default: the scenario's costModel, else reference-server)",
    )
    .option(
      '--cpu-share <share>',
      'with --sim: the share of a core each simulated node gets (0..1; default 1, a core of its own); --calibrate prints the share the node got on the box it measured',
      parseShare,
    )
    .option(
      '--no-host',
      "with --sim: ignore the cost model's host (the measured box's cores, shared with the generators, the driver and Redis): each node gets a core of its own",
    )
    .option(
      '--calibrate',
      "measure the reference server's cost per core step (--nodes N reference nodes it starts with serve --cost-meter, default 1; a run per --rates step at the first --clients step) and write a cost model for the simulator",
    )
    .option(
      '--out <file>',
      'with --calibrate: where the cost model goes (default scenarios/cost-model/reference-server.json)',
    );
  addPlanFlags(command).action(async (scenarioArg: string | undefined, flags: CapacityFlags & PlanFlags) => {
    if (flags.plan) {
      if (scenarioArg !== undefined)
        throw new CliError(
          'CHATSIM_ERR_USAGE',
          '--plan sizes a fleet from a sweep (--from FILE): leave out the scenario',
        );
      result.exitCode = await planCommand(flags, io);
      return;
    }
    if (scenarioArg === undefined)
      throw new CliError(
        'CHATSIM_ERR_USAGE',
        "name a scenario to sweep (or --plan --from capacity.json; see 'chatsim capacity --help')",
      );
    result.exitCode = flags.calibrate
      ? await calibrateCommand(scenarioArg, flags, io)
      : await capacityCommand(scenarioArg, flags, io);
  });
}

async function calibrateCommand(scenarioArg: string, flags: CapacityFlags, io: CliIo): Promise<number> {
  if (flags.serverCmd !== undefined || flags.url.length > 0 || flags.bug.length > 0)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      '--calibrate meters reference-server nodes it starts itself (--nodes N, default 1): leave out --server-cmd, --url and --bug',
    );
  const nodes = flags.nodes ?? 1;
  const scenario = loadOrExplain(scenarioArg);
  const { calibrate, costModelFile } = await import('../capacity/calibrate.ts');
  const { offeredAt } = await import('../capacity/capacity-sweep.ts');
  const { costModelPath } = await import('../scenarios/load-cost-model.ts');
  const { referenceFleet } = await import('../simulator/live/reference-fleet.ts');
  const { runLive } = await import('../simulator/live/run-live.ts');
  const clients = flags.clients?.[0] ?? Math.min(scenario.clients.count, 300);
  const rates = flags.rates ?? [1, 2, 4].map((f) => Math.round(offeredAt(scenario, clients) * f));
  const seed = flags.seed ?? randomInt(0, 2 ** 47);
  const out = flags.out ?? costModelPath('reference-server');
  const say = (line: string) => {
    if (flags.progress) io.err(`chatsim capacity: ${line}`);
  };
  say(
    `calibrating on ${scenario.name} seed ${seed}: ${clients} clients at ${rates.join(', ')} msgs/s, ${flags.stepDuration / 1000} s each`,
  );
  const calibration = await calibrate(scenario, {
    seed,
    clients,
    rates,
    stepMs: flags.stepDuration,
    name: basename(out, '.json'),
    command: `npx chatsim capacity ${scenarioArg} --calibrate${nodes === 1 ? '' : ` --nodes ${nodes}`} --seed ${seed} --clients ${clients} --rates ${rates.join(',')} --step-duration ${flags.stepDuration / 1000}s`,
    nodes,
    target: async (meterFile) => {
      const secret = randomBytes(24).toString('hex');
      const options = {
        nodes,
        secret,
        limits: scenario.limits,
        bugs: [],
        serveArgs: ['--cost-meter', meterFile],
        ...(flags.port === undefined ? {} : { basePort: flags.port }),
      };
      if (nodes === 1) return { secret, fleet: referenceFleet(options) };
      const { RedisFleet } = await import('../simulator/live/redis-fleet.ts');
      return {
        secret,
        fleet: new RedisFleet({
          ...options,
          ...(flags.redis === undefined ? {} : { redisUrl: flags.redis }),
        }),
      };
    },
    run: (stepped, options) =>
      runOrExplain(() => runLive(stepped, { ...options, faults: [], log: (line) => say(`  ${line}`) })),
    log: say,
  });
  writeFileSync(out, costModelFile(calibration));
  if (flags.json) io.out(JSON.stringify(calibration));
  else {
    const { cpuFit } = calibration;
    io.out(
      `cost model ${calibration.model.name} (${calibration.steps} steps metered; CPU µs per step, spans scaled x${calibration.scale} to process CPU):`,
    );
    io.out(
      cpuFit.method === 'regression'
        ? `  process CPU = ${Math.round(cpuFit.measuredFixedCpuShare * 100)}% of a core fixed + ${cpuFit.sendUs} µs per message (fitted over ${calibration.runs.length} runs${cpuFit.why === undefined ? '' : `; ${cpuFit.why}`}); the steps cost their spans x${cpuFit.scale}, and ${Math.round(cpuFit.fixedCpuShare * 100)}% of a core is kept apart for what comes whatever the load. ${nodes === 1 ? 'A node with a core of its own runs out of it' : `${nodes} nodes with a core each run out of them`} near ${(cpuFit.saturationMsgsPerSec ?? 0) * nodes} msgs/s of this mix`
        : `  process CPU over span time, nothing fixed kept apart: ${cpuFit.why}`,
    );
    for (const [kind, us] of Object.entries(calibration.model.inputUs))
      io.out(`  ${kind.padEnd(16)} ${us} µs`);
    for (const [feature, us] of Object.entries(calibration.model.effectUs))
      io.out(`  per ${feature.padEnd(12)} ${us} µs`);
    io.out(
      `the node got ${Math.round(calibration.cpuShareWhileBusy * 100)}% of a core while busy on this box: capacity --sim --cpu-share ${calibration.cpuShareWhileBusy} predicts for it; without, for a node with a core of its own`,
    );
    const host = calibration.model.host;
    if (host !== undefined)
      io.out(
        `the box: ${host.cores} cores; beside the nodes, ${host.others} spent ${Math.round(host.othersFixedCores * 100)}% of a core whatever the load + ${host.othersUsPerMessage} µs per message: capacity --sim shares the cores with them (--no-host: a core per node)${calibration.boxSaturationMsgsPerSec === null ? '' : `. By the fits alone the box runs out of CPU near ${calibration.boxSaturationMsgsPerSec} msgs/s of this mix`}`,
      );
    io.out(`wrote ${out}`);
  }
  return 0;
}

async function capacityCommand(scenarioArg: string, flags: CapacityFlags, io: CliIo): Promise<number> {
  const loaded = loadOrExplain(scenarioArg);
  // --sim --nodes N simulates N nodes over one shared store (as live --nodes N runs them over Redis).
  const scenario: Scenario =
    flags.sim && flags.nodes !== undefined && flags.nodes !== loaded.topology.nodes
      ? {
          ...loaded,
          topology: {
            ...loaded.topology,
            nodes: flags.nodes,
            store: flags.nodes === 1 ? 'embedded' : 'shared',
          },
        }
      : loaded;
  const { liveStep, runCapacity } = await import('../capacity/capacity-sweep.ts');
  const { runLive } = await import('../simulator/live/run-live.ts');
  const { capacityMarkdown, writeCapacityReport } = await import('../reports/capacity-report.ts');
  const base = scenario.clients.count;
  const clientSteps = flags.clients ?? [0.5, 1, 2, 4].map((f) => Math.max(2, Math.round(base * f)));
  const seed = flags.seed ?? randomInt(0, 2 ** 47);
  const liveFlags = { ...flags, clients: undefined } as LiveFlags;
  const say = (line: string) => {
    if (flags.progress) io.err(`chatsim capacity: ${line}`);
  };
  let runStep: StepRunner;
  if (flags.sim) {
    if (
      flags.serverCmd !== undefined ||
      flags.url.length > 0 ||
      flags.redis !== undefined ||
      flags.bug.length > 0
    )
      throw new CliError(
        'CHATSIM_ERR_USAGE',
        '--sim sweeps the simulator: leave out --server-cmd, --url, --redis and --bug (--nodes N sets how many nodes it simulates)',
      );
    const { loadCostModel } = await import('../scenarios/load-cost-model.ts');
    const { simStep } = await import('../capacity/capacity-sim.ts');
    const name = flags.costModel ?? scenario.costModel ?? 'reference-server';
    const loaded = loadCostModelOrExplain(() => loadCostModel(name));
    const { host, ...unhosted } = loaded;
    const hosted: CostModel = flags.host && host !== undefined ? { ...unhosted, host } : unhosted;
    const costModel = flags.cpuShare === undefined ? hosted : { ...hosted, cpuShare: flags.cpuShare };
    const { stepCpuShare } = await import('../simulator/world/cost-model.ts');
    if (!(stepCpuShare(costModel) > 0))
      throw new CliError(
        'CHATSIM_ERR_USAGE',
        `--cpu-share ${costModel.cpuShare} leaves nothing for steps: cost model ${costModel.name} spends ${costModel.fixedCpuShare} of a core whatever its load (fixedCpuShare)`,
      );
    say(
      `simulated, cost model ${costModel.name} (${costModel.measured.date}: ${costModel.measured.command})${costModel.host === undefined ? '; a core per node' : `; the nodes share ${costModel.host.cores} cores with ${costModel.host.others} (${costModel.host.othersFixedCores} cores + ${costModel.host.othersUsPerMessage} µs per message)`}`,
    );
    runStep = simStep(costModel);
  } else {
    // A target problem shows on the first step, before any load: one line, exit 2.
    const { largeGroupThreshold } = await makeTarget(scenario, liveFlags, io);
    runStep = liveStep(
      () => makeTarget(scenario, liveFlags, io),
      (stepped, options) =>
        runOrExplain(() =>
          runLive(stepped, {
            ...options,
            faults: [],
            ...(largeGroupThreshold === undefined ? {} : { largeGroupThreshold }),
            log: (line) => say(`  ${line}`),
          }),
        ),
    );
  }
  say(
    `${scenario.name} seed ${seed}: ${clientSteps.length} connection step(s), ${flags.repeats} repeat(s) of ${flags.stepDuration / 1000} s each`,
  );
  const report: CapacityReport = await runCapacity(scenario, {
    seed,
    clientSteps,
    ...(flags.rates === undefined ? {} : { rateSteps: flags.rates }),
    repeats: flags.repeats,
    stepMs: flags.stepDuration,
    runStep,
    log: say,
  });
  if (flags.json) io.out(JSON.stringify(report));
  else io.out(capacityMarkdown(report));
  if (flags.report) {
    const files = writeCapacityReport(flags.report, report);
    say(`wrote ${files.join(', ')}`);
  }
  return report.knee.lastHeld !== null && report.knee.firstBroken !== null ? 0 : 3;
}

function parseList(value: string): number[] {
  const list = value.split(',').map((v) => Number(v.trim()));
  if (list.length === 0 || list.some((n) => !Number.isFinite(n) || n <= 0))
    throw new InvalidArgumentError('takes a comma-separated list of positive numbers, e.g. 200,400,800');
  for (let i = 1; i < list.length; i++)
    if (list[i]! <= list[i - 1]!) throw new InvalidArgumentError('the steps must be ascending');
  return list;
}

function parseRepeats(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 20)
    throw new InvalidArgumentError('takes an integer from 1 to 20');
  return n;
}

/** A missing or broken cost model is a usage problem: one line per problem, exit 2. */
function loadCostModelOrExplain<T>(load: () => T): T {
  try {
    return load();
  } catch (error) {
    if (error instanceof ScenarioError) throw new CliError('CHATSIM_ERR_USAGE', error.message);
    throw error;
  }
}

function parseShare(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1))
    throw new InvalidArgumentError('takes a share of a core above 0 and at most 1, e.g. 0.4');
  return n;
}
