// The harness proves its own power: every known-bug variant, run through the gate's scenarios at
// the gate's first fixed seed, must make at least one run fail; and the same runs without a bug pass.

import { describe, expect, it } from 'vitest';
import { gateScenarios, gateSeeds } from '../cli/gate.ts';
import { bugNames } from '../reference-server/known-bugs/bugs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

const seed = gateSeeds[0]!;

describe('the gate against known bugs', () => {
  it.each(bugNames)('catches %s', (bug) => {
    const caughtBy: string[] = [];
    for (const name of gateScenarios) {
      const summary = runScenario(loadScenario(name), { seed, bugs: [bug] });
      if (summary.exitCode !== 0) {
        caughtBy.push(
          `${name}: ${summary.verdicts
            .filter((v) => v.verdict === 'fail')
            .map((v) => v.property)
            .join(', ')}`,
        );
        break;
      }
    }
    expect(caughtBy, `no gate scenario caught ${bug} at seed ${seed}`).not.toEqual([]);
  });

  it.each(gateScenarios)('passes %s without bugs', (name) => {
    const summary = runScenario(loadScenario(name), { seed });
    const failed = summary.verdicts.filter((v) => v.verdict === 'fail');
    expect(failed.map((v) => `${v.property}: ${v.details}`)).toEqual([]);
    expect(summary.exitCode).toBe(0);
  });
});
