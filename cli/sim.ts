// `chatsim sim <scenario>`: one deterministic simulation. Progress on stderr, the verdict table (or
// --json) on stdout, a report file when asked, and the exit code CI gates on: 0 pass, 1 property
// violated, 2 SLO breached, 3 could not judge (the run did not settle, or a checker could not
// decide). A failure prints the one command that replays it.

import { randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { availableParallelism, totalmem } from 'node:os';
import { dirname } from 'node:path';
import { type Command, InvalidArgumentError } from 'commander';
import { type BugName, bugNames } from '../reference-server/known-bugs/bugs.ts';
import { reproCommand, verdictLine, verdictTable } from '../reports/verdict-table.ts';
import type { RunReportInput } from '../reports/write-run-report.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { ScenarioError } from '../scenarios/scenario.ts';
import {
  cgroupLimitFiles,
  estimatePeak,
  expectedSends,
  memoryLimit,
  memoryWarning,
  refusal,
} from '../simulator/memory-budget.ts';
import { perfLine } from '../simulator/run-meter.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import { unjudged } from '../simulator/verdict.ts';
import { collectBug } from './bug-flag.ts';
import { CliError, type CliIo, commanderOutput } from './cli-error.ts';
import type { CommandResult } from './main.ts';
import { type ProgressStats, progressBar } from './progress-bar.ts';

type SimFlags = {
  seed?: number;
  clients?: number;
  json?: boolean;
  bug: BugName[];
  report?: string;
  openmetrics?: string;
  otlpFile?: string;
  otlpEndpoint?: string;
  otlpSample?: number;
  startTime?: number;
  runId?: string;
  progress: boolean;
  checkerThread: CheckerThreadWhen;
  memoryLimit?: number;
  skipMemoryEstimate?: boolean;
};

export type CheckerThreadWhen = 'auto' | 'on' | 'off';

/** `auto` judges on a second thread from this many clients up, when the machine has a second core. */
export const checkerThreadClientsMin = 50_000;

export function parseCheckerThread(value: string): CheckerThreadWhen {
  if (value !== 'auto' && value !== 'on' && value !== 'off')
    throw new InvalidArgumentError('auto, on or off');
  return value;
}

/** Whether a run judges on a second thread: the verdicts and the trace hash are the same either way. */
export function usesCheckerThread(when: CheckerThreadWhen, clients: number, cores: number): boolean {
  return when === 'on' || (when === 'auto' && clients >= checkerThreadClientsMin && cores >= 2);
}

export function parseSeed(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 0)
    throw new InvalidArgumentError('a seed is an integer from 0 to 2^53-1');
  return n;
}

export function parseClients(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 2 || n > 20_000_000)
    throw new InvalidArgumentError('--clients takes an integer from 2 to 20000000');
  return n;
}

export function parseMemoryLimit(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('MiB, a positive integer');
  return n;
}

export function parseSampleRatio(value: string): number {
  const n = Number(value);
  if (!(n > 0 && n <= 1)) throw new InvalidArgumentError('a share of messages, more than 0 and at most 1');
  return n;
}

/** Epoch milliseconds, or an ISO 8601 date-time. */
export function parseStartTime(value: string): number {
  const n = /^\d+$/.test(value) ? Number(value) : Date.parse(value);
  if (!Number.isSafeInteger(n))
    throw new InvalidArgumentError(
      'milliseconds since the epoch, or an ISO date-time (2026-01-01T00:00:00Z)',
    );
  return n;
}

export function registerSim(program: Command, result: CommandResult, io: CliIo): void {
  program
    .command('sim')
    .description('run one deterministic simulation of a scenario (by name from scenarios/ or a path)')
    .configureOutput(commanderOutput(io, 'chatsim sim --help'))
    .argument('<scenario>', 'scenario name (steady, partition, crash-restart, ...) or path to a .json file')
    .option('--seed <n>', 'root seed (default: a fresh random one, printed)', parseSeed)
    .option('--clients <n>', "virtual clients (default: the scenario's)", parseClients)
    .option('--json', 'print a JSON summary instead of the table')
    .option('--bug <name>', `run with a deliberate bug (repeatable): ${bugNames.join(', ')}`, collectBug, [])
    .option(
      '--report <dir>',
      'also write report.html, summary.md, summary.json and junit.xml into this directory',
    )
    .option(
      '--openmetrics <file>',
      "write the run's metrics as timestamped OpenMetrics text (promtool imports it)",
    )
    .option(
      '--otlp-file <file>',
      'record OpenTelemetry spans (send -> persist -> fan-out -> deliver) in virtual time, as OTLP/JSON lines',
    )
    .option(
      '--otlp-endpoint <url>',
      'send those spans to an OTLP/HTTP collector after the run, e.g. http://localhost:4318/v1/traces',
    )
    .option(
      '--otlp-sample <ratio>',
      'with --otlp-file or --otlp-endpoint: the share of messages traced (default 1)',
      parseSampleRatio,
    )
    .option(
      '--start-time <time>',
      'the wall-clock time virtual time 0 is stamped as in --openmetrics and --otlp-file (ms or ISO; default now)',
      parseStartTime,
    )
    .option('--run-id <id>', 'the run_id label of its metrics (default sim-<scenario>-<seed>)')
    .option(
      '--checker-thread <when>',
      `judge on a second thread (auto: from ${checkerThreadClientsMin} clients, with a second core); same verdicts and trace hash either way`,
      parseCheckerThread,
      'auto',
    )
    .option(
      '--memory-limit <MiB>',
      "the memory the run may use (default: the machine's RAM, or the cgroup's limit when lower)",
      parseMemoryLimit,
    )
    .option(
      '--skip-memory-estimate',
      'run even when the estimated peak is over the memory limit (the run still stops near the limit)',
    )
    .option('--no-progress', 'no progress bar on stderr')
    .action(async (scenarioArg: string, flags: SimFlags) => {
      result.exitCode = await simCommand(scenarioArg, flags, io);
    });
}

export function loadOrExplain(scenarioArg: string) {
  try {
    return loadScenario(scenarioArg);
  } catch (error) {
    if (error instanceof ScenarioError)
      // A scenario's problems stay one per line: a file with several mistakes reads as a list.
      throw new CliError('CHATSIM_ERR_USAGE', error.message);
    throw error;
  }
}

async function simCommand(scenarioArg: string, flags: SimFlags, io: CliIo): Promise<number> {
  const scenario = loadOrExplain(scenarioArg);
  const clients = flags.clients ?? scenario.clients.count;
  const limit = runMemoryLimit(flags.memoryLimit);
  const estimate = estimatePeak(clients, expectedSends(scenario, clients));
  const tooBig = refusal(estimate, limit);
  if (tooBig !== null && !flags.skipMemoryEstimate) throw new CliError('CHATSIM_ERR_MEMORY', tooBig);
  const tight = memoryWarning(estimate, limit);
  if (tight !== null) io.err(`chatsim sim: ${tight}`);
  // Loaded here, not at the top, so `chatsim serve` never loads the simulator.
  const { runScenario } = await import('../simulator/run-scenario.ts');
  const { MemoryLimitReached, MemoryWatch } = await import('../simulator/memory-watch.ts');
  const { scenarioRecorder, simRunId } = await import('../metrics/scenario-recorder.ts');
  const seed = flags.seed ?? randomInt(0, 2 ** 47);
  const runId = flags.runId ?? simRunId(scenario.name, seed);
  const recorder = scenarioRecorder(scenario, runId);
  const startEpochMs = flags.startTime ?? Math.floor(Date.now() / 1000) * 1000;
  if (flags.otlpSample !== undefined && flags.otlpFile === undefined && flags.otlpEndpoint === undefined)
    throw new CliError('CHATSIM_ERR_USAGE', '--otlp-sample needs --otlp-file or --otlp-endpoint');
  const { bugsTheMemoryStoreLacks } = await import('../simulator/world/memory-storage.ts');
  const lacking = scenario.topology.engine === 'memory' ? bugsTheMemoryStoreLacks(flags.bug) : [];
  if (lacking.length > 0)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      `--bug ${lacking.join(', ')} needs the log store: ${scenario.name} runs on the memory store (topology.engine "memory"), which has no fsync to answer before and no log`,
    );
  const otlp = flags.otlpEndpoint ? await import('../simulator/tracing/otlp-http-send.ts') : undefined;
  // A collector that is not there is said before the run, not after it.
  if (otlp) await otlp.checkOtlpEndpoint(flags.otlpEndpoint!).catch(usageError);
  const spansFile = flags.otlpFile ?? (flags.otlpEndpoint ? await spoolFile() : undefined);
  const tracer = spansFile
    ? await simTracer(spansFile, {
        seed,
        epochMs: startEpochMs,
        scenario: scenario.name,
        runId,
        sample: flags.otlpSample,
      })
    : undefined;
  const bar =
    flags.progress && !flags.json
      ? progressBar(io, `${scenario.name} seed ${seed}`, { clock: 'virtual' })
      : null;
  const repro = reproCommand(scenarioArg, seed, flags.clients, flags.bug);
  const run = runScenario(scenario, {
    seed,
    ...(flags.clients === undefined ? {} : { clients: flags.clients }),
    bugs: flags.bug,
    checkerThread: usesCheckerThread(flags.checkerThread, clients, availableParallelism()),
    memoryWatch: new MemoryWatch(limit),
    recorder,
    ...(tracer ? { tracer } : {}),
    ...(bar
      ? {
          progress: (done: number, phase: string, violations: number) =>
            bar.update(done, phase, progressStats(recorder, violations)),
        }
      : {}),
  });
  let summary: RunSummary;
  try {
    summary = await run;
  } catch (error) {
    if (!(error instanceof MemoryLimitReached)) throw error;
    bar?.done();
    await tracer?.shutdown();
    return stoppedRun(io, flags, { scenario: scenario.name, seed, clients, repro, reason: error.reason });
  }
  recorder.finish(summary.verdicts, summary.virtualMs, summary.events);
  await tracer?.shutdown();
  bar?.done();
  // The run's verdict stands; an export that failed is said on stderr, and the spans stay on disk.
  if (otlp && spansFile)
    await otlp
      .sendOtlpJsonLines(flags.otlpEndpoint!, spansFile)
      .then(async (requests) => {
        io.err(`chatsim sim: spans sent to ${flags.otlpEndpoint} (${requests} requests)`);
        if (flags.otlpFile === undefined)
          (await import('node:fs')).rmSync(dirname(spansFile), { recursive: true });
      })
      .catch((error: Error) => io.err(`chatsim sim: ${error.message}; the spans are in ${spansFile}`));
  if (summary.perf) io.err(`chatsim sim: ${perfLine(summary.events, summary.perf)}`);
  if (flags.openmetrics) {
    const { writeOpenMetrics } = await import('../metrics/openmetrics-file.ts');
    writeOpenMetrics(flags.openmetrics, recorder, { scenario: scenario.name, run_id: runId }, startEpochMs);
  }
  await printRun(io, flags, { summary, scenario, recorder, repro, mode: 'sim' });
  return summary.exitCode;
}

/** The memory `sim` may use: `--memory-limit`, else the machine's RAM or its cgroup's limit when lower. */
function runMemoryLimit(overrideMiB: number | undefined) {
  const files = cgroupLimitFiles.flatMap((path) => {
    try {
      return [{ path, text: readFileSync(path, 'utf8') }];
    } catch {
      return [];
    }
  });
  return memoryLimit(totalmem(), files, overrideMiB);
}

/**
 * A run stopped near the end of its memory (memory-watch.ts): no verdicts, so it could not be judged
 * (exit 3); why, and the command that runs it again, in the table's place or as JSON.
 */
export function stoppedRun(
  io: CliIo,
  flags: { json?: boolean; report?: string },
  run: { scenario: string; seed: number; clients: number; repro: string; reason: string },
): 3 {
  const verdict = `FAIL: the run could not be judged: it was stopped before its verdicts: ${run.reason}`;
  io.err(
    `chatsim sim: stopped: ${run.reason}. Run fewer clients, or on a machine with more memory${flags.report ? '; no report was written' : ''}`,
  );
  if (flags.json)
    io.out(
      JSON.stringify({
        scenario: run.scenario,
        seed: run.seed,
        clients: run.clients,
        exitCode: 3,
        verdict,
        stopped: run.reason,
        couldNotJudge: ['all'],
        repro: run.repro,
      }),
    );
  else io.out(`verdict: ${verdict}\nreproduce: ${run.repro}`);
  return 3;
}

function usageError(error: Error): never {
  throw new CliError('CHATSIM_ERR_USAGE', `${error.message} (start it, or drop --otlp-endpoint)`);
}

/** Where spans for `--otlp-endpoint` wait for the end of the run when no `--otlp-file` keeps them. */
async function spoolFile(): Promise<string> {
  const { mkdtempSync } = await import('node:fs');
  const { tmpdir } = await import('node:os');
  const { join } = await import('node:path');
  return join(mkdtempSync(join(tmpdir(), 'chatsim-spans-')), 'spans.jsonl');
}

/** The simulated tracer for `--otlp-file`: spans in virtual time, ids from the seed, OTLP/JSON lines. */
async function simTracer(
  file: string,
  run: { seed: number; epochMs: number; scenario: string; runId: string; sample: number | undefined },
) {
  const { SimTracer } = await import('../simulator/tracing/sim-tracer.ts');
  const { InOrderBatchProcessor, OtlpJsonFileExporter } = await import(
    '../simulator/tracing/otlp-json-file.ts'
  );
  let exporter: InstanceType<typeof OtlpJsonFileExporter>;
  try {
    exporter = new OtlpJsonFileExporter(file);
  } catch (error) {
    throw new CliError('CHATSIM_ERR_USAGE', `--otlp-file ${file}: ${(error as Error).message}`);
  }
  return new SimTracer({
    seed: run.seed,
    epochMs: run.epochMs,
    processor: new InOrderBatchProcessor(exporter),
    ...(run.sample === undefined ? {} : { sampleRatio: run.sample }),
    resource: {
      'chatsim.scenario': run.scenario,
      'chatsim.run_id': run.runId,
      'chatsim.seed': String(run.seed),
    },
  });
}

/** A finished run's verdict on stdout (table or `--json`) and, with `--report DIR`, its report files: `sim` and `live` alike. */
export async function printRun(
  io: CliIo,
  flags: { json?: boolean; report?: string },
  run: Omit<RunReportInput, 'json'>,
): Promise<void> {
  const json = jsonSummary(run.summary, run.repro);
  if (flags.json) io.out(JSON.stringify(json));
  else io.out(verdictTable(run.summary, run.repro));
  if (flags.report) {
    const { writeRunReport } = await import('../reports/write-run-report.ts');
    writeRunReport(flags.report, { ...run, json });
  }
}

export function jsonSummary(summary: RunSummary, repro: string) {
  const { traceCheckpoints: _checkpoints, ...rest } = summary;
  // `verdict` is the same line the table ends with; `couldNotJudge` lists the `unknown` properties.
  return {
    ...rest,
    wallTimeMs: summary.wallMs,
    verdict: verdictLine(summary).replace(/^verdict: /, ''),
    couldNotJudge: unjudged(summary.verdicts),
    repro,
  };
}

/** The progress line's numbers, read from the run's metrics recorder. */
export function progressStats(
  recorder: { nowMs: number; connected: number; total(key: string): number },
  violations: number,
): ProgressStats {
  return {
    clockMs: recorder.nowMs,
    connected: recorder.connected,
    delivered: recorder.total('displays'),
    violations,
  };
}
