import { describe, expect, it } from 'vitest';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { history } from './history-fixture.ts';
import { createLivenessChecker } from './liveness.ts';

const phases = [
  history.phase(0, 'warmup'),
  history.phase(100, 'faults'),
  history.phase(200, 'heal'),
  history.phase(300, 'settle'),
];

describe('liveness', () => {
  it('passes a run that settled, saying how long settling took', () => {
    const [result] = checkHistory(
      [createLivenessChecker()],
      [...phases, history.phase(450, 'final')],
      finalStateFixture({ at: 450, settledAt: 420 }),
    );
    expect(result).toMatchObject({ property: 'liveness', verdict: 'pass', witness: [] });
    expect(result!.details).toMatch(/settled at 420 \(120 ms after settle began\)/);
  });

  it('fails a run that did not settle, with its phases as the witness', () => {
    const [result] = checkHistory(
      [createLivenessChecker()],
      [...phases, history.phase(900, 'final')],
      finalStateFixture({ at: 900, settledAt: null }),
    );
    expect(result!.verdict).toBe('fail');
    expect(result!.details).toMatch(/did not settle by 900/);
    expect(result!.witness).toEqual([
      expect.objectContaining({ path: expect.arrayContaining([{ k: 'phase', phase: 'settle', at: 300 }]) }),
    ]);
  });

  it('fails a run that never reached its settle phase', () => {
    const [result] = checkHistory(
      [createLivenessChecker()],
      phases.slice(0, 2),
      finalStateFixture({ settledAt: null }),
    );
    expect(result!.verdict).toBe('fail');
    expect(result!.details).toMatch(/never entered its settle phase/);
  });
});
