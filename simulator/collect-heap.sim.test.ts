// A run with the checkers on their thread collects its world's heap twice in its final read: as it begins
// (the world whole, before the cursor read and the snapshot allocate) and once the world is released, before
// its final state crosses (collect-heap.ts); an in-process run does not (the gate's small runs pay nothing).
// Seen through the memory watch: each look notes the phase then ending and the collections so far.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { heapCollections } from './collect-heap.ts';
import { type MemorySample, MemoryWatch } from './memory-watch.ts';
import { runScenario } from './run-scenario.ts';

const fine: MemorySample = { rssBytes: 2 ** 20, heapUsedBytes: 2 ** 20, heapLimitBytes: 2 ** 32 };

describe("the released world's heap collected before the final state crosses", () => {
  const scenario = loadScenario('steady');

  it.each([
    ['twice, in the final read, with the checkers on their thread', true, 2],
    ['never in-process', false, 0],
  ])('%s', async (_what, checkerThread, collected) => {
    const looks: { phase: string; collections: number }[] = [];
    const watch: MemoryWatch = new MemoryWatch({ bytes: 2 ** 40, source: '--memory-limit' }, () => {
      looks.push({ phase: watch.phaseNow, collections: heapCollections() });
      return fine;
    });
    const before = heapCollections();
    const summary = await runScenario(scenario, { seed: 1, clients: 60, checkerThread, memoryWatch: watch });
    expect(summary.exitCode).toBe(0);
    const finalRead = looks.findIndex((look) => look.phase === 'final read');
    // Up to the settle's end, none; the final read's last look (as the crossing begins) and every later one, after it.
    expect(looks.slice(0, finalRead).every((look) => look.collections === before)).toBe(true);
    const lastOfFinalRead = looks.findLastIndex((look) => look.phase === 'final read');
    expect(lastOfFinalRead).toBeGreaterThanOrEqual(finalRead);
    expect(looks.slice(lastOfFinalRead).map((look) => look.collections - before)).toEqual(
      looks.slice(lastOfFinalRead).map(() => collected),
    );
  });
});
