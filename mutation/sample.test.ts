import { spawnSync } from 'node:child_process';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { afterAll, describe, expect, it } from 'vitest';
import { applyMutant } from './replay-mutants.ts';
import { mutantContext, mutantsOf, pickSample, type SampledMutant, scoreSample, wilson } from './sample.ts';

const mutant = (id: number, status = 'Survived', file = 'a.ts'): SampledMutant => ({
  id: String(id),
  file,
  mutatorName: 'ConditionalExpression',
  replacement: 'false',
  status,
  location: { start: { line: id + 1, column: 1 }, end: { line: id + 1, column: 5 } },
});

const census = (n: number, ignored: number[] = []): Map<string, SampledMutant> =>
  new Map(
    Array.from({ length: n }, (_, id) => [
      String(id),
      mutant(id, ignored.includes(id) ? 'Ignored' : 'Survived'),
    ]),
  );

describe('pickSample', () => {
  it('draws distinct ids, the same for the same seed, in id order, never an Ignored one', () => {
    const all = census(1000, [3, 4, 5]);
    const sample = pickSample(all, 200, 7);
    expect(new Set(sample).size).toBe(200);
    expect(sample).toEqual(pickSample(all, 200, 7));
    expect(sample).not.toEqual(pickSample(all, 200, 8));
    expect(sample.map(Number)).toEqual([...sample.map(Number)].sort((a, b) => a - b));
    expect(sample.some((id) => ['3', '4', '5'].includes(id))).toBe(false);
    expect(pickSample(all, 997, 1)).toHaveLength(997);
  });

  it('spreads over the whole range (not the first ids)', () => {
    const sample = pickSample(census(1000), 100, 1).map(Number);
    expect(sample.filter((id) => id >= 500).length).toBeGreaterThan(30);
    expect(sample.filter((id) => id < 500).length).toBeGreaterThan(30);
  });

  it('refuses a size outside the census', () => {
    expect(() => pickSample(census(10, [0]), 10, 1)).toThrow('from 1 to 9');
    expect(() => pickSample(census(10), 0, 1)).toThrow('from 1 to 10');
  });
});

describe('scoreSample', () => {
  it("counts only the sample's mutants: killed and timed out caught, survived and uncovered missed", () => {
    const planned = census(6);
    const run = new Map(planned);
    run.set('0', mutant(0, 'Killed'));
    run.set('1', mutant(1, 'Timeout'));
    run.set('2', mutant(2, 'NoCoverage', 'a.ts'));
    run.set('3', mutant(3, 'RuntimeError'));
    // 4 and 5 passed at once as unsampled: never counted.
    const score = scoreSample(planned, run, ['0', '1', '2', '3']);
    expect(score.killed).toBe(2);
    expect(score.survived.map((m) => m.id)).toEqual(['2']);
    expect(score.errors).toBe(1);
    expect(score.byFile.get('a.ts')).toEqual({ killed: 2, survived: 1 });
  });

  it('refuses a run made on other code (a location moved) or without a sampled mutant', () => {
    const planned = census(3);
    const moved = new Map(planned);
    moved.set('1', {
      ...mutant(1, 'Killed'),
      location: { start: { line: 9, column: 1 }, end: { line: 9, column: 2 } },
    });
    expect(() => scoreSample(planned, moved, ['1'])).toThrow('differs between the census and the run');
    const missing = new Map(planned);
    missing.delete('2');
    expect(() => scoreSample(planned, missing, ['2'])).toThrow("not in the run's report");
    expect(() => scoreSample(planned, new Map(planned).set('1', mutant(1, 'Ignored')), ['1'])).toThrow(
      'status Ignored',
    );
  });
});

describe.each([
  ['0ff7ab0-seed1-200', '0ff7ab0, seed 1'],
  ['3c0f288-seed2-200', "3c0f288's census, seed 2, run on 4888686"],
  ['3c0f288-seed3-200', "3c0f288's census, seed 3, run on d7a02fa"],
  ['4a1ec6e-seed4-200', "4a1ec6e's census, seed 4, run on 07948d5"],
  ['74bbde3-seed5-200', "74bbde3's census, seed 5, run on fc1ece4"],
  ['74bbde3-seed6-200', "74bbde3's census, seed 6, run on f3eeee1"],
])('the committed sample %s (%s)', (name) => {
  // The replays in docs/benchmarks.md run from these reports: a census's 200 sampled mutants with their
  // files' text as they were, so a fresh clone can replay any of them on today's code.
  const samples = resolve(import.meta.dirname, 'samples');
  const ids = readFileSync(join(samples, `${name}.ids`), 'utf8')
    .trim()
    .split('\n');
  const report = JSON.parse(readFileSync(join(samples, `${name}.report.json`), 'utf8'));
  const mutants = mutantsOf(report);

  it('holds exactly the sampled ids, each one placeable in its file as it was', () => {
    expect(ids).toHaveLength(200);
    expect([...mutants.keys()].sort((a, b) => Number(a) - Number(b))).toEqual(ids);
    for (const mutant of mutants.values()) {
      const source: string = report.files[mutant.file].source;
      expect(applyMutant(source, mutant)).not.toBe(source);
    }
  });

  it('classes only sampled mutants', () => {
    const classes = JSON.parse(readFileSync(join(samples, `${name}.classes.json`), 'utf8'));
    for (const id of Object.keys(classes)) expect(mutants.has(id), id).toBe(true);
  });
});

describe('wilson', () => {
  it('matches the textbook interval (8 of 10: 0.490-0.943; 170 of 200: 0.794-0.893)', () => {
    const [low, high] = wilson(8, 10);
    expect(low).toBeCloseTo(0.49, 2);
    expect(high).toBeCloseTo(0.943, 3);
    const [low2, high2] = wilson(170, 200);
    expect(low2).toBeCloseTo(0.7939, 3);
    expect(high2).toBeCloseTo(0.8929, 3);
  });
});

describe('sampled-profile.sh', () => {
  const dir = mkdtempSync(join(tmpdir(), 'sampled-profile-'));
  mkdirSync(join(dir, 'scenarios'));
  // Stands in for the bundled gate profile: says it ran and fails, as a killed mutant's profile does.
  writeFileSync(
    join(dir, 'scenarios', '.mutation-profile.mjs'),
    "console.log('profile ran'); process.exit(1);\n",
  );
  writeFileSync(join(dir, 'sample.txt'), '12\n40\n');
  const script = resolve('mutation/sampled-profile.sh');
  afterAll(() => rmSync(dir, { recursive: true, force: true }));
  const run = (env: Record<string, string>) =>
    spawnSync('sh', [script], { cwd: dir, encoding: 'utf8', env: { PATH: process.env.PATH ?? '', ...env } });

  it('runs the profile for a sampled mutant and for the run with no mutant', () => {
    for (const active of [{ __STRYKER_ACTIVE_MUTANT__: '40' }, {}] as Record<string, string>[]) {
      const result = run({ CHATSIM_MUTATION_SAMPLE: join(dir, 'sample.txt'), ...active });
      expect(result.stdout).toContain('profile ran');
      expect(result.status).toBe(1);
    }
  });

  it('passes an unsampled mutant at once (4 is not 40, 1 is not 12)', () => {
    for (const id of ['4', '1', '400']) {
      const result = run({ CHATSIM_MUTATION_SAMPLE: join(dir, 'sample.txt'), __STRYKER_ACTIVE_MUTANT__: id });
      expect(result.stdout).toBe('');
      expect(result.status).toBe(0);
    }
  });

  it('refuses to run without a sample file', () => {
    const result = run({ __STRYKER_ACTIVE_MUTANT__: '12' });
    expect(result.status).toBe(2);
    expect(result.stderr).toContain('CHATSIM_MUTATION_SAMPLE');
  });
});

describe('mutantContext', () => {
  it('shows the lines around a mutant, then the same lines mutated', () => {
    const source = 'a();\nif (x > 1) go();\nb();\n';
    const m: SampledMutant = {
      ...mutant(7),
      file: 'f.ts',
      replacement: 'x >= 1',
      mutatorName: 'EqualityOperator',
      location: { start: { line: 2, column: 5 }, end: { line: 2, column: 10 } },
    };
    expect(mutantContext(source, m, 1)).toEqual([
      '## 7 f.ts:2:5 EqualityOperator',
      '    1  a();',
      '    2  if (x > 1) go();',
      '    3  b();',
      '   -> mutated:',
      '    1  a();',
      '    2  if ((x >= 1)) go();',
      '    3  b();',
    ]);
  });
});
