// The watch inside a real run: a run stopped near its memory's end rejects with the reason (the CLI's
// exit 3), its checker thread stopped with it; a run the watch lets through keeps its trace.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { MemoryLimitReached, type MemorySample, MemoryWatch } from './memory-watch.ts';
import { runScenario } from './run-scenario.ts';

const mib = 2 ** 20;
const limit = { bytes: 1000 * mib, source: '--memory-limit' };
const fine: MemorySample = { rssBytes: 100 * mib, heapUsedBytes: 50 * mib, heapLimitBytes: 4096 * mib };

/** A watch that looks at every call (its clock a second on each) and finds the memory over from its nth look. */
function watchOverFrom(nth: number) {
  let looks = 0;
  let now = 0;
  const watch = new MemoryWatch(
    limit,
    () => (++looks >= nth ? { ...fine, rssBytes: 990 * mib } : fine),
    () => (now += 1000),
  );
  return { watch, looks: () => looks };
}

describe('a run under the memory watch', () => {
  const scenario = loadScenario('steady');
  const run = { seed: 1, clients: 60, checkerThread: true };

  it('looks about once a virtual second and keeps its trace when the memory holds', async () => {
    const plain = await runScenario(scenario, run);
    const watched = watchOverFrom(Number.POSITIVE_INFINITY);
    const summary = await runScenario(scenario, { ...run, memoryWatch: watched.watch });
    expect(summary.traceHash).toBe(plain.traceHash);
    expect(summary.exitCode).toBe(0);
    expect(watched.looks()).toBeGreaterThanOrEqual(Math.floor(summary.virtualMs / 1000));
  });

  it.each([
    ['on the checker thread', true, ['crossing', 'judging']],
    ['in-process', false, ['judging']],
  ])(
    "says each phase's largest RSS and the phase of the run's peak, judged %s",
    async (_where, onThread, end) => {
      // Each look a MiB more than the last: the run's last phase has its largest sample.
      let looks = 0;
      const watch = new MemoryWatch(limit, () => ({ ...fine, rssBytes: ++looks * mib }));
      const summary = await runScenario(scenario, { ...run, checkerThread: onThread, memoryWatch: watch });
      const phases = ['setup', 'warmup', 'faults', 'heal', 'settle', 'final read', ...end];
      expect(Object.keys(summary.perf!.rssByPhase!)).toEqual(phases);
      expect(summary.perf!.rssByPhase!.judging).toBe(looks * mib);
      expect(summary.perf!.rssPeakPhase).toBe('judging');
      const plain = await runScenario(scenario, { ...run, checkerThread: onThread });
      expect(plain.perf!.rssByPhase).toBeNull();
      expect(plain.perf!.rssPeakPhase).toBeNull();
    },
  );

  it.each([
    ['in the setup', 1],
    ['in the warm-up', 3],
    ['in the settle', 40],
  ])('stops %s with the reason, and no verdicts', async (_when, nth) => {
    const watched = watchOverFrom(nth);
    const stopped = runScenario(scenario, { ...run, memoryWatch: watched.watch });
    await expect(stopped).rejects.toBeInstanceOf(MemoryLimitReached);
    await expect(stopped).rejects.toThrow(/its memory \(RSS\) reached 990 MiB, over 90% of the 1000 MiB/);
    expect(watched.looks()).toBe(nth);
  });
});
