// The box's CPU counters a calibration reads around each run, and the box's saturation by the fits.

import { describe, expect, it } from 'vitest';
import { boxBusyShareBetween, boxCpuTicks, boxSaturation } from './calibrate.ts';
import type { CostFit } from './fit-cost-model.ts';

const costFit = (cpuFit: Partial<CostFit['cpuFit']>): CostFit =>
  ({
    cpuFit: {
      scale: 1,
      fixedCpuShare: 0,
      measuredFixedCpuShare: 0,
      sendUs: 0,
      saturationMsgsPerSec: null,
      method: 'regression',
      ...cpuFit,
    },
  }) as CostFit;

describe('the box around a calibration run', () => {
  it("reads /proc/stat's busy and total ticks, idle and iowait not busy", () => {
    const stat = 'cpu  100 5 50 800 20 3 2 0 0 0\ncpu0 50 2 25 400 10 1 1 0 0 0\n';
    expect(boxCpuTicks(stat)).toEqual({ busy: 160, total: 980 });
    expect(boxCpuTicks('intr 1 2 3\n')).toBeNull();
    expect(boxCpuTicks('cpu  1 x 3 4 5\n')).toBeNull();
  });

  it('gives the busy share between two readings, null when one is missing or time did not move', () => {
    expect(boxBusyShareBetween({ busy: 100, total: 1000 }, { busy: 400, total: 1400 })).toBeCloseTo(0.75);
    expect(boxBusyShareBetween(null, { busy: 1, total: 2 })).toBeNull();
    expect(boxBusyShareBetween({ busy: 1, total: 2 }, { busy: 1, total: 2 })).toBeNull();
  });

  it("puts the box's saturation where its cores run out: nodes' and others' fixed CPU, then both per message", () => {
    const host = { cores: 2, othersFixedCores: 0.77, othersUsPerMessage: 27.8, others: 'driver' };
    // The quiet-box three-node calibration of 2026-12-01 02:01: (2 - 0.77 - 3 x 0.274) / (61 + 27.8) µs.
    expect(boxSaturation(costFit({ measuredFixedCpuShare: 0.274, sendUs: 61 }), 3, host)).toBe(4595);
    expect(boxSaturation(costFit({ method: 'ratio' }), 3, host)).toBeNull();
    expect(boxSaturation(costFit({ measuredFixedCpuShare: 0.274, sendUs: 61 }), 3, undefined)).toBeNull();
    expect(boxSaturation(costFit({ measuredFixedCpuShare: 0.5, sendUs: 61 }), 3, host)).toBeNull();
  });
});
