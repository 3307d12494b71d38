// From checker verdicts and measured figures to SLO lines and the exit code CI gates on, the same for
// a simulation and a live run: 0 pass, 1 a property violated, 2 an SLO breached, 3 did not settle.

import type { Scenario } from '../scenarios/scenario.ts';
import type { CheckResult } from './history.ts';

export type SloResult = { name: string; limit: number; actual: number; pass: boolean };
export type ExitCode = 0 | 1 | 2 | 3;

export function judgeRun(
  scenario: Scenario,
  verdicts: readonly CheckResult[],
  settledAt: number | null,
  measured: { ackLatencyMsP99: number; failedSends: number },
): { slo: SloResult[]; exitCode: ExitCode } {
  const slo: SloResult[] = [];
  const { ackLatencyMsP99, failedSendsMax } = scenario.thresholds;
  if (ackLatencyMsP99 !== undefined)
    slo.push({
      name: 'ackLatencyMsP99',
      limit: ackLatencyMsP99,
      actual: measured.ackLatencyMsP99,
      pass: measured.ackLatencyMsP99 <= ackLatencyMsP99,
    });
  if (failedSendsMax !== undefined)
    slo.push({
      name: 'failedSendsMax',
      limit: failedSendsMax,
      actual: measured.failedSends,
      pass: measured.failedSends <= failedSendsMax,
    });
  const violated = verdicts.some((v) => v.verdict === 'fail' && v.property !== 'liveness');
  const live = verdicts.find((v) => v.property === 'liveness')?.verdict !== 'fail' && settledAt !== null;
  const exitCode = violated ? 1 : !live ? 3 : slo.some((s) => !s.pass) ? 2 : 0;
  return { slo, exitCode };
}
