import { describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import {
  ceilingBytes,
  cgroupLimitBytes,
  clientsThatFit,
  estimatePeak,
  expectedSends,
  memoryEstimateSlopes,
  memoryLimit,
  memoryWarning,
  refusal,
} from './memory-budget.ts';

const gib = 2 ** 30;

describe('the memory a run may use', () => {
  it('reads a cgroup limit, and none from "max" or cgroup v1\'s unlimited', () => {
    expect(cgroupLimitBytes('8589934592\n')).toBe(8 * gib);
    expect(cgroupLimitBytes('max\n')).toBeNull();
    expect(cgroupLimitBytes('9223372036854771712\n')).toBeNull();
    expect(cgroupLimitBytes('')).toBeNull();
  });

  it("is the machine's RAM, the cgroup's limit when lower, --memory-limit before both", () => {
    expect(memoryLimit(24 * gib, [])).toEqual({ bytes: 24 * gib, source: "the machine's RAM" });
    const cgroup = [{ path: '/sys/fs/cgroup/memory.max', text: `${4 * gib}\n` }];
    expect(memoryLimit(24 * gib, cgroup)).toEqual({
      bytes: 4 * gib,
      source: "the cgroup's limit (/sys/fs/cgroup/memory.max)",
    });
    // A cgroup allowed more than the machine has changes nothing; neither does one without a limit.
    expect(memoryLimit(2 * gib, cgroup).bytes).toBe(2 * gib);
    expect(memoryLimit(24 * gib, [{ path: 'v1', text: '9223372036854771712' }]).bytes).toBe(24 * gib);
    expect(memoryLimit(24 * gib, cgroup, 100)).toEqual({ bytes: 100 * 2 ** 20, source: '--memory-limit' });
  });
});

describe('the estimated peak', () => {
  const million = loadScenario('million');

  it("counts the workload's messages over its load phases, at its peak rate", () => {
    // 20 a second per 1,000 clients, 60 s of load: 1.2 a client.
    expect(expectedSends(million, 1_000_000)).toBe(1_200_000);
    expect(expectedSends(million, 100_000)).toBe(120_000);
    const ramping = {
      ...million,
      workload: { ...million.workload, stages: [{ durationMs: 1000, target: 3 }] },
    };
    expect(expectedSends(ramping, 1000)).toBe(3600);
  });

  it('grows with the clients and the messages, from a fixed part', () => {
    const { fixedBytes, clientBytes, sendBytes } = memoryEstimateSlopes;
    const small = estimatePeak(1000, 1200);
    expect(small.peakBytes).toBe(fixedBytes + 1000 * clientBytes + 1200 * sendBytes);
    expect(estimatePeak(2000, 1200).peakBytes - small.peakBytes).toBe(1000 * clientBytes);
    expect(estimatePeak(1000, 2400).peakBytes - small.peakBytes).toBe(1200 * sendBytes);
  });

  it('puts the runs it was measured on back on their figures, and the swing above them', () => {
    const kib = (clients: number, sends: number) => estimatePeak(clients, sends).peakBytes / 1024;
    // million at 100k (758,440 KB), 300k (1,565,900 KB), 1M (4,311,564 KB: mem24's three runs' mean), session 25.
    expect(kib(100_000, 120_375) / 758_440).toBeCloseTo(1, 1);
    expect(kib(300_000, 361_125) / 1_565_900).toBeCloseTo(1, 1);
    expect(kib(1_000_000, 1_200_000) / 4_311_564).toBeCloseTo(1, 1);
    // The highest of those runs (4,360,880 KB) is within the swing.
    const million = estimatePeak(1_000_000, 1_200_000);
    expect(million.highBytes / 1024).toBeGreaterThan(4_360_880);
    expect(million.highBytes).toBe(Math.round(million.peakBytes * (1 + memoryEstimateSlopes.swingShare)));
  });
});

describe('refusing a run that does not fit', () => {
  const limit = { bytes: 24 * gib, source: "the machine's RAM" };

  it('stops a run at 90% of its limit, and lets a run whose estimate stays under that go', () => {
    expect(ceilingBytes(limit)).toBe(0.9 * 24 * gib);
    expect(refusal(estimatePeak(1_000_000, 1_200_000), limit)).toBeNull();
    const fit = clientsThatFit(estimatePeak(1000, 1200), limit);
    expect(estimatePeak(fit, fit * 1.2).peakBytes).toBeLessThanOrEqual(ceilingBytes(limit));
    expect(refusal(estimatePeak(fit, fit * 1.2), limit)).toBeNull();
    expect(estimatePeak(fit + 1, (fit + 1) * 1.2).peakBytes).toBeGreaterThan(ceilingBytes(limit));
    expect(refusal(estimatePeak(fit + 1, (fit + 1) * 1.2), limit)).not.toBeNull();
  });

  it('refuses one over it, with the estimate, the ceiling, the limit, its source and what to do', () => {
    const estimate = estimatePeak(20_000_000, 24_000_000);
    const line = refusal(estimate, limit)!;
    expect(line).toMatch(/^20000000 clients sending about 24000000 messages would need about \d+\.\d GiB/);
    expect(line).toContain(
      "more than the 21.6 GiB a run may reach of the 24.0 GiB it may use (the machine's RAM)",
    );
    expect(line).toContain(`Run at most --clients ${clientsThatFit(estimate, limit)}, or`);
    expect(line).toContain('--skip-memory-estimate');
  });

  it('suggests no client count under a limit below the fixed part', () => {
    const tiny = { bytes: 64 * 2 ** 20, source: '--memory-limit' };
    const line = refusal(estimatePeak(100, 120), tiny)!;
    expect(line).toContain('Run on a machine with more memory');
    expect(line).not.toContain('--clients');
  });

  it('warns of a run that fits on the measured line but not with the swing, and of no other', () => {
    const fit = clientsThatFit(estimatePeak(1000, 1200), limit);
    const edge = estimatePeak(fit, fit * 1.2);
    expect(memoryWarning(edge, limit)).toMatch(
      new RegExp(
        `^${fit} clients may not fit: their peak is estimated at \\d+\\.\\d GiB to \\d+\\.\\d GiB, and a run is stopped unjudged at 21\\.6 GiB \\(90% of 24\\.0 GiB, the machine's RAM\\)$`,
      ),
    );
    expect(memoryWarning(estimatePeak(1_000_000, 1_200_000), limit)).toBeNull();
    expect(memoryWarning(estimatePeak(fit + 1, (fit + 1) * 1.2), limit)).toBeNull(); // refused instead
  });
});
