// A run with the checkers on their thread collects the released world's heap once, before its final
// state crosses (collect-heap.ts); an in-process run does not (the gate's small runs pay nothing).

import { describe, expect, it, vi } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { type MemorySample, MemoryWatch } from './memory-watch.ts';
import { runScenario } from './run-scenario.ts';

const collections = vi.hoisted(() => ({ phases: [] as string[], phase: (): string => 'none' }));
vi.mock('./collect-heap.ts', () => ({
  collectHeap: () => collections.phases.push(collections.phase()),
}));

describe("the released world's heap collected before the final state crosses", () => {
  const scenario = loadScenario('steady');
  const fine: MemorySample = { rssBytes: 2 ** 20, heapUsedBytes: 2 ** 20, heapLimitBytes: 2 ** 32 };

  it.each([
    ['once, in the final read, with the checkers on their thread', true, ['final read']],
    ['never in-process', false, []],
  ])('%s', async (_what, checkerThread, expected) => {
    collections.phases = [];
    const watch = new MemoryWatch({ bytes: 2 ** 40, source: '--memory-limit' }, () => fine);
    collections.phase = () => watch.phaseNow;
    const summary = await runScenario(scenario, { seed: 1, clients: 60, checkerThread, memoryWatch: watch });
    expect(summary.exitCode).toBe(0);
    expect(collections.phases).toEqual(expected);
  });
});
