// The memory engine (topology.engine "memory"): the real MemoryStore in the node's process, as
// `serve --store memory` runs it. What it promises, it is judged by: a known store bug wrapped around it
// is caught, a node crash that empties it fails the run, and a bug it cannot carry is refused, never
// run green without it.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import { runScenario } from '../run-scenario.ts';

const failed = (summary: Awaited<ReturnType<typeof runScenario>>): string[] =>
  summary.verdicts.filter((v) => v.verdict !== 'pass').map((v) => v.property);

describe('the memory store in the simulator', () => {
  const scenario = loadScenario('memory-store');

  it('passes memory-store as written, and catches a known bug wrapped around the store', async () => {
    expect(scenario.topology.engine).toBe('memory');
    const clean = await runScenario(scenario, { seed: 1, clients: 100 });
    expect(failed(clean)).toEqual([]);
    expect(clean.exitCode).toBe(0);
    const skipping = await runScenario(scenario, { seed: 1, clients: 100, bugs: ['sync-skips'] });
    expect(skipping.exitCode).toBe(1);
    expect(failed(skipping)).toContain('read-pages');
  }, 120_000);

  it('keeps nothing across a node crash: the run is judged for what the crash took', async () => {
    const crashing = {
      ...scenario,
      faults: [{ type: 'node-crash' as const, atMs: 5000, durationMs: 1000, node: 0, description: '' }],
    };
    const summary = await runScenario(crashing, { seed: 1, clients: 100 });
    expect(summary.exitCode).toBe(1);
    expect(failed(summary)).toContain('durable-ack');
  }, 120_000);

  it('refuses a bug the memory store cannot carry', async () => {
    await expect(
      runScenario(scenario, { seed: 1, clients: 40, bugs: ['ack-before-durable'] }),
    ).rejects.toThrow(/cannot carry --bug ack-before-durable/);
  });
});
