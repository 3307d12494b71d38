// How the mutation profile (gate-profile.ts) reads one scenario run: a pass, a failure by SLOs alone
// (the profile goes on, since the score counts a kill by an SLO alone as a miss), or a failure that
// ends the profile (a violated property, a verdict that could not judge, a run that did not settle).

import type { RunSummary } from '../simulator/run-scenario.ts';

export type ProfileRun = { outcome: 'pass' } | { outcome: 'slo-only' | 'killed'; line: string };

export function judgeProfileRun(
  name: string,
  summary: Pick<RunSummary, 'exitCode' | 'verdicts' | 'slo'>,
): ProfileRun {
  if (summary.exitCode === 0) return { outcome: 'pass' };
  const why = summary.verdicts
    .filter((v) => v.verdict === 'fail' || v.verdict === 'unknown')
    .map((v) => v.property);
  const slo = summary.slo.filter((s) => !s.pass).map((s) => `slo:${s.name}`);
  const line = `FAIL ${name}: exit ${summary.exitCode} ${[...why, ...slo].join(', ')}`;
  // Exit 2 is the SLOs' alone (simulator/verdict.ts); anything else is a property's or the run's own.
  const sloOnly = summary.exitCode === 2 && why.length === 0 && slo.length > 0;
  return { outcome: sloOnly ? 'slo-only' : 'killed', line };
}
