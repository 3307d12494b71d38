// The big live runs (issues #6 and #11): a scenario against reference nodes the bench starts (one on its
// log store, or several over a redis-server of its own), every process within the open-file limit
// (simulator/live/file-budget.ts), and the figures docs/benchmarks.md records: the connect rate, memory
// per connection on the nodes and in the generators (growth over each process's first sample, taken
// before any client connected, over the clients), open files against the limit, ack and delivery
// latency, the verdicts; with --curve, each process's resident set over time (a soak's flatness).
//   npm run bench:live-scale -- bench/live-100k.json --nodes 6
//   npm run bench:live-scale -- bench/live-19k.json --nodes 1
//   npm run bench:live-scale -- steady --clients 1000 --duration 10m --curve 60s   (the soak)

import { writeFileSync } from 'node:fs';
import { parseArgs } from 'node:util';
import { parseDuration } from '../cli/live.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { LiveFleet } from '../simulator/live/fleet.ts';
import { liveLimits } from '../simulator/live/limits.ts';
import { loadLimitedBy } from '../simulator/live/load-limited.ts';
import type { ProcessFigures } from '../simulator/live/process-sampler.ts';
import { RedisFleet } from '../simulator/live/redis-fleet.ts';
import { referenceFleet } from '../simulator/live/reference-fleet.ts';
import { runLive } from '../simulator/live/run-live.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import { type HeldFigures, HeldSessions } from './held-sessions.ts';
import { flatShareMax, rssTrend } from './rss-trend.ts';

const usage =
  'usage: npm run bench:live-scale -- <scenario> [--nodes N] [--clients N] [--seed N] [--duration 10m] [--curve 60s] [--generators N] [--out file.json]';

const { values, positionals } = parseArgs({
  allowPositionals: true,
  options: {
    nodes: { type: 'string', default: '1' },
    clients: { type: 'string' },
    seed: { type: 'string', default: '1' },
    duration: { type: 'string' },
    curve: { type: 'string' },
    out: { type: 'string' },
    generators: { type: 'string' },
  },
});

function fail(message: string): never {
  process.stderr.write(`bench:live-scale: ${message}\n${usage}\n`);
  process.exit(2);
}

function positive(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  const n = Number(text);
  if (!Number.isSafeInteger(n) || n < 1) fail(`--${name} takes a positive integer, got '${text}'`);
  return n;
}

function duration(name: string, text: string | undefined): number | undefined {
  if (text === undefined) return undefined;
  try {
    return parseDuration(text);
  } catch {
    return fail(`--${name} takes a duration like 90s or 10m, got '${text}'`);
  }
}

const liveLimitsSampleS = liveLimits.processSampleMs / 1000;
const mib = (bytes: number) => `${(bytes / 1048576).toFixed(0)} MiB`;
const kb = (bytes: number) => `${(bytes / 1024).toFixed(1)} KB`;

/** Growth of resident memory over the first sample, summed over the processes of one kind. */
function growth(processes: readonly ProcessFigures[], kind: 'node' | 'generator'): number {
  return processes
    .filter((p) => p.kind === kind)
    .reduce((sum, p) => sum + (p.rssBytesMax - p.rssBytesFirst), 0);
}

function cpuOf(processes: readonly ProcessFigures[], kind: 'node' | 'generator'): number {
  return processes.filter((p) => p.kind === kind).reduce((sum, p) => sum + p.cpuMs, 0);
}

function peak(processes: readonly ProcessFigures[], kind: 'node' | 'generator'): number {
  return processes.filter((p) => p.kind === kind).reduce((sum, p) => sum + p.rssBytesMax, 0);
}

export type ScaleFigures = {
  clients: number;
  nodes: number;
  generators: number;
  wallS: number;
  exitCode: number;
  failed: string[];
  connectsPerSec: number;
  firstSessions: number;
  connects: number;
  connectFailures: number;
  nodeBytesPerConnection: number;
  generatorBytesPerConnection: number;
  /** Peak RSS of all nodes (generators) over the clients: everything, the process's own base included. */
  nodeBytesPerConnectionAllIn: number;
  generatorBytesPerConnectionAllIn: number;
  filesMax: number | null;
  processes: {
    name: string;
    rssFirst: number;
    rssMax: number;
    filesFirst: number;
    filesMax: number;
    cpuMs: number;
    cpuShareMax: number;
  }[];
  /** CPU time of all nodes (generators) over the run, from /proc. */
  nodeCpuMs: number;
  generatorCpuMs: number;
  ackMs: { p50: number; p99: number };
  deliveryGroupMs: { p50: number; p99: number; p999: number; count: number };
  deliveryDirectMs: { p50: number; p99: number; p999: number; count: number };
  generatorCpuShareMax: number;
  generatorLoopDelayMsMax: number;
  historyLagMsMax: number;
};

export function scaleFigures(summary: RunSummary, nodes: number): ScaleFigures {
  const live = summary.live!;
  return {
    clients: summary.clients,
    nodes,
    generators: live.generators,
    wallS: Math.round(summary.wallMs / 1000),
    exitCode: summary.exitCode,
    failed: summary.verdicts
      .filter((v) => v.verdict !== 'pass')
      .map((v) => `${v.property} ${v.verdict}: ${v.details}`),
    connectsPerSec: Math.round(live.connectRate.perSec),
    firstSessions: live.connectRate.welcomed,
    connects: live.connects,
    connectFailures: live.connectFailures,
    nodeBytesPerConnection: growth(live.processes, 'node') / summary.clients,
    generatorBytesPerConnection: growth(live.processes, 'generator') / summary.clients,
    nodeBytesPerConnectionAllIn: peak(live.processes, 'node') / summary.clients,
    generatorBytesPerConnectionAllIn: peak(live.processes, 'generator') / summary.clients,
    filesMax: live.filesMax,
    processes: live.processes.map((p) => ({
      name: p.name,
      rssFirst: p.rssBytesFirst,
      rssMax: p.rssBytesMax,
      filesFirst: p.filesFirst,
      filesMax: p.filesMax,
      cpuMs: p.cpuMs,
      cpuShareMax: p.cpuShareMax,
    })),
    nodeCpuMs: cpuOf(live.processes, 'node'),
    generatorCpuMs: cpuOf(live.processes, 'generator'),
    ackMs: { p50: live.latencyMs.ack.p50, p99: live.latencyMs.ack.p99 },
    deliveryGroupMs: live.latencyMs.deliveryGroup,
    deliveryDirectMs: live.latencyMs.deliveryDirect,
    generatorCpuShareMax: live.generatorCpuShareMax,
    generatorLoopDelayMsMax: live.generatorLoopDelayMsMax,
    historyLagMsMax: live.historyLagMsMax,
  };
}

/** Each process's resident set every `everyMs` (the nearest sample at or after each mark). */
function curveTable(
  processes: readonly ProcessFigures[],
  everyMs: number,
  clientsOf: (p: ProcessFigures) => number,
): string {
  const lines = ['| process | minute: RSS (growth over the first sample, per client) |', '| --- | --- |'];
  for (const p of processes) {
    const points: string[] = [];
    let mark = 0;
    for (const [atMs, rss] of p.curve) {
      if (atMs < mark) continue;
      const clients = clientsOf(p);
      const beyond = clients > 0 ? ` (+${kb((rss - p.rssBytesFirst) / clients)}/client)` : '';
      points.push(`${(atMs / 60_000).toFixed(1)}: ${mib(rss)}${beyond}`);
      mark = atMs + everyMs;
    }
    lines.push(`| ${p.name} | ${points.join('; ')} |`);
  }
  return lines.join('\n');
}

/** Each process's memory over the second half of its curve: flat, or how fast it moved. */
function trendLine(processes: readonly ProcessFigures[]): string {
  const parts = processes.map((p) => {
    const trend = rssTrend(p.curve);
    if (trend === null) return `${p.name} too few samples`;
    const slope = `${trend.slopeBytesPerMin >= 0 ? '+' : ''}${(trend.slopeBytesPerMin / 1048576).toFixed(2)} MiB/min`;
    return `${p.name} ${trend.flat ? 'flat' : 'NOT flat'} (${slope}, ${trend.growthBytes >= 0 ? '+' : ''}${mib(trend.growthBytes)} over ${((trend.toMs - trend.fromMs) / 60_000).toFixed(1)} min on a mean of ${mib(trend.meanBytes)})`;
  });
  return `memory over the second half of the run (least-squares line; flat: grows at most ${flatShareMax * 100}% of the mean): ${parts.join('; ')}`;
}

const seconds = (ms: number | null) => `${((ms ?? 0) / 1000).toFixed(1)} s`;

function heldLine(held: HeldFigures, fromMs: number, toMs: number): string {
  const window = `the held phase ${seconds(fromMs)}-${seconds(toMs)}`;
  const most = `at most ${held.max} at once (at ${seconds(held.maxAtMs)})`;
  if (held.atStartOfWindow === null) return `${most}; the run never reached ${window}`;
  return `${held.atStartOfWindow} open when ${window} began, at least ${held.minInWindow} throughout it (fewest at ${seconds(held.minAtMs)}); ${most}`;
}

async function main(): Promise<void> {
  const scenarioArg = positionals[0];
  if (scenarioArg === undefined || positionals.length > 1) fail('name one scenario');
  const nodes = positive('nodes', values.nodes)!;
  const clients = positive('clients', values.clients);
  const seed = positive('seed', values.seed)!;
  const durationMs = duration('duration', values.duration);
  const curveMs = duration('curve', values.curve);
  const generators = positive('generators', values.generators);
  const scenario = loadScenario(scenarioArg);
  const secret = `bench-live-scale-${seed}-0123456789abcdef`;
  const fleet: LiveFleet =
    nodes > 1
      ? // Without faults, the nodes reach Redis directly: no Redis byte crosses the driver's process.
        new RedisFleet({
          nodes,
          secret,
          limits: scenario.limits,
          bugs: [],
          direct: scenario.faults.length === 0,
        })
      : referenceFleet({ nodes, secret, limits: scenario.limits, bugs: [] });
  const started = Date.now();
  const stamp = () =>
    `${new Date().toISOString().slice(11, 19)} +${Math.round((Date.now() - started) / 1000)}s`;
  let lastProgress = 0;
  // Why sessions ended (close code, 'reset', 'idle', 'client'): mass drops under load say who cut them.
  const lostBy = new Map<string, number>();
  // Why sends failed (the outbox's code: 'timeout', 'unavailable', ...): a crash's cost, or a client giving up too soon.
  const failedBy = new Map<string, number>();
  // The held phase: the faults phase (a run without faults holds its clients through it with traffic).
  const heldFromMs = scenario.phases.warmupMs;
  const heldToMs = heldFromMs + (durationMs ?? scenario.phases.faultsMs);
  const held = new HeldSessions(heldFromMs, heldToMs);
  const summary = await runLive(scenario, {
    recorder: {
      observe: (event) => {
        held.observe(event);
        if (event.k === 'session-lost') lostBy.set(event.reason, (lostBy.get(event.reason) ?? 0) + 1);
        else if (event.k === 'failed') failedBy.set(event.code, (failedBy.get(event.code) ?? 0) + 1);
      },
      tick: () => {},
    },
    seed,
    fleet,
    secret,
    ...(clients === undefined ? {} : { clients }),
    ...(durationMs === undefined ? {} : { durationMs }),
    ...(generators === undefined ? {} : { generators }),
    log: (line) => process.stderr.write(`${stamp()} ${line}\n`),
    progress: (done, phase, violations) => {
      if (Date.now() - lastProgress < 10_000) return;
      lastProgress = Date.now();
      process.stderr.write(`${stamp()} ${phase} ${(done * 100).toFixed(0)}% violations ${violations}\n`);
    },
  });
  const figures = { ...scaleFigures(summary, nodes), held: held.figures() };
  const live = summary.live!;
  const out = [
    `bench:live-scale ${scenario.name}: ${figures.clients} clients, ${nodes} node(s), ${figures.generators} generator(s), seed ${seed}; exit ${figures.exitCode}; ${figures.wallS} s wall`,
    `verdicts: ${figures.failed.length === 0 ? 'every property passed' : figures.failed.join(' | ')}`,
    `connect rate: ${figures.connectsPerSec}/s (${figures.firstSessions} first sessions; ${figures.connects} connects, ${figures.connectFailures} failed, ${live.abandonedConnects} given up by the client before the WebSocket opened; ${live.connectsWaited} waited for one of a generator's ${liveLimits.connectsInFlightMax} connects in flight, at most ${live.connectsInFlightMax} in flight)`,
    `memory per connection: nodes ${kb(figures.nodeBytesPerConnection)}, generators ${kb(figures.generatorBytesPerConnection)} (RSS growth over the first sample, taken before any client connected / clients); all-in (peak RSS / clients): nodes ${kb(figures.nodeBytesPerConnectionAllIn)}, generators ${kb(figures.generatorBytesPerConnectionAllIn)}`,
    `processes (open-file limit ${figures.filesMax ?? 'unknown'}): ${figures.processes.map((p) => `${p.name} RSS ${mib(p.rssFirst)} -> ${mib(p.rssMax)}, files ${p.filesFirst} -> ${p.filesMax}`).join('; ')}`,
    `CPU (from /proc; busiest ${liveLimitsSampleS} s of each in brackets, 100% = a core): nodes ${(figures.nodeCpuMs / 1000).toFixed(1)} s, generators ${(figures.generatorCpuMs / 1000).toFixed(1)} s over ${figures.wallS} s wall; ${figures.processes.map((p) => `${p.name} ${(p.cpuMs / 1000).toFixed(1)} s (${Math.round(p.cpuShareMax * 100)}%)`).join(', ')}`,
    `latency from the scheduled send: ack p50 ${figures.ackMs.p50} / p99 ${figures.ackMs.p99} ms; delivery group p50 ${figures.deliveryGroupMs.p50} / p99 ${figures.deliveryGroupMs.p99} / p999 ${figures.deliveryGroupMs.p999} ms (${figures.deliveryGroupMs.count}); 1:1 p50 ${figures.deliveryDirectMs.p50} / p99 ${figures.deliveryDirectMs.p99} ms (${figures.deliveryDirectMs.count}); generator CPU max ${Math.round(figures.generatorCpuShareMax * 100)}% of a core`,
    `sessions held (welcomed, from the history): ${heldLine(figures.held, heldFromMs, heldToMs)}`,
    `latencies load-limited: ${loadLimitedBy(live.generatorCpuShareMax, live.generatorLoopDelayMsMax) ?? 'no'}`,
    `stalls: a generator's event loop blocked ${Math.round(figures.generatorLoopDelayMsMax)} ms at most; the checkers lagged the generators by ${(figures.historyLagMsMax / 1000).toFixed(1)} s at most`,
    `sessions lost, by reason: ${
      lostBy.size === 0
        ? 'none'
        : [...lostBy]
            .sort((a, b) => b[1] - a[1])
            .map(([reason, n]) => `${reason} ${n}`)
            .join(', ')
    }`,
    `closed before a welcome (after the WebSocket opened), by code: ${
      Object.keys(live.closedInHello).length === 0
        ? 'none'
        : Object.entries(live.closedInHello)
            .map(([code, n]) => `${code} ${n}`)
            .join(', ')
    }`,
    `messages: sent ${summary.messages.sent}, acked ${summary.messages.acked}, failed ${summary.messages.failed}${failedBy.size === 0 ? '' : ` (${[...failedBy].map(([code, n]) => `${code} ${n}`).join(', ')})`}, displayed ${summary.messages.displayed}; settled ${summary.settledAtMs === null ? 'never' : `at ${(summary.settledAtMs / 1000).toFixed(1)} s`}`,
    `read during the run (the checkers judged and dropped what it showed): ${live.progressiveRead.seqs} seqs in ${live.progressiveRead.checkpoints} reads, ${live.progressiveRead.requests} requests, ${live.progressiveRead.failures} conversation reads failed; final read ${live.finalRead.requests} requests`,
    ...live.faultLog.map((line) => `fault: ${line}`),
  ];
  if (curveMs !== undefined) {
    const perGenerator = Math.ceil(summary.clients / figures.generators);
    out.push(curveTable(live.processes, curveMs, (p) => (p.kind === 'generator' ? perGenerator : 0)));
    out.push(trendLine(live.processes));
  }
  process.stdout.write(`${out.join('\n')}\n`);
  if (values.out !== undefined)
    writeFileSync(
      values.out,
      `${JSON.stringify({ figures, sessionsLostBy: Object.fromEntries(lostBy), failedBy: Object.fromEntries(failedBy), processes: live.processes, summary }, null, 1)}\n`,
    );
  process.exitCode = figures.exitCode;
}

await main();
