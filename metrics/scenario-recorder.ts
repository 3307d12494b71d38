// A RunRecorder set up for one scenario: its SLO thresholds become bucket bounds, its checkers'
// properties (and the log store's run verdicts) label the violations counter. Simulated and live runs both build theirs here.

import { checkProperties } from '../scenarios/check-properties.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { parseThreshold } from '../scenarios/thresholds.ts';
import {
  costedStepsProperty,
  storeOpenFilesProperty,
  storeSegmentSizeProperty,
} from '../simulator/verdict.ts';
import { RunRecorder } from './run-recorder.ts';

export function scenarioRecorder(scenario: Scenario, runId: string): RunRecorder {
  const thresholdsMs: number[] = [];
  for (const expression of scenario.thresholds.ackLatency) {
    const threshold = parseThreshold('ackLatency', expression);
    if (typeof threshold !== 'string') thresholdsMs.push(threshold.value);
  }
  return new RunRecorder({
    scenario: scenario.name,
    runId,
    devicesPerUser: scenario.clients.devicesPerUser,
    thresholdsMs,
    // The checkers' properties, the verdicts a log-store run adds from the harness's own disk, and a
    // cost-model run's costed steps.
    properties: [...checkProperties, storeOpenFilesProperty, storeSegmentSizeProperty, costedStepsProperty],
  });
}

/** `sim-steady-42`: a simulated run's id says what reproduces it. */
export function simRunId(scenario: string, seed: number): string {
  return `sim-${scenario}-${seed}`;
}
