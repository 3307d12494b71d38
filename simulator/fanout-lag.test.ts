import { describe, expect, it } from 'vitest';
import { scenarioRecorder } from '../metrics/scenario-recorder.ts';
import { thresholdTimings } from '../reports/threshold-timing.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { FanoutLagMeter } from './fanout-lag.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

function display(at: number, device: string, seq: number, via: 'push' | 'own' = 'push'): HistoryEvent {
  return {
    k: 'display',
    at,
    via,
    user: device.split('-')[0]!,
    device,
    message: { conv: 'g1', seq, from: 'u0', cmid: `m${seq}`, body: 'x', ts: at },
  } as HistoryEvent;
}

describe('FanoutLagMeter', () => {
  it("measures each message from its first recipient's display to its last, leaving out the sender's own", () => {
    const meter = new FanoutLagMeter(1000);
    for (const event of [
      display(1500, 'u0-d0', 1, 'own'),
      display(1510, 'u1-d0', 1),
      display(1530, 'u2-d0', 1),
      display(1610, 'u3-d0', 1), // message 1: 100 ms from first to last
      display(2000, 'u1-d0', 2), // message 2: one recipient display only, not judged
      display(900, 'u1-d0', 3), // message 3: first shown in the warm-up, not judged
      display(1900, 'u2-d0', 3),
    ])
      meter.observe(event);
    const histogram = meter.histogram();
    expect(histogram.total).toBe(1);
    expect(histogram.percentileMs(50)).toBeCloseTo(100, -1);
  });
});

describe('fanoutLag thresholds', () => {
  it('decide exit code 2 when broken, and the report says when', async () => {
    const steady = loadScenario('large-group');
    const scenario: Scenario = {
      ...steady,
      faults: [],
      thresholds: {
        ackLatency: [],
        failedSends: [],
        fanoutLag: ['p(99)<0.001', 'p(50)<60000'],
        repeatedPushes: [],
      },
    };
    const recorder = scenarioRecorder(scenario, 't');
    const summary = await runScenario(scenario, { seed: 3, clients: 200, recorder });
    recorder.finish(summary.verdicts, summary.virtualMs, summary.events);
    expect(summary.slo.map((s) => [s.name, s.pass])).toEqual([
      ['fanoutLag p(99)<0.001', false],
      ['fanoutLag p(50)<60000', true],
    ]);
    expect(summary.slo[0]!.actual).toBeGreaterThan(0);
    expect(summary.exitCode).toBe(2);
    const [broken] = thresholdTimings(summary, recorder);
    expect(broken!.brokeAtS).toBeGreaterThan(scenario.phases.warmupMs / 1000);
  }, 900_000);
});
