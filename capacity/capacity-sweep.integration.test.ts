// A small capacity sweep end to end (`chatsim capacity` against a reference node it starts): the
// node runs with an injected limit of 1 send/s per user, so the knee must fall between the step
// offering 0.2 msgs/s per user (held) and the one offering 2 (each user's sends queue behind the
// rate limit: ack latency grows with every second of load; 12 s at the p99 in a trial at 17:03 UTC),
// and the limit that broke must be the ack-latency threshold. The overload is 2x the limit so the
// box's own load cannot move the knee, and no more, with 3 s steps, so the backlog drains in seconds
// (the whole sweep took 65 s with 4x and 6 s steps, 33 s now).

import { mkdtemp, readFile, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, expect, it } from 'vitest';
import { runCli } from '../test-support/cli-run.ts';
import type { CapacityReport } from './capacity-sweep.ts';

let dir: string;

beforeAll(async () => {
  dir = await mkdtemp(join(tmpdir(), 'chatsim-capacity-'));
  await writeFile(
    join(dir, 'rate-limited.json'),
    JSON.stringify({
      name: 'rate-limited',
      description: 'steady traffic on one node held to 1 send/s per user',
      clients: { count: 20, devicesPerUser: 2 },
      workload: { ratePer1kClients: 100 },
      phases: { warmupMs: 2000, settleMaxMs: 90_000 },
      limits: { userSendsPerSec: 1, userSendBurst: 2 },
      // Ten users in 3 s steps: no watched user may come or go, so presence-changes could not judge.
      checks: { skip: ['presence-changes'] },
      thresholds: { ackLatency: ['p(99)<=5000'], failedSends: ['count<1'] },
    }),
  );
});

afterAll(async () => {
  await rm(dir, { recursive: true, force: true });
});

it('finds the knee where a per-user rate limit puts it, and says the ack-latency threshold broke', async () => {
  const report = join(dir, 'report');
  const { code, out, err } = await runCli([
    'capacity',
    join(dir, 'rate-limited.json'),
    '--nodes',
    '1',
    '--seed',
    '5',
    '--clients',
    '20',
    '--rates',
    '20',
    '--repeats',
    '1',
    '--step-duration',
    '3s',
    '--json',
    '--report',
    report,
  ]);
  expect(code, err.join('\n')).toBe(0);
  const sweep = JSON.parse(out.join('\n')) as CapacityReport;
  expect(sweep.steps.map((s) => [s.phase, s.clients, s.offeredMsgsPerSec, s.held])).toEqual([
    ['connections', 20, 2, true],
    ['rate', 20, 20, false],
  ]);
  expect(sweep.knee.lastHeld?.offeredMsgsPerSec).toBe(2);
  expect(sweep.knee.firstBroken?.offeredMsgsPerSec).toBe(20);
  expect(sweep.knee.limit.some((l) => l.startsWith('threshold ackLatency'))).toBe(true);
  // The rate limit, not a broken check, is what stopped it.
  expect(sweep.knee.limit.filter((l) => l.startsWith('check '))).toEqual([]);
  const held = sweep.steps[0]!.repeats[0]!;
  expect(held.serverConnectionsPeak).toBe(20);
  expect(held.serverBytesPerConnection).not.toBeNull();
  const written = JSON.parse(await readFile(join(report, 'capacity.json'), 'utf8')) as CapacityReport;
  expect(written.knee.describe).toBe(sweep.knee.describe);
  expect(await readFile(join(report, 'capacity.md'), 'utf8')).toContain('BROKE: threshold ackLatency');
  expect(await readFile(join(report, 'capacity.html'), 'utf8')).toContain('chart-capacity');
}, 600_000);
