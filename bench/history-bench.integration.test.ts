// The history bench end to end on a small conversation: it starts its own server, fills and verifies
// the history, and every case answers with figures (a case with non-2xx answers would have thrown).
// Bad flags are refused with every problem named. No figure is asserted: figures live in
// docs/benchmarks.md.

import { describe, expect, it } from 'vitest';
import { historyBench, parseHistoryBenchOptions } from './history-bench.ts';

describe('history bench', () => {
  it('measures every case against a real server', async () => {
    const figures = await historyBench(
      { messages: 1000, seconds: 1, connections: 2, bodyBytes: 50 },
      () => {},
    );
    expect(figures.map((f) => f.name)).toEqual([
      'GET /healthz (HTTP floor)',
      'page of 50 at spread offsets',
      'page of 500 at spread offsets',
      'newest page (after = lastSeq - 50)',
      'whole-history walk, pages of 500',
    ]);
    for (const f of figures) {
      expect(f.requests, f.name).toBeGreaterThan(0);
      expect(f.requestsPerSec, f.name).toBeGreaterThan(0);
    }
    expect(figures[2]!.messagesPerSec).toBe(figures[2]!.requestsPerSec * 500);
  });

  it('refuses bad flags, naming each', () => {
    expect(() => parseHistoryBenchOptions(['--messages', '10', '--seconds', 'x'])).toThrow(
      /--messages must be an integer from 1000[\s\S]*--seconds must be an integer/,
    );
    expect(() => parseHistoryBenchOptions(['--nope'])).toThrow(/nope/);
    expect(parseHistoryBenchOptions([])).toEqual({
      messages: 20_000,
      seconds: 10,
      connections: 20,
      bodyBytes: 200,
    });
  });
});
