// `chatsim capacity --sim` and `--calibrate` through main(): a tiny simulated sweep prints its knee
// and the model it ran with; the usage errors (a live target with --sim or --calibrate, a cost model
// that does not exist) are one line and exit 2 before anything runs.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import type { CapacityReport } from '../capacity/capacity-sweep.ts';
import { runCli } from '../test-support/cli-run.ts';
import { flatCostModel } from '../test-support/flat-cost-model.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-capacity-sim-'));
  await writeFile(join(dir, 'model.json'), JSON.stringify(flatCostModel(2000)));
  await writeFile(join(dir, 'fixed.json'), JSON.stringify({ ...flatCostModel(2000), fixedCpuShare: 0.3 }));
  await writeFile(
    join(dir, 'tiny.json'),
    JSON.stringify({
      name: 'tiny',
      clients: { count: 20 },
      conversations: { groupFraction: 0 },
      workload: { readProbability: 0, typingProbability: 0, watchPerClient: 1 },
      checks: { skip: ['typing-recipients'] },
      phases: { warmupMs: 1000, settleMaxMs: 20_000 },
      thresholds: { ackLatency: ['p(99)<=250'] },
    }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

async function run(args: string[]) {
  const { code, out, err } = await runCli(args);
  return { code, out: out.join('\n'), err: err.join('\n') };
}

it('sweeps simulated runs with the cost model named, and brackets its knee', async () => {
  const result = await run([
    'capacity',
    join(dir, 'tiny.json'),
    '--sim',
    '--cost-model',
    join(dir, 'model.json'),
    '--seed',
    '1',
    '--clients',
    '20',
    '--rates',
    '20,80',
    '--repeats',
    '1',
    '--step-duration',
    '2s',
    '--json',
  ]);
  expect(result.code, result.err).toBe(0);
  expect(result.err).toContain('cost model flat-2000');
  const report = JSON.parse(result.out) as CapacityReport;
  expect(report.target).toBe('--sim (cost model flat-2000)');
  const rate = report.knee.rate ?? report.knee;
  expect(rate.firstBroken?.offeredMsgsPerSec).toBe(80);
}, 60_000);

it.each([
  [['--sim', '--url', 'http://127.0.0.1:1'], /--sim sweeps the simulator/],
  [['--sim', '--cost-model', 'no-such-model'], /no such cost model/],
  [['--calibrate', '--url', 'http://127.0.0.1:1'], /--calibrate meters reference-server nodes/],
  [['--sim', '--cost-model', 'fixed', '--cpu-share', '0.3'], /leaves nothing for steps.*0\.3 of a core/],
])('capacity steady %s: one line, exit 2', async (flags, message) => {
  const args = flags.map((flag) => (flag === 'fixed' ? join(dir, 'fixed.json') : flag));
  const result = await run(['capacity', 'steady', ...args]);
  expect(result.code).toBe(2);
  expect(result.err).toMatch(message);
});
