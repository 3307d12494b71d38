import { describe, expect, it } from 'vitest';
import { parseBenchOptions } from './bench-options.ts';
import type { PhaseFigures } from './load-phase.ts';
import { type BenchReport, formatReport, ratiosOf } from './report-table.ts';

function figures(completedPerSec: number, deliveriesPerSec: number): PhaseFigures {
  return {
    connections: 100,
    loadProcesses: 1,
    measuredMs: 1000,
    serverCpuPercent: 97.5,
    loadCpuPercent: 88,
    sent: completedPerSec,
    completed: completedPerSec,
    completedPerSec,
    deliveries: deliveriesPerSec,
    deliveriesPerSec,
    latencyMsP50: 1.5,
    latencyMsP99: 12.25,
    latencyMsMax: 40,
    errors: {},
    closes: {},
    unansweredAtEnd: 0,
  };
}

describe('ratiosOf', () => {
  it('compares acked sends with echo round-trips and group with broadcast deliveries', () => {
    const ratios = ratiosOf({
      'raw-echo': figures(100_000, 0),
      'raw-broadcast': figures(5000, 250_000),
      'chat-direct': figures(31_000, 31_000),
      'chat-group': figures(2000, 98_000),
    });
    expect(ratios.map((r) => [r.ratio, r.target, r.met])).toEqual([
      [0.31, 0.3, true],
      [0.392, 0.5, false],
    ]);
  });

  it('leaves out a ratio one of whose phases did not run', () => {
    expect(ratiosOf({ 'raw-echo': figures(1, 0), 'chat-group': figures(1, 1) })).toEqual([]);
  });

  it('gives 0, not a division by zero, when the raw phase did nothing', () => {
    const [ratio] = ratiosOf({ 'raw-echo': figures(0, 0), 'chat-direct': figures(5, 5) });
    expect(ratio?.ratio).toBe(0);
    expect(ratio?.met).toBe(false);
  });
});

describe('formatReport', () => {
  it('prints every phase, the process counts and the verdicts', () => {
    const phases = { 'raw-echo': figures(100_000, 0), 'chat-direct': figures(20_000, 19_500) };
    const report: BenchReport = {
      date: '2026-01-01T00:00:00.000Z',
      machine: { cores: 2, memGiB: 24, cpu: 'test cpu', node: 'v20.20.2' },
      options: parseBenchOptions(['--seconds', '5']),
      serverProcesses: 1,
      phases: {
        ...phases,
        'chat-group': {
          ...figures(10, 490),
          errors: { unavailable: 3 },
          unansweredAtEnd: 2,
          fsync: { fsyncs: 1200, fsyncMsMean: 1.25, recordsPerFsync: 8.5, ackMsMean: 4 },
        },
      },
      ratios: ratiosOf(phases),
    };
    const text = formatReport(report);
    expect(text).toContain('machine: 2 cores, 24 GiB, test cpu, Node v20.20.2');
    expect(text).toContain('processes per phase: server 1, load generator 1');
    expect(text).toMatch(/raw ws echo\s+100\s+100,000\s+round-trips\s+-\s+1\.50\s+12\.3\s+40\.0\s+98%\s+88%/);
    expect(text).toMatch(/chatsim 1:1\s+100\s+20,000\s+acked msgs\s+19,500/);
    expect(text).toContain('unavailable:3');
    expect(text).toContain('20,000 / 100,000 = 20.0% (target >= 30%: NOT met)');
    expect(text).toContain('warning: chat-group: 2 sends unanswered');
    expect(text).toContain(
      'chatsim group (50 members): server ran 1,200 fsyncs (whole phase), mean 1.25 ms, 8.5 records each; its own mean send-to-ack 4.00 ms',
    );
  });
});
