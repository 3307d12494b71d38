import { describe, expect, it } from 'vitest';
import type { ProcessFigures } from '../simulator/live/process-sampler.ts';
import { fitHostShare, othersCpuUs, othersNames } from './host-share.ts';

const figures = (name: string, kind: ProcessFigures['kind'], cpuMs: number): ProcessFigures => ({
  name,
  kind,
  rssBytesFirst: 0,
  rssBytesMax: 0,
  filesFirst: 0,
  filesMax: 0,
  cpuMs,
  cpuShareMax: 0,
  curve: [],
});

describe('fitHostShare', () => {
  it('recovers a fixed share and a cost per message from runs at different rates', () => {
    // 0.3 cores fixed + 150 µs per message, runs of 20 s at 500, 1,000 and 2,000 msgs/s.
    const runs = [500, 1000, 2000].map((rate) => ({
      wallMs: 20_000,
      sends: rate * 20,
      cpuUs: 0.3 * 20_000_000 + 150 * rate * 20,
    }));
    const share = fitHostShare(runs, 2, 'driver');
    expect(share.cores).toBe(2);
    expect(share.othersFixedCores).toBeCloseTo(0.3, 3);
    expect(share.othersUsPerMessage).toBeCloseTo(150, 3);
  });

  it('puts everything on the messages when the fit wants a negative fixed share, or with one run', () => {
    const runs = [
      { wallMs: 10_000, sends: 1000, cpuUs: 100_000 },
      { wallMs: 10_000, sends: 3000, cpuUs: 1_000_000 },
    ];
    expect(fitHostShare(runs, 2, 'x')).toMatchObject({ othersFixedCores: 0, othersUsPerMessage: 275 });
    expect(fitHostShare(runs.slice(0, 1), 2, 'x')).toMatchObject({ othersUsPerMessage: 100 });
  });

  it('puts everything on the wall time when the CPU falls as the rate rises', () => {
    const runs = [
      { wallMs: 10_000, sends: 1000, cpuUs: 3_000_000 },
      { wallMs: 10_000, sends: 3000, cpuUs: 1_000_000 },
    ];
    expect(fitHostShare(runs, 2, 'x')).toMatchObject({ othersFixedCores: 0.2, othersUsPerMessage: 0 });
  });
});

describe('othersCpuUs', () => {
  it('adds generators, services and the driver, never the nodes', () => {
    const processes = [
      figures('n1', 'node', 5000),
      figures('g0', 'generator', 1000),
      figures('redis', 'service', 200),
      figures('driver', 'driver', 99_999),
    ];
    // The driver's own figure spans every run of the process: its CPU for this run is given apart.
    expect(othersCpuUs(processes, 300_000)).toBe(1_500_000);
    expect(othersNames(processes)).toBe('driver (checkers), 1 generator, redis');
  });

  it('cannot tell without sampled processes', () => {
    expect(othersCpuUs([], 300_000)).toBeNull();
  });
});
