// The run settles only once every adversarial attempt from before the settle phase has its outcome:
// adversarial seed 3 once ended 500 ms into settle with two cursor attempts still waiting for the
// next welcome, so authorization could not judge them and the gate went red (exit 3) on a correct server.

import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

describe('convergence', () => {
  it('waits for the outcome of every adversarial attempt made before settle', async () => {
    const summary = await runScenario(loadScenario('adversarial'), { seed: 3 });
    const authorization = summary.verdicts.find((v) => v.property === 'authorization');
    // Attempts made during settle (it lasts at least 5 s) may still be out at the end; none from before.
    expect(authorization?.details).toMatch(/ unanswered \(0 from before the settle phase/);
    expect(authorization?.verdict).toBe('pass');
    expect(summary.exitCode).toBe(0);
  });
});
