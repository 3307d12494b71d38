// The simulator's final cursor read goes through the world's HTTP like a black box's client: one
// `cursor-read` per conversation after settle, each answered with the current members' cursors, and
// cursor-monotonicity judges them against what devices saw.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { createCursorMonotonicityChecker } from './checkers/cursor-monotonicity.ts';
import type { Checker, HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 300_000;

describe('final cursor read (simulation)', () => {
  it(
    'reads every conversation once after settle, and cursor-monotonicity judges the cursors read',
    async () => {
      const convs = new Set<string>();
      const reads: Extract<HistoryEvent, { k: 'cursor-read' }>[] = [];
      let finalAt = Number.NaN;
      const spy: Checker = {
        property: 'spy',
        kinds: 'all',
        observe(event) {
          if (event.k === 'conv') convs.add(event.conv);
          if (event.k === 'cursor-read') reads.push(event);
          if (event.k === 'phase' && event.phase === 'final') finalAt = event.at;
        },
        finish: () => ({ property: 'spy', verdict: 'pass', details: '', witness: [] }),
      };
      const summary = await runScenario(loadScenario('steady'), {
        seed: 1,
        clients: 40,
        checkers: [createCursorMonotonicityChecker(), spy],
      });
      expect(reads.map((read) => read.conv).sort()).toEqual([...convs].sort());
      for (const read of reads) {
        expect(read).toMatchObject({ status: 200 });
        expect(read.at).toBeLessThanOrEqual(finalAt);
        expect(read.members?.length).toBeGreaterThan(0);
      }
      const verdict = summary.verdicts.find((v) => v.property === 'cursor-monotonicity')!;
      expect(verdict.verdict).toBe('pass');
      const judged = /final cursor reads: (\d+) answered, (\d+) cursors judged/.exec(verdict.details);
      expect(Number(judged?.[1])).toBe(convs.size);
      expect(Number(judged?.[2])).toBeGreaterThan(0);
    },
    simTimeoutMs,
  );
});
