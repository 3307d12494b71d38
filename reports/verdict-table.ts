// The human summary of a run: a verdict table per property and SLO (PASS, FAIL, or UNKN for a property
// the run could not judge, which fails the run too), the counts, and, when something failed, the
// witness and the one command that replays the run.

import { describeHeld } from '../simulator/live/hold-owed.ts';
import { loadLimitedBy } from '../simulator/live/load-limited.ts';
import { perfLine } from '../simulator/run-meter.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import { unjudged } from '../simulator/verdict.ts';

export function verdictTable(summary: RunSummary, repro: string): string {
  const lines: string[] = [];
  const m = summary.messages;
  if (summary.live) lines.push(...liveHeader(summary, summary.live));
  else
    lines.push(
      `chatsim sim ${summary.scenario}  seed=${summary.seed}  clients=${summary.clients}  events=${summary.events}  trace=${summary.traceHash}`,
      `faults (the scenario's and the seed's): ${describeFaults(summary.derived.faults)}${summary.derived.bugs.length > 0 ? `; deliberate bugs: ${summary.derived.bugs.join(', ')}` : ''}${describeWorkload(summary.derived.workload)}`,
      `virtual ${(summary.virtualMs / 1000).toFixed(1)} s in ${(summary.wallMs / 1000).toFixed(1)} s wall; sent ${m.sent}, acked ${m.acked}, failed ${m.failed}, displayed ${m.displayed}; ack p50 ${summary.ackLatencyMsP50} ms, p99 ${summary.ackLatencyMsP99} ms; settled ${summary.settledAtMs === null ? 'never' : `at ${(summary.settledAtMs / 1000).toFixed(1)} s`}`,
    );
  lines.push('');
  const width = Math.max(
    ...summary.verdicts.map((v) => v.property.length),
    ...summary.slo.map((s) => s.name.length + 4),
    10,
  );
  for (const v of summary.verdicts)
    lines.push(`  ${mark(v.verdict)}  ${v.property.padEnd(width)}  ${v.details}`);
  for (const s of summary.slo)
    lines.push(
      `  ${mark(s.pass ? 'pass' : 'fail')}  ${`slo ${s.name}`.padEnd(width)}  ${s.actual} (limit ${s.limit})${s.detail === undefined ? '' : `: ${s.detail}`}`,
    );
  const failed = summary.verdicts.filter((v) => v.verdict === 'fail');
  for (const v of failed) {
    lines.push('', `witness for ${v.property}:`);
    for (const w of v.witness.slice(0, 5)) lines.push(`  ${JSON.stringify(w).slice(0, 600)}`);
  }
  for (const v of summary.verdicts.filter((v) => v.verdict === 'unknown'))
    lines.push('', `could not judge ${v.property}: ${v.details.replace(/^could not judge: /, '')}`);
  if (summary.exitCode !== 0) lines.push('', `reproduce: ${repro}`);
  if (summary.perf) lines.push('', `speed: ${perfLine(summary.events, summary.perf)}`);
  lines.push('', verdictLine(summary));
  return lines.join('\n');
}

function mark(verdict: string): string {
  return verdict === 'pass' ? 'PASS' : verdict === 'fail' ? 'FAIL' : verdict === 'skipped' ? 'SKIP' : 'UNKN';
}

export function verdictLine(summary: RunSummary): string {
  const outcome = [
    'PASS',
    'FAIL: a property was violated',
    'FAIL: an SLO was breached',
    `FAIL: ${notJudged(summary)}`,
  ][summary.exitCode];
  const live = summary.live;
  const why = live?.loadLimited
    ? loadLimitedBy(live.generatorCpuShareMax, live.generatorLoopDelayMsMax, live.cpuPressure ?? null)
    : null;
  const loadLimited = why === null ? '' : ` (latencies are load-limited: ${why})`;
  return `verdict: ${outcome}${loadLimited}`;
}

/** Why a run exits 3: it did not settle (liveness), and/or which properties could not be judged. */
function notJudged(summary: RunSummary): string {
  const reasons: string[] = [];
  if (summary.settledAtMs === null) reasons.push('the run did not settle (liveness)');
  const unknown = unjudged(summary.verdicts);
  if (unknown.length > 0) reasons.push(`could not judge ${unknown.join(', ')}`);
  return reasons.join('; ') || 'the run could not be judged';
}

function liveHeader(summary: RunSummary, live: NonNullable<RunSummary['live']>): string[] {
  const m = summary.messages;
  const q = (name: string, x: { count: number; p50: number; p99: number; p999: number }) =>
    x.count === 0 ? `${name} -` : `${name} p50 ${x.p50} / p99 ${x.p99} / p999 ${x.p999} ms (${x.count})`;
  return [
    `chatsim live ${summary.scenario}  seed=${summary.seed}  clients=${summary.clients}  events=${summary.events}  target: ${live.target}  generators=${live.generators}`,
    `faults: ${describeFaults(summary.derived.faults)}${summary.derived.bugs.length > 0 ? `; deliberate bugs: ${summary.derived.bugs.join(', ')}` : ''}`,
    `${(summary.wallMs / 1000).toFixed(1)} s wall; sent ${m.sent}, acked ${m.acked}, failed ${m.failed}, displayed ${m.displayed}; settled ${summary.settledAtMs === null ? 'never' : `at ${(summary.settledAtMs / 1000).toFixed(1)} s`}${heldText(live)}; ${live.connects} connects (${live.connectFailures} failed)`,
    `latency from the scheduled send: ${q('ack', live.latencyMs.ack)}; ${q('delivery 1:1', live.latencyMs.deliveryDirect)}; ${q('delivery group', live.latencyMs.deliveryGroup)}`,
    processLine(live),
    `${progressiveLine(live)}final read over HTTP: ${live.finalRead.conversations} conversations, ${live.finalRead.requests} requests${live.finalRead.uncovered.length > 0 ? `; not fully readable by any member: ${live.finalRead.uncovered.slice(0, 5).join(', ')}` : ''}; generators: CPU max ${Math.round(live.generatorCpuShareMax * 100)}% of a core, RSS max ${Math.round(live.generatorRssBytesMax / 1048576)} MiB${live.cpuPressure == null ? '' : `; the box's tasks waited for a CPU ${Math.round(live.cpuPressure * 100)}% of the run`}${live.malformedFrames > 0 ? `; ${live.malformedFrames} malformed server frames` : ''}`,
  ];
}

/** How long the sessions were held after settle for what was owed (older summaries have no `held`). */
function heldText(live: NonNullable<RunSummary['live']>): string {
  const held = live.held;
  if (held === undefined || held === null) return '';
  return `; ${describeHeld(held, held.maxMs) ?? 'nothing owed after settle'}`;
}

/** The reads during the run, when there were any (older summaries have none). */
function progressiveLine(live: NonNullable<RunSummary['live']>): string {
  const p = live.progressiveRead;
  if (p === undefined || (p.checkpoints === 0 && p.failures === 0)) return '';
  return `read during the run: ${p.seqs} seqs in ${p.checkpoints} reads judged as they came (${p.requests} requests${p.failures > 0 ? `, ${p.failures} conversation reads failed` : ''}); `;
}

/** The connect rate, and what the nodes came to in memory and open files (against the per-process limit). */
function processLine(live: NonNullable<RunSummary['live']>): string {
  const mib = (bytes: number) => `${Math.round(bytes / 1048576)} MiB`;
  const nodes = live.processes.filter((p) => p.kind === 'node');
  const limit = live.filesMax === null ? 'limit unknown' : `limit ${live.filesMax}`;
  const nodeText =
    nodes.length === 0
      ? 'nodes not sampled'
      : `nodes: ${nodes.map((n) => `${n.name} RSS ${mib(n.rssBytesFirst)} -> max ${mib(n.rssBytesMax)}, open files max ${n.filesMax}`).join('; ')} (${limit})`;
  return `connect rate ${live.connectRate.perSec.toFixed(0)}/s (${live.connectRate.welcomed} first sessions); ${nodeText}`;
}

export function liveReproCommand(
  scenarioArg: string,
  seed: number,
  clients: number | undefined,
  targetFlags: string,
): string {
  const parts = ['npx chatsim live', scenarioArg, `--seed ${seed}`];
  if (clients !== undefined) parts.push(`--clients ${clients}`);
  parts.push(targetFlags);
  return parts.join(' ');
}

export function reproCommand(
  scenarioArg: string,
  seed: number,
  clients: number | undefined,
  bugs: readonly string[],
): string {
  const parts = ['npx chatsim sim', scenarioArg, `--seed ${seed}`];
  if (clients !== undefined) parts.push(`--clients ${clients}`);
  for (const bug of bugs) parts.push(`--bug ${bug}`);
  return parts.join(' ');
}

/** `partition@2.0s+5.0s(clients 20%)`: what struck, when in the faults phase, for how long, whom. */
export function describeFaults(faults: RunSummary['derived']['faults']): string {
  if (faults.length === 0) return 'none';
  return faults
    .map((f) => {
      const span = `@${(f.atMs / 1000).toFixed(1)}s${f.durationMs === undefined ? '' : `+${(f.durationMs / 1000).toFixed(1)}s`}`;
      const whom =
        f.type === 'rolling-restart'
          ? 'every node in turn'
          : f.type === 'redis-latency'
            ? `${f.node === undefined ? 'every node' : `node ${f.node}`} to the store, +${f.latencyMs ?? 100} ms`
            : f.type === 'store-flaky'
              ? `node ${f.node ?? 0} to the store, ${Math.round((f.fraction ?? 0.3) * 100)}% of requests lost${f.repliesFraction ? ` and ${Math.round(f.repliesFraction * 100)}% of replies` : ''}`
              : f.type === 'node-crash' ||
                  f.type === 'node-pause' ||
                  f.type === 'clock-offset' ||
                  f.target === 'node' ||
                  f.target === 'store'
                ? `${f.target === 'store' ? 'store of ' : ''}node ${f.node ?? 0}`
                : f.type === 'store-outage'
                  ? 'store'
                  : f.type.startsWith('disk-') || f.type === 'crash-during-recovery'
                    ? `the log's disk${f.type === 'disk-bitflip' ? `, ${f.file ?? 'checkpoint'}` : ''}`
                    : `${Math.round((f.fraction ?? 0.1) * 100)}% of clients`;
      return `${f.type}${span}(${whom})`;
    })
    .join(' ');
}

/** The workload settings a swarm seed drew (`swarm.draw`), so a repro shows what the seed ran. */
function describeWorkload(drawn: RunSummary['derived']['workload']): string {
  if (drawn === undefined) return '';
  return `; the seed's workload: ${Object.entries(drawn)
    .map(([knob, value]) => `${knob}=${value}`)
    .join(', ')}`;
}
