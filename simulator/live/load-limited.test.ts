import { describe, expect, it } from 'vitest';
import { liveLimits } from './limits.ts';
import { loadLimitedBy } from './load-limited.ts';

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
