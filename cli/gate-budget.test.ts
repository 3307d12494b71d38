// The gate's time budget cuts fresh seeds only: a fixed seed is a regression that must run, so a gate
// whose budget is spent before it starts still runs every fixed seed, and skips the fresh ones.

import { mkdtemp, readFile, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { runCli } from '../test-support/cli-run.ts';

/** A gate of the fixed seed 1 of `scenarios` at 100 clients and three fresh seeds, with a budget of 0 s (spent before the first run starts). */
const budgetSpentGate = (scenarios: string, jobs: number, junit: string): string[] => [
  'gate',
  ...['--scenarios', scenarios, '--seeds', '1', '--fresh', '3', '--explore', '0', '--budget-s', '0'],
  ...['--jobs', String(jobs), '--clients', '100', '--root-seed', '7', '--junit', junit],
];

describe('chatsim gate --budget-s', () => {
  it('runs every fixed seed whatever the budget, and cuts only fresh seeds', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatsim-gate-budget-'));
    try {
      const junit = join(dir, 'junit.xml');
      const { code, out, err } = await runCli(budgetSpentGate('steady,adversarial', 1, junit));
      const xml = await readFile(junit, 'utf8');
      expect(xml).toContain('classname="chatsim.steady"');
      expect(xml).toContain('classname="chatsim.adversarial"');
      expect(xml).not.toContain('classname="chatsim.swarm"');
      expect(err.join('\n')).toMatch(/time budget of 0s spent; later fresh seeds skipped/);
      expect(out.join('\n')).toMatch(/2 runs \(0 failed; 0 of 3 fresh seeds\)/);
      expect(out.join('\n')).toMatch(/2 passed, 0 failed\s*$/);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);

  it('with runs at once, starts the dearest first but reports and writes them in plan order', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'chatsim-gate-budget-'));
    try {
      const junit = join(dir, 'junit.xml');
      // churn costs more than steady (gateRunSeconds), so it starts first; steady is first in the plan.
      const { code, out } = await runCli(budgetSpentGate('steady,churn', 2, junit));
      const xml = await readFile(junit, 'utf8');
      expect(xml.indexOf('classname="chatsim.steady"')).toBeGreaterThan(0);
      expect(xml.indexOf('classname="chatsim.churn"')).toBeGreaterThan(
        xml.indexOf('classname="chatsim.steady"'),
      );
      expect(xml).not.toContain('classname="chatsim.swarm"');
      const runs = out.filter((line) => /^(PASS|FAIL) {2}/.test(line)).map((line) => line.split(/\s+/)[1]);
      expect(runs).toEqual(['steady', 'churn']);
      expect(out.join('\n')).toMatch(/2 runs \(0 failed; 0 of 3 fresh seeds\) .* 2 at once/);
      expect(code).toBe(0);
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
