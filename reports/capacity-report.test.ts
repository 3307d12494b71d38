import { describe, expect, it } from 'vitest';
import type { CapacityReport } from '../capacity/capacity-sweep.ts';
import { findKnee, type RepeatResult, type StepResult, stepHeld } from '../capacity/knee.ts';
import { capacityCurve, capacityMarkdown } from './capacity-report.ts';

const repeat = (ackP99Ms: number): RepeatResult => ({
  exitCode: 0,
  broke: [],
  sentPerSec: 10,
  ackedPerSec: 10,
  displayedPerSec: 10,
  failedSends: 0,
  ackP99Ms,
  deliveryP99Ms: ackP99Ms,
  serverCpuShare: null,
  serverBytesPerConnection: null,
  serverConnectionsPeak: null,
  generatorCpuShareMax: 0.1,
  generatorRssBytesMax: 0,
  generatorLimited: false,
});

function report(...steps: RepeatResult[][]): CapacityReport {
  const results: StepResult[] = steps.map((repeats, i) => ({
    phase: 'rate',
    clients: 100,
    offeredMsgsPerSec: 100 * (i + 1),
    repeats,
    held: stepHeld(repeats),
  }));
  return {
    scenario: 'steady',
    seed: 1,
    target: '--nodes 1',
    repeats: steps[0]!.length,
    stepMs: 10_000,
    thresholds: { ackLatency: [], failedSends: [], fanoutLag: [], repeatedPushes: [] },
    steps: results,
    knee: findKnee(results),
  };
}

describe('capacity report: the spread the repeats bound', () => {
  it('shows each step from its best repeat to its worst, with their ratio', () => {
    const r = report([repeat(266), repeat(3408), repeat(1000)], [repeat(50), repeat(50), repeat(50)]);
    const [first, second] = capacityCurve(r);
    expect([first!.ackP99MsBest, first!.ackP99Ms]).toEqual([266, 3408]);
    expect([second!.ackP99MsBest, second!.ackP99Ms]).toEqual([50, 50]);
    const table = capacityMarkdown(r);
    expect(table).toContain('| 266.0–3408.0 (x12.8) |');
    expect(table).toContain('| 50.0 (x1.0) |');
  });
});
