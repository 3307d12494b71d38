// The human summary of a run: a verdict table per property and SLO, the counts, and, when something
// failed, the witness and the one command that replays the run.

import type { RunSummary } from '../simulator/run-scenario.ts';

export function verdictTable(summary: RunSummary, repro: string): string {
  const lines: string[] = [];
  const m = summary.messages;
  lines.push(
    `chatsim sim ${summary.scenario}  seed=${summary.seed}  clients=${summary.clients}  events=${summary.events}  trace=${summary.traceHash}`,
    `faults (the scenario's and the seed's): ${describeFaults(summary.derived.faults)}${summary.derived.bugs.length > 0 ? `; deliberate bugs: ${summary.derived.bugs.join(', ')}` : ''}`,
    `virtual ${(summary.virtualMs / 1000).toFixed(1)} s in ${(summary.wallMs / 1000).toFixed(1)} s wall; sent ${m.sent}, acked ${m.acked}, failed ${m.failed}, displayed ${m.displayed}; ack p50 ${summary.ackLatencyMsP50} ms, p99 ${summary.ackLatencyMsP99} ms; settled ${summary.settledAtMs === null ? 'never' : `at ${(summary.settledAtMs / 1000).toFixed(1)} s`}`,
    '',
  );
  const width = Math.max(
    ...summary.verdicts.map((v) => v.property.length),
    ...summary.slo.map((s) => s.name.length + 4),
    10,
  );
  for (const v of summary.verdicts)
    lines.push(`  ${mark(v.verdict)}  ${v.property.padEnd(width)}  ${v.details}`);
  for (const s of summary.slo)
    lines.push(
      `  ${mark(s.pass ? 'pass' : 'fail')}  ${`slo ${s.name}`.padEnd(width)}  ${s.actual} (limit ${s.limit})`,
    );
  const failed = summary.verdicts.filter((v) => v.verdict === 'fail');
  for (const v of failed) {
    lines.push('', `witness for ${v.property}:`);
    for (const w of v.witness.slice(0, 5)) lines.push(`  ${JSON.stringify(w).slice(0, 600)}`);
  }
  if (summary.exitCode !== 0) lines.push('', `reproduce: ${repro}`);
  lines.push('', verdictLine(summary));
  return lines.join('\n');
}

function mark(verdict: string): string {
  return verdict === 'pass' ? 'PASS' : verdict === 'fail' ? 'FAIL' : '????';
}

export function verdictLine(summary: RunSummary): string {
  const outcome = [
    'PASS',
    'FAIL: a property was violated',
    'FAIL: an SLO was breached',
    'FAIL: the run did not settle (liveness)',
  ][summary.exitCode];
  return `verdict: ${outcome}`;
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
        f.type === 'node-crash' ||
        f.type === 'node-pause' ||
        f.type === 'clock-offset' ||
        f.target === 'node' ||
        f.target === 'store'
          ? `${f.target === 'store' ? 'store of ' : ''}node ${f.node ?? 0}`
          : f.type === 'store-outage'
            ? 'store'
            : `${Math.round((f.fraction ?? 0.1) * 100)}% of clients`;
      return `${f.type}${span}(${whom})`;
    })
    .join(' ');
}
