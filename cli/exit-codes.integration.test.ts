// The gate's contract with CI, end to end through the real binary: exit 0 when every property holds,
// 1 when one is violated (with its witness and the repro command), 2 when an SLO is breached, 3 when
// the run could not be judged (a property no check could decide); and the JUnit XML the gate writes
// carries each violation as a <failure>. Small client counts keep each sim run a few seconds.

import { spawnSync } from 'node:child_process';
import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
const steadyPath = fileURLToPath(new URL('../scenarios/steady.json', import.meta.url));

function chatsim(...args: string[]) {
  const result = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

let dir: string;
/** steady, changed: written as a scenario file of one's own. */
type ScenarioJson = {
  $schema?: string;
  name: string;
  thresholds: Record<string, unknown>;
  workload?: Record<string, unknown>;
};
async function steadyWith(name: string, change: (scenario: ScenarioJson) => void): Promise<string> {
  const scenario = JSON.parse(await readFile(steadyPath, 'utf8')) as ScenarioJson;
  scenario.name = name;
  delete scenario.$schema;
  change(scenario);
  const path = join(dir, `${name}.json`);
  await writeFile(path, JSON.stringify(scenario));
  return path;
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-exit-'));
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

describe('chatsim sim exit codes', () => {
  const small = ['--seed', '1', '--clients', '100', '--no-progress'];

  it('0: every property holds', () => {
    const run = chatsim('sim', 'steady', ...small);
    expect(run.stdout).toMatch(/verdict: PASS/);
    expect(run.status).toBe(0);
  });

  it('1: a property is violated, with the witness and the repro command', () => {
    const run = chatsim('sim', 'steady', ...small, '--bug', 'dropped-pushes');
    expect(run.stdout).toMatch(/FAIL {2}no-loss/);
    expect(run.stdout).toMatch(/witness for no-loss:/);
    expect(run.stdout).toMatch(
      /reproduce: npx chatsim sim steady --seed 1 --clients 100 --bug dropped-pushes/,
    );
    expect(run.status).toBe(1);
  });

  it('2: an SLO is breached', async () => {
    const path = await steadyWith('tight-slo', (s) => {
      s.thresholds = { ackLatency: ['p(99)<1'] };
    });
    const run = chatsim('sim', path, ...small);
    expect(run.stdout).toMatch(/verdict: FAIL: an SLO was breached/);
    expect(run.status).toBe(2);
  });

  it('3: a property the run could not judge is not a pass, in the table and in the JSON', async () => {
    const path = await steadyWith('no-watches', (s) => {
      s.workload = { ...s.workload, watchPerClient: 0 };
    });
    const table = chatsim('sim', path, ...small);
    expect(table.stdout).toMatch(/UNKN {2}presence-convergence +could not judge: not exercised/);
    expect(table.stdout).toMatch(/verdict: FAIL: could not judge presence-convergence/);
    expect(table.status).toBe(3);
    const json = chatsim('sim', path, ...small, '--json');
    expect(json.status).toBe(3);
    const summary = JSON.parse(json.stdout);
    expect(summary).toMatchObject({
      exitCode: 3,
      couldNotJudge: ['presence-convergence', 'presence-changes'],
    });
    expect(summary.verdicts).toContainEqual(
      expect.objectContaining({ property: 'presence-convergence', verdict: 'unknown' }),
    );
  });
});

describe('chatsim gate JUnit', () => {
  it('writes each violation as a <failure> and exits 1', { timeout: 300_000 }, async () => {
    const junit = join(dir, 'gate.xml');
    const run = chatsim(
      'gate',
      '--seeds',
      '1',
      // One scenario is enough to show the JUnit shape; the whole gate against known bugs is
      // simulator/known-bugs.sim.test.ts.
      '--scenarios',
      'steady',
      '--fresh',
      '0',
      '--explore',
      '0',
      '--bug',
      'dropped-pushes',
      // The JUnit shape is under test, not the catch at full size (CI's gate step runs steady at its own).
      '--clients',
      '100',
      '--junit',
      junit,
    );
    expect(run.status).toBe(1);
    const xml = await readFile(junit, 'utf8');
    expect(xml).toMatch(
      /<testcase classname="chatsim.steady" name="seed 1: no-loss">\s*<failure message="no-loss failed">/,
    );
    expect(xml).toMatch(/reproduce: npx chatsim sim steady --seed 1 --clients 100 --bug dropped-pushes/);
    // --scenarios steady ran steady alone.
    expect(xml).not.toMatch(/classname="chatsim\.(?!steady")/);
    const totals = /<testsuites name="chatsim gate" tests="(\d+)" failures="(\d+)" errors="(\d+)">/.exec(xml);
    expect(Number(totals?.[2])).toBeGreaterThan(0);
    expect(run.stdout).toMatch(/\d+ passed, [1-9]\d* failed\s*$/);
  });
});
