import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import { liveLimits } from './limits.ts';
import { cpuPressureShare, cpuPressureTotalUs, loadLimitedBy, readCpuPressureUs } from './load-limited.ts';

describe('loadLimitedBy', () => {
  it('is null for a generator neither busy nor starved', () => {
    expect(loadLimitedBy(0.3, 200)).toBeNull();
    expect(
      loadLimitedBy(liveLimits.generatorCpuLoadLimited, liveLimits.generatorStallLoadLimitedMs),
    ).toBeNull();
  });

  it('names a generator that used most of its core', () => {
    expect(loadLimitedBy(0.93, 100)).toBe('a generator used 93% of its core');
  });

  it('names a generator starved of a core: low CPU, but its loop stalled for seconds', () => {
    expect(loadLimitedBy(0.18, 27_700)).toBe("a generator's event loop stalled 27.7 s");
  });

  it('names both when both', () => {
    expect(loadLimitedBy(0.9, 5000)).toBe(
      "a generator used 90% of its core; a generator's event loop stalled 5.0 s",
    );
  });
});

describe('CPU pressure', () => {
  it('names a box whose tasks waited for a CPU more than half the run, and only then', () => {
    expect(loadLimitedBy(0.3, 200, 0.5)).toBeNull();
    expect(loadLimitedBy(0.3, 200, null)).toBeNull();
    expect(loadLimitedBy(0.3, 200, 0.87)).toBe(
      "tasks waited for a CPU 87% of the run (/proc/pressure/cpu): the box's cores were oversubscribed",
    );
  });

  it('reads the "some" total of /proc/pressure/cpu, and the share of a wall time it covers', () => {
    const text =
      'some avg10=97.50 avg60=87.84 avg300=75.10 total=9946194423\nfull avg10=0.00 avg60=0.00 avg300=0.00 total=0\n';
    expect(cpuPressureTotalUs(text)).toBe(9_946_194_423);
    expect(cpuPressureTotalUs('')).toBeNull();
    expect(cpuPressureShare(1_000_000, 31_000_000, 60_000)).toBe(0.5);
    expect(cpuPressureShare(null, 31_000_000, 60_000)).toBeNull();
    expect(cpuPressureShare(0, 90_000_000, 60_000)).toBe(1);
  });

  it('reads this box (Linux with PSI) as a counter that does not go back', () => {
    const first = readCpuPressureUs();
    if (first === null) return expect(existsSync('/proc/pressure/cpu')).toBe(false);
    expect(readCpuPressureUs()!).toBeGreaterThanOrEqual(first);
  });
});
