import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { CheckResult } from './history.ts';
import { judgeRun } from './verdict.ts';

const scenario = loadScenario('steady');
const verdict = (property: string, v: CheckResult['verdict']): CheckResult => ({
  property,
  verdict: v,
  details: '',
  witness: [],
});
const failedSends = { count: 0, rate: 0 };
const measuredFine = { ackLatency: { quantile: () => 1, count: 10 }, failedSends };
const measuredSlow = { ackLatency: { quantile: () => 1e9, count: 10 }, failedSends };

describe('judgeRun: verdicts to the exit code CI gates on', () => {
  const pass = [verdict('no-loss', 'pass'), verdict('liveness', 'pass')];
  it.each([
    ['every property holds', pass, 10, measuredFine, 0],
    ['a property violated', [verdict('no-loss', 'fail'), verdict('liveness', 'pass')], 10, measuredFine, 1],
    [
      'violated beats unsettled and slow',
      [verdict('no-loss', 'fail'), verdict('liveness', 'fail')],
      null,
      measuredSlow,
      1,
    ],
    ['an SLO breached', pass, 10, measuredSlow, 2],
    [
      'the run did not settle',
      [verdict('no-loss', 'pass'), verdict('liveness', 'fail')],
      null,
      measuredFine,
      3,
    ],
    [
      'a property could not be judged',
      [verdict('no-loss', 'unknown'), verdict('liveness', 'pass')],
      10,
      measuredFine,
      3,
    ],
    [
      'could not judge beats slow',
      [verdict('no-loss', 'unknown'), verdict('liveness', 'pass')],
      10,
      measuredSlow,
      3,
    ],
  ] as const)('%s', (_name, verdicts, settledAt, measured, exitCode) => {
    expect(judgeRun(scenario, verdicts, settledAt, measured).exitCode).toBe(exitCode);
  });
});
