// `chatsim capacity --plan` end to end through main(): a capacity.json in, the arithmetic out, and the
// usage errors (missing flags, a file that is not a sweep) as one line and exit 2.

import { mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { findKnee, type StepResult } from '../capacity/knee.ts';
import { runCli } from '../test-support/cli-run.ts';

let dir: string;
const repeat = {
  exitCode: 0,
  broke: [],
  sentPerSec: 400,
  ackedPerSec: 400,
  displayedPerSec: 800,
  failedSends: 0,
  ackP99Ms: 90,
  deliveryP99Ms: 95,
  serverCpuShare: 0.6,
  serverBytesPerConnection: 40_960,
  serverConnectionsPeak: 1000,
  generatorCpuShareMax: 0.4,
  generatorRssBytesMax: 1,
  generatorLimited: false,
};
const steps: StepResult[] = [
  { phase: 'connections', clients: 1000, offeredMsgsPerSec: 400, held: true, repeats: [repeat] },
  {
    phase: 'connections',
    clients: 2000,
    offeredMsgsPerSec: 800,
    held: false,
    repeats: [{ ...repeat, exitCode: 2, broke: ['threshold ackLatency p(99)<=500 (actual 700)'] }],
  },
];

async function run(args: string[]) {
  const { code, out, err } = await runCli(args);
  return { code, out: out.join('\n'), err };
}

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-plan-'));
  await writeFile(
    join(dir, 'capacity.json'),
    JSON.stringify({
      scenario: 'steady',
      seed: 1,
      target: '--nodes 1',
      repeats: 1,
      stepMs: 10_000,
      thresholds: {},
      steps,
      knee: findKnee(steps),
    }),
  );
  await writeFile(join(dir, 'other.json'), '{"name": "steady"}');
});
afterAll(() => rm(dir, { recursive: true, force: true }));

it('prints the plan with its arithmetic and its assumptions', async () => {
  const { code, out } = await run([
    'capacity',
    '--plan',
    '--from',
    join(dir, 'capacity.json'),
    '--target-online',
    '5000000',
    '--msgs-per-user-hour',
    '20',
    '--group-size-mix',
    '2:0.9,8:0.1',
  ]);
  expect(code).toBe(0);
  // 5e6 / (1000 x 0.5) = 10,000 nodes by connections (connections broke at 2000: not a lower bound).
  expect(out).toContain('by connections   ceil(5,000,000 / (1,000 x 0.5)) = 10,000');
  expect(out).not.toContain('LOWER BOUND');
  expect(out).toContain('Scaling 1->N nodes: ASSUMED 0.7');
  expect(out).toMatch(/Summary: 10000 chat nodes \(bound by connections\)/);
});

it('usage errors are one line and exit 2', async () => {
  expect((await run(['capacity', '--plan', '--from', join(dir, 'capacity.json')])).err).toEqual([
    'chatsim: --plan needs --target-online, --msgs-per-user-hour',
  ]);
  const notSweep = await run([
    'capacity',
    '--plan',
    '--from',
    join(dir, 'other.json'),
    '--target-online',
    '10',
    '--msgs-per-user-hour',
    '1',
  ]);
  expect(notSweep.code).toBe(2);
  expect(notSweep.err[0]).toMatch(/not a capacity.json/);
  expect((await run(['capacity'])).code).toBe(2);
  expect((await run(['capacity', 'steady', '--plan'])).code).toBe(2);
});
