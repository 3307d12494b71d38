// A whole-core mutation score by random sampling. Stryker over every file of reference-server/core and
// the store the simulator runs (stryker.sample.config.json) makes about 3,700 mutants: eight hours of
// the gate profile on this 2-core box, more than any session has. So a uniform random sample of mutant
// ids, fixed by a seed, runs the profile instead, and the score is estimated with its 95% interval.
// Stryker numbers its mutants 0..N-1 in instrumentation order, the same for the same code and config,
// so the sample is picked from a census (a Stryker run whose test command does nothing, ~4 min) and
// then run under the same config: mutation/sampled-profile.sh runs the profile for sampled ids only
// and passes every other mutant at once; those are left out of the score, never counted.
//
//   npx stryker run stryker.sample.config.json      # census: CHATSIM_MUTATION_SAMPLE=/dev/null
//   npx tsx mutation/sample.ts pick --census census.json --size 200 --seed 1 > /tmp/sample.txt
//   CHATSIM_MUTATION_SAMPLE=/tmp/sample.txt npx stryker run stryker.sample.config.json
//   npx tsx mutation/sample.ts score --census census.json --sample /tmp/sample.txt --report run.json \
//     [--classes classes.json]
//   npx tsx mutation/sample.ts show --report run.json --sample /tmp/sample.txt [--context 4]  # survivors to read
//
// `--classes` maps survivor ids to what reading them found ("equivalent", "cost" or "real"), as the
// by-hand classifications in docs/benchmarks.md do; the score over non-equivalent mutants leaves out
// the equivalent ones (and, in its second figure, the cost-only ones).

import { readFileSync } from 'node:fs';
import { Prng } from '../simulator/kernel/prng.ts';
import { applyMutant, type ReportMutant } from './replay-mutants.ts';

type Report = { files: Record<string, { source: string; mutants: ReportMutant[] }> };
export type SampledMutant = ReportMutant & { file: string };
export type SurvivorClass = 'equivalent' | 'cost' | 'real';

/** Every mutant of a Stryker JSON report, by id. */
export function mutantsOf(report: Report): Map<string, SampledMutant> {
  const byId = new Map<string, SampledMutant>();
  for (const [file, entry] of Object.entries(report.files))
    for (const mutant of entry.mutants) byId.set(mutant.id, { ...mutant, file });
  return byId;
}

/**
 * `size` distinct ids drawn uniformly (a partial Fisher-Yates shuffle) from the census's mutants that
 * are not marked equivalent in the source (`Ignored`), in id order.
 */
export function pickSample(census: Map<string, SampledMutant>, size: number, seed: number): string[] {
  const ids = [...census.values()].filter((m) => m.status !== 'Ignored').map((m) => m.id);
  if (!Number.isInteger(size) || size < 1 || size > ids.length)
    throw new Error(`--size must be a whole number from 1 to ${ids.length} (the census's mutants)`);
  const prng = new Prng(seed);
  for (let i = 0; i < size; i++) {
    const j = i + (prng.nextU32() % (ids.length - i));
    [ids[i], ids[j]] = [ids[j]!, ids[i]!];
  }
  return ids.slice(0, size).sort((a, b) => Number(a) - Number(b));
}

/** Wilson's 95% interval for `k` of `n`. */
export function wilson(k: number, n: number): [number, number] {
  if (n === 0) return [0, 1];
  const z = 1.96;
  const p = k / n;
  const centre = p + (z * z) / (2 * n);
  const spread = z * Math.sqrt((p * (1 - p)) / n + (z * z) / (4 * n * n));
  const denominator = 1 + (z * z) / n;
  return [(centre - spread) / denominator, (centre + spread) / denominator];
}

export type SampleScore = {
  sampled: number;
  killed: number;
  survived: SampledMutant[];
  /** Errors Stryker reports (compile or runtime errors of the mutant itself): neither killed nor survived. */
  errors: number;
  byFile: Map<string, { killed: number; survived: number }>;
};

/**
 * The sample's results from the run's report. Killed and timed-out mutants count as caught (a gate that
 * hangs fails its CI job); survived and uncovered ones as missed. A sampled id missing from the run, or
 * whose location or replacement differs from the census's, means the run was made on other code or
 * another config: an error, never a score.
 */
export function scoreSample(
  census: Map<string, SampledMutant>,
  run: Map<string, SampledMutant>,
  sample: readonly string[],
): SampleScore {
  const score: SampleScore = {
    sampled: sample.length,
    killed: 0,
    survived: [],
    errors: 0,
    byFile: new Map(),
  };
  for (const id of sample) {
    const planned = census.get(id);
    const ran = run.get(id);
    if (planned === undefined) throw new Error(`sampled mutant ${id} is not in the census`);
    if (ran === undefined) throw new Error(`sampled mutant ${id} is not in the run's report`);
    if (
      ran.file !== planned.file ||
      ran.replacement !== planned.replacement ||
      JSON.stringify(ran.location) !== JSON.stringify(planned.location)
    )
      throw new Error(`mutant ${id} differs between the census and the run: made on other code?`);
    const file = score.byFile.get(ran.file) ?? { killed: 0, survived: 0 };
    score.byFile.set(ran.file, file);
    if (ran.status === 'Killed' || ran.status === 'Timeout') {
      score.killed++;
      file.killed++;
    } else if (ran.status === 'Survived' || ran.status === 'NoCoverage') {
      score.survived.push(ran);
      file.survived++;
    } else if (ran.status === 'CompileError' || ran.status === 'RuntimeError') score.errors++;
    else throw new Error(`mutant ${id}: status ${ran.status} in the run (was it sampled?)`);
  }
  return score;
}

const percent = (x: number): string => `${(100 * x).toFixed(1)}%`;

function scoreLine(label: string, killed: number, total: number): string {
  const [low, high] = wilson(killed, total);
  return `${label}: ${killed}/${total} = ${percent(killed / total)} (95% interval ${percent(low)}-${percent(high)})`;
}

function report(score: SampleScore, classes: Record<string, SurvivorClass>): string[] {
  const lines = [`sampled ${score.sampled}; errors (neither caught nor missed) ${score.errors}`];
  const judged = score.killed + score.survived.length;
  lines.push(scoreLine('caught, every mutant counted', score.killed, judged));
  const classOf = (m: SampledMutant): SurvivorClass | undefined => classes[m.id];
  const equivalent = score.survived.filter((m) => classOf(m) === 'equivalent').length;
  const cost = score.survived.filter((m) => classOf(m) === 'cost').length;
  const unread = score.survived.filter((m) => classOf(m) === undefined).length;
  lines.push(scoreLine('caught of non-equivalent', score.killed, judged - equivalent));
  lines.push(
    scoreLine('caught of non-equivalent, cost-only left out', score.killed, judged - equivalent - cost),
  );
  if (unread > 0) lines.push(`${unread} survivors not classified yet (counted as real above)`);
  lines.push('by file (caught / judged):');
  for (const [file, { killed, survived }] of [...score.byFile].sort())
    lines.push(`  ${file}: ${killed}/${killed + survived}`);
  lines.push('survivors:');
  for (const m of score.survived)
    lines.push(
      `  ${m.id} ${m.file}:${m.location.start.line}:${m.location.start.column} ${m.mutatorName} -> ${JSON.stringify(m.replacement).slice(0, 70)} [${classOf(m) ?? 'unclassified'}]`,
    );
  return lines;
}

/**
 * A mutant as a reader classifies it: the file's lines around it, then the same lines mutated
 * (Stryker's replacement at its location, as replay-mutants.ts applies it).
 */
export function mutantContext(source: string, mutant: SampledMutant, context: number): string[] {
  const from = Math.max(1, mutant.location.start.line - context);
  const excerpt = (text: string, last: number): string[] =>
    text
      .split('\n')
      .slice(from - 1, last)
      .map((line, i) => `${String(from + i).padStart(5)}  ${line}`);
  const mutated = applyMutant(source, mutant);
  const grown = mutated.split('\n').length - source.split('\n').length;
  const last = mutant.location.end.line + context;
  return [
    `## ${mutant.id} ${mutant.file}:${mutant.location.start.line}:${mutant.location.start.column} ${mutant.mutatorName}`,
    ...excerpt(source, last),
    '   -> mutated:',
    ...excerpt(mutated, last + grown),
  ];
}

function flag(args: string[], name: string): string {
  const at = args.indexOf(`--${name}`);
  const value = at >= 0 ? args[at + 1] : undefined;
  if (value === undefined || value.startsWith('--')) throw new Error(`--${name} is required`);
  return value;
}

const readReport = (path: string): Map<string, SampledMutant> =>
  mutantsOf(JSON.parse(readFileSync(path, 'utf8')) as Report);

function main(args: string[]): number {
  const [command, ...rest] = args;
  try {
    if (command === 'pick') {
      const census = readReport(flag(rest, 'census'));
      const ids = pickSample(census, Number(flag(rest, 'size')), Number(flag(rest, 'seed')));
      console.log(ids.join('\n'));
      return 0;
    }
    if (command === 'show') {
      // Every sampled survivor in its context, for reading: show --report run.json --sample ids [--context N]
      const runReport = JSON.parse(readFileSync(flag(rest, 'report'), 'utf8')) as Report;
      const sample = new Set(readFileSync(flag(rest, 'sample'), 'utf8').split('\n').filter(Boolean));
      const context = rest.includes('--context') ? Number(flag(rest, 'context')) : 4;
      for (const [file, entry] of Object.entries(runReport.files))
        for (const mutant of entry.mutants)
          if (sample.has(mutant.id) && (mutant.status === 'Survived' || mutant.status === 'NoCoverage'))
            console.log(`${mutantContext(entry.source, { ...mutant, file }, context).join('\n')}\n`);
      return 0;
    }
    if (command === 'score') {
      const sample = readFileSync(flag(rest, 'sample'), 'utf8').split('\n').filter(Boolean);
      const classes = rest.includes('--classes')
        ? (JSON.parse(readFileSync(flag(rest, 'classes'), 'utf8')) as Record<string, SurvivorClass>)
        : {};
      const score = scoreSample(readReport(flag(rest, 'census')), readReport(flag(rest, 'report')), sample);
      console.log(report(score, classes).join('\n'));
      return 0;
    }
    console.error('usage: tsx mutation/sample.ts pick|score ... (see the header of mutation/sample.ts)');
    return 2;
  } catch (error) {
    console.error(`mutation/sample.ts: ${(error as Error).message}`);
    return 2;
  }
}

if (import.meta.url === `file://${process.argv[1]}`) process.exitCode = main(process.argv.slice(2));
