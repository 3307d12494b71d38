// The standard checkers as a scenario configures them, for the simulator and the live driver alike:
// the send limits, skipped properties, typing throttle and heartbeat the scenario sets; each runner
// adds what is its own (grace and answer bounds, the large-group threshold).

import type { Scenario } from '../scenarios/scenario.ts';
import { type StandardCheckerOptions, standardCheckers } from './checkers/index.ts';
import type { Checker } from './history.ts';
import { sendLimitsOf } from './press.ts';

export function scenarioCheckers(scenario: Scenario, options: StandardCheckerOptions): Checker[] {
  const { typingThrottleMs, heartbeatMs, helloTimeoutMs } = scenario.limits;
  const { membershipChangesPerMin, emptiedGroups, adminProbes } = scenario.workload;
  return standardCheckers({
    adminRequests: membershipChangesPerMin > 0 || emptiedGroups > 0 || adminProbes > 0,
    sendLimits: sendLimitsOf(scenario),
    skip: scenario.checks.skip,
    ...(scenario.checks.presenceKnownWithinMs === undefined
      ? {}
      : { presenceKnownWithinMs: scenario.checks.presenceKnownWithinMs }),
    ...(typingThrottleMs === undefined ? {} : { typingThrottleMs }),
    ...(heartbeatMs === undefined ? {} : { heartbeatMs }),
    ...(helloTimeoutMs === undefined ? {} : { helloTimeoutMs }),
    ...(scenario.checks.slowConsumersPassBound ? { slowConsumersPassBound: true } : {}),
    ...options,
  });
}

/** What the checkers found so far, for progress lines (verdicts come at the end). */
export function checkersViolations(checkers: readonly Checker[]): number {
  let sum = 0;
  for (const checker of checkers) sum += checker.violationsSoFar?.() ?? 0;
  return sum;
}
