// `chatsim live <scenario>`: the same scenario as `sim`, run against real servers over real sockets.
// One target: reference nodes the driver owns (`--nodes`), any protocol server it can start and
// signal (`--server-cmd`), or servers already running (`--url`, network faults only). A target that
// cannot be used (no start, taken port, wrong secret, unreachable, a fault it cannot carry out) gets
// one line and exit 2 before any client connects; then exit codes as in `sim`.

import { randomBytes, randomInt } from 'node:crypto';
import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import { defaultLimits } from '../reference-server/core/limits.ts';
import { type BugName, bugNames } from '../reference-server/known-bugs/bugs.ts';
import { liveReproCommand } from '../reports/verdict-table.ts';
import {
  type FaultSpec,
  type Scenario,
  ScenarioError,
  validateFaults,
  withLiveThresholds,
} from '../scenarios/scenario.ts';
import { liveLimits } from '../simulator/live/limits.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import { collectBug } from './bug-flag.ts';
import { CliError, type CliIo, commanderOutput } from './cli-error.ts';
import type { CommandResult } from './main.ts';
import { progressBar } from './progress-bar.ts';
import { secretEnv } from './serve.ts';
import { loadOrExplain, parseClients, parseSeed, printRun, progressStats } from './sim.ts';

export type LiveFlags = {
  seed?: number;
  clients?: number;
  nodes?: number;
  redis?: string;
  redisCluster?: boolean;
  redisWaitReplicas?: number;
  bug: BugName[];
  serverCmd?: string;
  url: string[];
  jwtSecret?: string;
  port?: number;
  faults?: string;
  skipRefused?: boolean;
  duration?: number;
  readEvery?: number;
  generators?: number;
  keepData?: boolean;
  json?: boolean;
  report?: string;
  progress: boolean;
  metricsPort?: number;
  metricsHost: string;
  pushgateway?: string;
  largeGroupThreshold?: number;
  /** After settle, hold the sessions open at most this long for what the checkers are still owed (ms). */
  holdOwed?: number;
};

export function registerLive(program: Command, result: CommandResult, io: CliIo): void {
  const command = program
    .command('live')
    .description('run a scenario against real servers over real sockets, judged by the same checkers')
    .configureOutput(commanderOutput(io, 'chatsim live --help'))
    .argument('<scenario>', 'scenario name (steady, crash-restart, ...) or path to a .json file');
  addTargetFlags(command)
    .option('--seed <n>', 'root seed (default: a fresh random one, printed)', parseSeed)
    .option('--clients <n>', "virtual clients (default: the scenario's)", parseClients)
    .option('--faults <file>', "a fault timeline (JSON array of faults) replacing the scenario's")
    .option(
      '--skip-refused',
      'run without the faults this target cannot carry out (each named on stderr), as gate --live does, instead of refusing the run',
    )
    .option('--duration <time>', 'soak: the faults phase lasts this long (e.g. 30m, 90s)', parseDuration)
    .option(
      '--read-every <time>',
      "read the servers' messages over HTTP this often during the run, so the checkers judge older messages as they go and keep flat memory (default 60s; 0s: only the final read)",
      parseDuration,
    )
    .option('--json', 'print a JSON summary instead of the table')
    .option(
      '--report <dir>',
      'also write report.html, summary.md, summary.json and junit.xml into this directory',
    )
    .option('--no-progress', 'no progress lines on stderr')
    .option(
      '--metrics-port <n>',
      "serve the run's metrics on this port while it runs (default: a free one)",
      parsePortFlag,
    )
    .option('--metrics-host <host>', 'address the metrics endpoint listens on', '127.0.0.1')
    .option('--pushgateway <url>', "push the run's metrics to this Pushgateway when it ends")
    .action(async (scenarioArg: string, flags: LiveFlags) => {
      result.exitCode = await liveCommand(scenarioArg, flags, io);
    });
}

/** The target flags `live` and `gate --live` share. */
export function addTargetFlags(command: Command, withBug = true): Command {
  command
    .option(
      '--nodes <n>',
      "reference-server processes the driver starts and owns (default: the scenario's topology.nodes; 2 or more share a Redis the run starts)",
      parseNodes,
    )
    .option(
      '--redis <url>',
      'with --nodes 2 or more: an existing Redis (appendfsync always) instead of a redis-server of the run',
    )
    .option(
      '--redis-cluster',
      'with --nodes: the nodes share a Redis Cluster the run starts (3 masters, 3 replicas); store-outage = a master SIGKILLed and its replica promoted',
    )
    .option(
      '--redis-wait-replicas <n>',
      'with --redis-cluster: the nodes WAIT for n replicas after every write before acking',
      parsePositive,
    );
  if (withBug)
    command.option(
      '--bug <name>',
      `with --nodes: start them with a deliberate bug: ${bugNames.join(', ')}`,
      collectBug,
      [],
    );
  return command
    .option(
      '--server-cmd <cmd>',
      'start your server with this command ({port}, {dataDir}, {node} filled in; with {host}, node i listens on 127.0.0.(i+1))',
    )
    .option(
      '--url <url>',
      'an already running server (repeatable, one per node); network faults only',
      collectUrl,
      [],
    )
    .option(
      '--jwt-secret <secret>',
      `the server's HS256 secret (with --server-cmd or --url; default $${secretEnv})`,
    )
    .option(
      '--large-group-threshold <n>',
      "with --server-cmd or --url: your server's large-group threshold, to judge delivery mode too (notify or msg by size; pushes and receipts reach members online throughout)",
      parsePositive,
    )
    .option('--port <n>', "first node's port (default: free ports)", parsePortFlag)
    .option('--generators <n>', 'at least this many generator processes', parsePositive)
    .option(
      '--hold-owed <time>',
      `after settle, keep the sessions open at most this long while pushes or receipts the server owes are not yet due or not yet judgeable (default ${liveLimits.holdOwedMaxMs / 1000}s; 0s: no hold)`,
      parseDuration,
    )
    .option('--keep-data', "keep the nodes' data dirs after the run");
}

async function liveCommand(scenarioArg: string, given: LiveFlags, io: CliIo): Promise<number> {
  const scenario = withLiveThresholds(loadOrExplain(scenarioArg));
  const { runLive, liveFaultPlan, liveCapabilities } = await import('../simulator/live/run-live.ts');
  const flags = withScenarioNodes(scenario, given, io);
  const target = await makeTarget(scenario, flags, io);
  const nodes = flags.url.length > 0 ? flags.url.length : (flags.nodes ?? 1);
  let faults = flags.faults === undefined ? undefined : loadFaults(flags.faults, nodes);
  const seed = flags.seed ?? randomInt(0, 2 ** 47);
  const { nodeCountRefusal, splitLiveFaults } = await import('../simulator/live/live-faults.ts');
  if (faults === undefined) {
    const why = nodeCountRefusal(liveFaultPlan(scenario, seed), nodes, {
      name: scenario.name,
      nodes: scenario.topology.nodes,
    });
    if (why !== null) throw new CliError('CHATSIM_ERR_LIVE_FAULT', why);
  }
  if (flags.skipRefused) {
    const split = splitLiveFaults(faults ?? liveFaultPlan(scenario, seed), liveCapabilities(target.fleet));
    for (const line of split.dropped) io.err(`chatsim live: SKIP fault ${line}`);
    faults = split.kept;
  }
  const { scenarioRecorder } = await import('../metrics/scenario-recorder.ts');
  const metrics = await import('../metrics/metrics-endpoint.ts');
  const runId = `live-${scenario.name}-${seed}-${Date.now().toString(36)}`;
  const recorder = scenarioRecorder(scenario, runId);
  if (flags.pushgateway !== undefined) await explainPush(() => metrics.checkGateway(flags.pushgateway!));
  const endpoint = await metrics.startMetricsEndpoint({
    recorder,
    host: flags.metricsHost,
    ...(flags.metricsPort === undefined ? {} : { port: flags.metricsPort }),
  });
  const bar =
    flags.progress && !flags.json
      ? progressBar(io, `live ${scenario.name} seed ${seed}`, { clock: 'wall' })
      : null;
  let summary: RunSummary;
  try {
    summary = await runOrExplain(() =>
      runLive(scenario, {
        seed,
        recorder,
        fleet: target.fleet,
        secret: target.secret,
        bugs: flags.bug,
        ...(target.largeGroupThreshold === undefined
          ? {}
          : { largeGroupThreshold: target.largeGroupThreshold }),
        ...(flags.clients === undefined ? {} : { clients: flags.clients }),
        ...(faults === undefined ? {} : { faults }),
        ...(flags.duration === undefined ? {} : { durationMs: flags.duration }),
        ...(flags.readEvery === undefined ? {} : { progressiveReadEveryMs: flags.readEvery }),
        ...(flags.holdOwed === undefined ? {} : { holdOwedMaxMs: flags.holdOwed }),
        ...(flags.generators === undefined ? {} : { generators: flags.generators }),
        ...(bar
          ? {
              progress: (done: number, phase: string, violations: number) =>
                bar.update(done, phase, progressStats(recorder, violations)),
            }
          : {}),
        log: (line) => io.err(`chatsim live: ${line}`),
        // Said once the target has proved usable, so a target error stays the one line it is.
        onReady: () => io.err(`chatsim live: metrics of run ${runId} at ${endpoint.url}`),
      }),
    );
    bar?.done();
    recorder.finish(summary.verdicts, summary.virtualMs);
  } finally {
    await endpoint.close();
  }
  // The run's verdict stands; a push that failed is said on stderr (the report files still follow).
  if (flags.pushgateway !== undefined)
    await metrics.pushToGateway(flags.pushgateway, recorder).catch((error: Error) => {
      io.err(`chatsim live: ${error.message}`);
    });
  const repro = liveReproCommand(
    [
      scenarioArg,
      ...(flags.faults ? [`--faults ${flags.faults}`] : []),
      ...(flags.skipRefused ? ['--skip-refused'] : []),
    ].join(' '),
    seed,
    flags.clients,
    targetReproFlags(target, flags),
  );
  await printRun(io, flags, { summary, scenario, recorder, repro, mode: 'live' });
  return summary.exitCode;
}

/**
 * Reference nodes with no `--nodes` given: as many as the scenario's topology has (partition, churn and
 * node-down are written for two: a fleet over a Redis the run starts), said in one line when more than one.
 */
export function withScenarioNodes(scenario: Scenario, flags: LiveFlags, io: CliIo): LiveFlags {
  const reference = flags.serverCmd === undefined && flags.url.length === 0 && !flags.redisCluster;
  if (!reference || flags.nodes !== undefined || scenario.topology.nodes === 1) return flags;
  io.err(
    `chatsim live: ${scenario.name} runs on ${scenario.topology.nodes} reference nodes over a shared Redis, as its topology says (--nodes N to choose)`,
  );
  return { ...flags, nodes: scenario.topology.nodes };
}

export type Target = {
  fleet: import('../simulator/live/fleet.ts').LiveFleet;
  secret: string;
  /** The target's large-group threshold when the driver knows it (delivery mode is judged then). */
  largeGroupThreshold?: number;
};

/**
 * The target flags a repro command needs: the fleet's own, and the large-group threshold the user gave
 * (without it, the repro would not judge delivery mode, which may be what failed).
 */
export function targetReproFlags(target: Target, flags: Pick<LiveFlags, 'largeGroupThreshold'>): string {
  const threshold = flags.largeGroupThreshold;
  return threshold === undefined
    ? target.fleet.reproFlags
    : `${target.fleet.reproFlags} --large-group-threshold ${threshold}`;
}

/** The fleet the flags name; a usage problem is a CliError (exit 2). Nothing is started yet. */
export async function makeTarget(scenario: Scenario, flags: LiveFlags, io: CliIo): Promise<Target> {
  const reference = flags.serverCmd === undefined && flags.url.length === 0;
  if (reference && flags.largeGroupThreshold !== undefined)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--large-group-threshold describes your server (--server-cmd or --url): reference nodes get the scenario's (limits.largeGroupThreshold)",
    );
  const target = await makeFleet(scenario, flags, io);
  // Reference nodes run with the scenario's limits, so their threshold is known.
  const threshold = reference
    ? (scenario.limits.largeGroupThreshold ?? defaultLimits.largeGroupThreshold)
    : flags.largeGroupThreshold;
  return threshold === undefined ? target : { ...target, largeGroupThreshold: threshold };
}

async function makeFleet(scenario: Scenario, flags: LiveFlags, io: CliIo): Promise<Target> {
  const { ProcessFleet, UrlFleet } = await import('../simulator/live/fleet.ts');
  const { referenceFleet } = await import('../simulator/live/reference-fleet.ts');
  const chosen = [flags.serverCmd !== undefined, flags.url.length > 0, flags.nodes !== undefined].filter(
    Boolean,
  );
  if (chosen.length > 1)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "use one target: --nodes, --server-cmd or --url (see 'chatsim live --help')",
    );
  if (flags.bug.length > 0 && (flags.serverCmd !== undefined || flags.url.length > 0))
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--bug starts reference nodes with a deliberate bug: use it with --nodes (or put 'serve --bug NAME' in --server-cmd)",
    );
  if (flags.redis !== undefined && (flags.nodes ?? 1) < 2)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--redis is for a fleet: use it with --nodes 2 or more (see 'chatsim live --help')",
    );
  if (flags.redisCluster && (flags.redis !== undefined || flags.nodes === undefined))
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--redis-cluster starts a Redis Cluster for the nodes: use it with --nodes and without --redis (see 'chatsim live --help')",
    );
  if (flags.redisWaitReplicas !== undefined && !flags.redisCluster)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--redis-wait-replicas needs --redis-cluster (see 'chatsim live --help')",
    );
  if (flags.redisCluster) {
    const secret = randomBytes(24).toString('hex');
    const { RedisClusterFleet } = await import('../simulator/live/redis-cluster-fleet.ts');
    return {
      secret,
      fleet: new RedisClusterFleet({
        nodes: flags.nodes ?? 1,
        secret,
        limits: scenario.limits,
        bugs: flags.bug,
        log: (line) => io.err(`chatsim live: ${line}`),
        ...(flags.redisWaitReplicas === undefined ? {} : { waitReplicas: flags.redisWaitReplicas }),
        ...(flags.port === undefined ? {} : { basePort: flags.port }),
        ...(flags.keepData ? { keepData: true } : {}),
      }),
    };
  }
  if (flags.serverCmd === undefined && flags.url.length === 0) {
    const secret = randomBytes(24).toString('hex');
    const nodes = flags.nodes ?? 1;
    if (nodes > 1) {
      if (flags.bug.includes('ack-before-durable') && flags.redis !== undefined)
        throw new CliError(
          'CHATSIM_ERR_USAGE',
          '--bug ack-before-durable on a fleet runs Redis without persistence: it needs a Redis the run starts (leave out --redis)',
        );
      const { RedisFleet } = await import('../simulator/live/redis-fleet.ts');
      return {
        secret,
        fleet: new RedisFleet({
          nodes,
          secret,
          limits: scenario.limits,
          bugs: flags.bug,
          ...(flags.redis === undefined ? {} : { redisUrl: flags.redis }),
          ...(flags.port === undefined ? {} : { basePort: flags.port }),
          ...(flags.keepData ? { keepData: true } : {}),
        }),
      };
    }
    return {
      secret,
      fleet: referenceFleet({
        nodes,
        secret,
        limits: scenario.limits,
        bugs: flags.bug,
        ...(flags.port === undefined ? {} : { basePort: flags.port }),
        ...(flags.keepData ? { keepData: true } : {}),
      }),
    };
  }
  const secret = flags.jwtSecret ?? io.env[secretEnv];
  if (!secret)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      `--jwt-secret <secret> is required with ${flags.serverCmd !== undefined ? '--server-cmd' : '--url'}: the HS256 secret your server verifies tokens with (or set ${secretEnv})`,
    );
  if (flags.serverCmd !== undefined) {
    if (!flags.serverCmd.includes('{port}'))
      throw new CliError(
        'CHATSIM_ERR_USAGE',
        '--server-cmd must contain {port} (and usually {dataDir}): the driver picks both',
      );
    const nodes = flags.nodes ?? 1;
    return {
      secret,
      fleet: new ProcessFleet({
        nodes,
        template: flags.serverCmd,
        env: { ...process.env, [secretEnv]: secret },
        ...(flags.port === undefined ? {} : { basePort: flags.port }),
        ...(flags.keepData ? { keepData: true } : {}),
        reproFlags: `--server-cmd ${JSON.stringify(flags.serverCmd)} --jwt-secret "$${secretEnv}"`,
      }),
    };
  }
  return { secret, fleet: new UrlFleet(flags.url.map((u) => u.replace(/\/+$/, ''))) };
}

/** Target and refusal errors become one line and exit 2; everything else is the run's own. */
export async function runOrExplain(run: () => Promise<RunSummary>): Promise<RunSummary> {
  try {
    return await run();
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    if (
      code === 'CHATSIM_ERR_TARGET' ||
      code === 'CHATSIM_ERR_NODE_START' ||
      code === 'CHATSIM_ERR_HTTP' ||
      code === 'CHATSIM_ERR_FILE_BUDGET'
    )
      throw new CliError('CHATSIM_ERR_TARGET', (error as Error).message.replace(/\s*\n\s*/g, ' '));
    if (code === 'CHATSIM_ERR_LIVE_FAULT')
      throw new CliError('CHATSIM_ERR_LIVE_FAULT', (error as Error).message);
    throw error;
  }
}

async function explainPush(check: () => Promise<void>): Promise<void> {
  try {
    await check();
  } catch (error) {
    throw new CliError('CHATSIM_ERR_USAGE', (error as Error).message);
  }
}

function loadFaults(path: string, nodes: number): FaultSpec[] {
  let value: unknown;
  try {
    value = JSON.parse(readFileSync(path, 'utf8'));
  } catch (error) {
    throw new CliError('CHATSIM_ERR_USAGE', `--faults ${path}: ${(error as Error).message}`);
  }
  try {
    return validateFaults(value, path, nodes);
  } catch (error) {
    if (error instanceof ScenarioError)
      throw new CliError('CHATSIM_ERR_USAGE', error.message.replace(/\n\s*/g, ' '));
    throw error;
  }
}

export function parseDuration(value: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h)$/.exec(value.trim());
  if (!match) throw new InvalidArgumentError('a duration like 90s, 30m or 2h');
  const unit = { ms: 1, s: 1000, m: 60_000, h: 3_600_000 }[match[2] as 'ms' | 's' | 'm' | 'h'];
  return Math.round(Number(match[1]) * unit);
}

function parseNodes(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1 || n > 64)
    throw new InvalidArgumentError('takes an integer from 1 to 64');
  return n;
}

function parsePositive(value: string): number {
  const n = Number(value);
  if (!Number.isSafeInteger(n) || n < 1) throw new InvalidArgumentError('takes a positive integer');
  return n;
}

function parsePortFlag(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n < 1 || n > 65_535)
    throw new InvalidArgumentError('takes a port from 1 to 65535');
  return n;
}

function collectUrl(value: string, previous: string[]): string[] {
  if (!/^https?:\/\/[^/\s]+/.test(value)) throw new InvalidArgumentError('takes a URL like http://host:port');
  return [...previous, value];
}
