// The gate's contract with CI, end to end through the real binary: exit 0 when every property holds,
// 1 when one is violated (with its witness and the repro command), 2 when an SLO is breached, 3 when
// the run could not be judged (a property no check could decide); and the JUnit XML the gate writes
// carries each violation as a <failure>. Small client counts keep each sim run a few seconds.

import { spawn, spawnSync } from 'node:child_process';
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

describe('chatsim sim and the memory it may use', () => {
  const small = ['--seed', '1', '--clients', '100', '--no-progress'];

  it('2: refuses a run whose estimated peak is over the limit, with the estimate and what to do', () => {
    const run = chatsim('sim', 'million', '--clients', '1000000', '--memory-limit', '4096', '--no-progress');
    expect(run.stderr).toMatch(
      /^chatsim: 1000000 clients sending about 1200000 messages would need about 4\.\d GiB of memory at their peak, more than the 3\.6 GiB a run may reach of the 4\.0 GiB it may use \(--memory-limit\), where it is stopped unjudged\. Run at most --clients \d{6}, or on a machine with more memory, or pass --skip-memory-estimate to run anyway\n$/,
    );
    expect(run.stdout).toBe('');
    expect(run.status).toBe(2);
  });

  it('3: a run that nears the limit anyway stops, could not judge, and says why', () => {
    // 64 MiB is less than Node itself holds: the watch stops the run at its first look, in the setup.
    const over = ['--memory-limit', '64', '--skip-memory-estimate', '--checker-thread', 'on'];
    const table = chatsim('sim', 'steady', ...small, ...over);
    expect(table.stderr).toMatch(
      /chatsim sim: stopped: its memory \(RSS\) reached \d+ MiB, over 90% of the 64 MiB it may use \(--memory-limit\)\. Run fewer clients, or on a machine with more memory/,
    );
    expect(table.stdout).toMatch(
      /^verdict: FAIL: the run could not be judged: it was stopped before its verdicts: its memory \(RSS\) reached/,
    );
    expect(table.stdout).toMatch(/reproduce: npx chatsim sim steady --seed 1 --clients 100\n$/);
    expect(table.status).toBe(3);
    const json = chatsim('sim', 'steady', ...small, ...over, '--json');
    expect(json.status).toBe(3);
    expect(JSON.parse(json.stdout)).toMatchObject({
      scenario: 'steady',
      seed: 1,
      clients: 100,
      exitCode: 3,
      couldNotJudge: ['all'],
      stopped: expect.stringMatching(/^its memory \(RSS\) reached/),
    });
  });
});

/**
 * The launcher, made to re-run `sim` in a child process (a heap above Node's default: 8 GiB here, over the
 * ~4 GiB default), and that child's pid once it is up.
 */
async function launchedSim(env: Record<string, string | undefined> = {}) {
  const launcher = spawn(
    process.execPath,
    [binPath, 'sim', 'million', '--clients', '200000', '--no-progress'],
    {
      env: { ...process.env, CHATSIM_REEXEC: '', CHATSIM_HEAP_MB: '8192', ...env },
    },
  );
  let stderr = '';
  launcher.stderr.on('data', (chunk) => {
    stderr += chunk;
  });
  const exited = new Promise<number | null>((resolve) => launcher.on('exit', (code) => resolve(code)));
  let child = 0;
  for (let tries = 0; child === 0 && tries < 100; tries++) {
    await new Promise((resolve) => setTimeout(resolve, 100));
    const children = await readFile(`/proc/${launcher.pid}/task/${launcher.pid}/children`, 'utf8');
    child = Number(children.trim().split(' ')[0] || 0);
  }
  expect(child).toBeGreaterThan(0);
  return { child, exited, stderr: () => stderr };
}

/** A process's environment variable as /proc says it, or undefined. */
async function environOf(pid: number, name: string): Promise<string | undefined> {
  const environ = (await readFile(`/proc/${pid}/environ`, 'utf8')).split('\0');
  return environ.find((entry) => entry.startsWith(`${name}=`))?.slice(name.length + 1);
}

describe('chatsim sim killed from outside', () => {
  it("says so when the simulation process is SIGKILLed (as the kernel's out-of-memory killer does), exit 137", async () => {
    // The child is what the kernel kills.
    const { child, exited, stderr } = await launchedSim();
    process.kill(child, 'SIGKILL');
    expect(await exited).toBe(137);
    expect(stderr()).toMatch(
      /^chatsim: the simulation process was killed \(SIGKILL\), most likely by the kernel for want of memory; it has no verdict\./m,
    );
  });
});

describe("chatsim sim's process", () => {
  it("gives glibc's allocator a fixed mmap threshold, so freed large buffers leave the RSS; the user's own wins", async () => {
    for (const [env, threshold] of [
      [{ MALLOC_MMAP_THRESHOLD_: undefined }, '131072'],
      [{ MALLOC_MMAP_THRESHOLD_: '65536' }, '65536'],
    ] as const) {
      const { child, exited } = await launchedSim(env);
      expect(await environOf(child, 'MALLOC_MMAP_THRESHOLD_')).toBe(threshold);
      process.kill(child, 'SIGKILL');
      await exited;
    }
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
