import { describe, expect, it } from 'vitest';
import { cpuMsFromStat, cpuMsOf } from './process-cpu.ts';

describe('cpuMsFromStat', () => {
  it('reads utime + stime even when the command name has spaces and parentheses', () => {
    const stat = '4242 (node (bench) x) S 1 4242 4242 0 -1 4194304 100 0 0 0 250 30 0 0 20 0 11 0 1';
    expect(cpuMsFromStat(stat)).toBe(2800);
  });

  it('gives null for a truncated line', () => {
    expect(cpuMsFromStat('1 (x) S 1')).toBeNull();
  });
});

describe('cpuMsOf', () => {
  it('reads this process where /proc exists, and null for no pid', () => {
    expect(cpuMsOf(undefined)).toBeNull();
    const own = cpuMsOf(process.pid);
    if (process.platform === 'linux') expect(own).toBeGreaterThanOrEqual(0);
    else expect(own).toBeNull();
  });
});
