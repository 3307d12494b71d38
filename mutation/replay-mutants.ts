// Replays mutants from a Stryker JSON report against the gate profile, one at a time, without a whole
// Stryker run: how the runs in docs/benchmarks.md show, by hand, that a check added after the run kills
// a survivor. Each mutant is Stryker's own replacement at its own location (the report's), written over
// the real source file, judged by the same profile Stryker runs (gate-profile.ts, CHATSIM_MUTATION_*
// as for Stryker), then the file is put back, also on an error or a signal. Where the file on disk has
// changed since the report (a core fix landed after the run), each mutant is placed by the code around
// it: its lines with three lines either side must occur once, whole, in today's file, or the mutant is
// named and not replayed (its code changed, so the mutant no longer exists as it was).
//
// The report may hold one file or many (the sampled run's whole-core report): each id is found in its file.
//
//   npx tsx mutation/replay-mutants.ts reports/out/mutation/mutation.json 121 124 ...

import { spawnSync } from 'node:child_process';
import { readFileSync, writeFileSync } from 'node:fs';

type Position = { line: number; column: number };
export type ReportMutant = {
  id: string;
  mutatorName: string;
  replacement: string;
  status: string;
  location: { start: Position; end: Position };
};
type Report = { files: Record<string, { source: string; mutants: ReportMutant[] }> };

/**
 * `source` with the mutant's replacement in place (Stryker's lines and columns count from 1). Stryker
 * replaces a node of the syntax tree; text spliced in without brackets may bind differently: the inner
 * `a && b` of `a && b && c` mutated to `a || b` is `(a || b) && c` to Stryker but `a || (b && c)` as
 * text. So an expression's replacement goes in brackets; a block's (BlockStatement) and a switch
 * case's (ConditionalExpression on `case x:`, emptied) cannot.
 */
export function applyMutant(source: string, mutant: ReportMutant): string {
  const lines = source.split('\n');
  const offset = (at: Position): number => {
    if (at.line < 1 || at.line > lines.length) throw new Error(`line ${at.line} is outside the file`);
    let n = 0;
    for (let i = 0; i < at.line - 1; i++) n += lines[i]!.length + 1;
    return n + at.column - 1;
  };
  const from = offset(mutant.location.start);
  const to = offset(mutant.location.end);
  if (!(from <= to && to <= source.length)) throw new Error(`mutant ${mutant.id}: bad location`);
  const statement =
    mutant.mutatorName === 'BlockStatement' || /^(case\b|default\b)/.test(source.slice(from, to));
  const replacement = statement ? mutant.replacement : `(${mutant.replacement})`;
  return source.slice(0, from) + replacement + source.slice(to);
}

/** Lines either side of a mutant that must still match for it to be placed in a changed file. */
const contextLines = 3;

/**
 * The mutant at its place in `now`, the file's text today, found by its lines in `then` (the report's
 * copy) with `contextLines` either side: null unless that block occurs exactly once, starting a line.
 */
export function relocateMutant(then: string, now: string, mutant: ReportMutant): ReportMutant | null {
  if (then === now) return mutant;
  const lines = then.split('\n');
  const { start, end } = mutant.location;
  const first = Math.max(1, start.line - contextLines);
  const last = Math.min(lines.length, end.line + contextLines);
  const block = lines.slice(first - 1, last).join('\n');
  let found = -1;
  for (let at = now.indexOf(block); at >= 0; at = now.indexOf(block, at + 1)) {
    if (at > 0 && now[at - 1] !== '\n') continue;
    if (found >= 0) return null;
    found = at;
  }
  if (found < 0) return null;
  let line = 1;
  for (let i = 0; i < found; i++) if (now.charCodeAt(i) === 10) line++;
  const shift = line - first;
  return {
    ...mutant,
    location: {
      start: { line: start.line + shift, column: start.column },
      end: { line: end.line + shift, column: end.column },
    },
  };
}

/** Each id's file and mutant in the report (a one-file report, or a whole-core one such as the sample's). */
export function locateMutants(
  report: Report,
  ids: readonly string[],
): { found: { id: string; path: string; mutant: ReportMutant }[]; missing: string[] } {
  const found: { id: string; path: string; mutant: ReportMutant }[] = [];
  const missing: string[] = [];
  for (const id of ids) {
    const hit = Object.entries(report.files)
      .map(([path, file]) => ({ path, mutant: file.mutants.find((m) => m.id === id) }))
      .find((entry) => entry.mutant !== undefined);
    if (hit === undefined) missing.push(id);
    else found.push({ id, path: hit.path, mutant: hit.mutant! });
  }
  return { found, missing };
}

/** A mutant whose profile runs longer than this hangs (an endless loop): killed, as Stryker counts a timeout. */
const timeoutMs = Number(process.env.CHATSIM_REPLAY_TIMEOUT_MS ?? 600_000);

function main(args: string[]): number {
  const [reportPath, ...ids] = args;
  if (reportPath === undefined || ids.length === 0) {
    console.error('usage: tsx mutation/replay-mutants.ts <stryker mutation.json> <mutant id>...');
    return 2;
  }
  const report = JSON.parse(readFileSync(reportPath, 'utf8')) as Report;
  const { found, missing } = locateMutants(report, ids);
  for (const id of missing) console.log(`${id}: no such mutant in the report`);
  const originals = new Map<string, string>();
  for (const { path } of found) {
    if (originals.has(path)) continue;
    const original = readFileSync(path, 'utf8');
    if (original !== report.files[path]!.source)
      console.log(`${path} changed since the report: each mutant is placed by the code around it`);
    originals.set(path, original);
  }
  const restore = (): void => {
    for (const [path, original] of originals) writeFileSync(path, original);
  };
  const onSignal = (): never => {
    restore();
    process.exit(130);
  };
  process.once('SIGINT', onSignal);
  process.once('SIGTERM', onSignal);
  let killed = 0;
  let placed = 0;
  try {
    for (const { id, path, mutant: reported } of found) {
      const mutant = relocateMutant(report.files[path]!.source, originals.get(path)!, reported);
      if (mutant === null) {
        console.log(
          `${id} ${path}:${reported.location.start.line}: not replayed: the code around it changed`,
        );
        continue;
      }
      placed++;
      writeFileSync(path, applyMutant(originals.get(path)!, mutant));
      const run = spawnSync(process.execPath, ['--import', 'tsx', 'mutation/gate-profile.ts'], {
        encoding: 'utf8',
        timeout: timeoutMs,
        killSignal: 'SIGKILL',
      });
      restore();
      const last = `${run.stdout}${run.stderr}`.trim().split('\n').at(-1) ?? '';
      const verdict =
        run.status === 0
          ? 'survived'
          : run.signal === 'SIGKILL'
            ? `killed (timed out after ${timeoutMs} ms, as Stryker's timeout counts a hang)`
            : `killed (${last})`;
      if (run.status !== 0) killed++;
      console.log(
        `${id} ${path}:${mutant.location.start.line} ${mutant.mutatorName} -> ${JSON.stringify(mutant.replacement).slice(0, 60)}: ${verdict}`,
      );
    }
  } finally {
    restore();
  }
  console.log(
    `${killed} of ${placed} killed${placed < found.length ? ` (${found.length - placed} not placed)` : ''}`,
  );
  return missing.length > 0 || placed < found.length ? 2 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
