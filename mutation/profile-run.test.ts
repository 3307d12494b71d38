import { describe, expect, it } from 'vitest';
import { judgeProfileRun } from './profile-run.ts';

const slo = (pass: boolean) => [{ name: 'repeatedPushes', pass }] as never;
const verdicts = (verdict: string) => [{ property: 'no-loss', verdict }] as never;

describe('judgeProfileRun', () => {
  it('passes a run that passed', () => {
    expect(judgeProfileRun('steady', { exitCode: 0, verdicts: verdicts('pass'), slo: slo(true) })).toEqual({
      outcome: 'pass',
    });
  });

  it('goes on past a run failed by an SLO alone, naming it', () => {
    const run = judgeProfileRun('partition', { exitCode: 2, verdicts: verdicts('pass'), slo: slo(false) });
    expect(run).toEqual({ outcome: 'slo-only', line: 'FAIL partition: exit 2 slo:repeatedPushes' });
  });

  it('ends the profile on a violated property, with or without an SLO', () => {
    for (const s of [slo(true), slo(false)])
      expect(judgeProfileRun('churn', { exitCode: 1, verdicts: verdicts('fail'), slo: s }).outcome).toBe(
        'killed',
      );
  });

  it('ends it on a verdict that could not judge, and on a failure with no verdict or SLO named', () => {
    expect(
      judgeProfileRun('churn', { exitCode: 3, verdicts: verdicts('unknown'), slo: slo(true) }).outcome,
    ).toBe('killed');
    expect(
      judgeProfileRun('churn', { exitCode: 1, verdicts: verdicts('pass'), slo: slo(true) }).outcome,
    ).toBe('killed');
    expect(
      judgeProfileRun('churn', { exitCode: 2, verdicts: verdicts('pass'), slo: slo(true) }).outcome,
    ).toBe('killed');
  });
});
