import { describe, expect, it } from 'vitest';
import { scenarioRecorder } from '../metrics/scenario-recorder.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { thresholdTimings } from './threshold-timing.ts';

describe('thresholdTimings', () => {
  it('says which threshold broke and the first sample at which the run so far failed it', async () => {
    const steady = loadScenario('steady');
    const scenario: Scenario = {
      ...steady,
      thresholds: { ...steady.thresholds, ackLatency: ['p(99)<2', 'p(50)<60000'], failedSends: ['count<1'] },
    };
    const recorder = scenarioRecorder(scenario, 't');
    const summary = await runScenario(scenario, { seed: 2, clients: 200, recorder });
    recorder.finish(summary.verdicts, summary.virtualMs, summary.events);
    expect(summary.exitCode).toBe(2);
    const timings = thresholdTimings(summary, recorder);
    expect(timings.map((t) => [t.expression, t.pass])).toEqual([
      ['ackLatency: p(99)<2', false],
      ['ackLatency: p(50)<60000', true],
      // The schema's default bound for every scenario.
      ['repeatedPushes: rate<0.01', true],
      ['failedSends: count<1', true],
    ]);
    const broke = timings[0]!.brokeAtS!;
    // Latency is judged after the warm-up, so it cannot break before the first sample past it.
    expect(broke).toBeGreaterThan(scenario.phases.warmupMs / 1000);
    expect(broke).toBeLessThanOrEqual(summary.virtualMs / 1000);
    expect(timings[1]!.brokeAtS).toBeNull();
    // Read by people: rounded, with the unit.
    expect(timings[0]!.actualText).toMatch(/^[\d,]+(\.\d)? ms$/);
    expect(timings[3]!.actualText).toBe('0');
  });
});
