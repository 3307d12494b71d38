// Replays mutants from a Stryker JSON report against the gate profile, one at a time, without a whole
// Stryker run: how the runs in docs/benchmarks.md show, by hand, that a check added after the run kills
// a survivor. Each mutant is Stryker's own replacement at its own location (the report's), written over
// the real source file, judged by the same profile Stryker runs (gate-profile.ts, CHATSIM_MUTATION_*
// as for Stryker), then the file is put back, also on an error or a signal. The report's copy of the
// file must equal the file on disk, or its locations would land elsewhere.
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
    if (original !== report.files[path]!.source) {
      console.error(`${path} differs from the report's copy: check out the commit the report was made at`);
      return 2;
    }
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
  try {
    for (const { id, path, mutant } of found) {
      writeFileSync(path, applyMutant(originals.get(path)!, mutant));
      const run = spawnSync('npx', ['tsx', 'mutation/gate-profile.ts'], { encoding: 'utf8' });
      restore();
      const last = `${run.stdout}${run.stderr}`.trim().split('\n').at(-1) ?? '';
      const verdict = run.status === 0 ? 'survived' : `killed (${last})`;
      if (run.status !== 0) killed++;
      console.log(
        `${id} ${path}:${mutant.location.start.line} ${mutant.mutatorName} -> ${JSON.stringify(mutant.replacement).slice(0, 60)}: ${verdict}`,
      );
    }
  } finally {
    restore();
  }
  console.log(`${killed} of ${found.length} killed`);
  return missing.length > 0 ? 2 : 0;
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
