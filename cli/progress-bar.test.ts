import { describe, expect, it } from 'vitest';
import type { CliIo } from './cli-error.ts';
import { progressBar } from './progress-bar.ts';

function harness(tty: boolean) {
  const lines: string[] = [];
  const written: string[] = [];
  let wall = 0;
  const io: CliIo = { out: () => {}, err: (line) => lines.push(line), env: {} };
  const bar = progressBar(io, 'steady seed 1', {
    stream: { isTTY: tty, write: (text: string) => written.push(text) },
    lineEveryMs: 5000,
    clock: 'virtual',
    now: () => wall,
  });
  return { bar, lines, written, advance: (ms: number) => (wall += ms) };
}

const stats = (clockMs: number, delivered: number, violations = 0) => ({
  clockMs,
  connected: 1200,
  delivered,
  violations,
});

describe('progressBar', () => {
  it('off a terminal: a line at each phase change and every few wall seconds, with the run numbers', () => {
    const { bar, lines, advance } = harness(false);
    bar.update(0.1, 'warmup', stats(1000, 0));
    advance(1000);
    bar.update(0.2, 'warmup', stats(2000, 500));
    advance(1000);
    bar.update(0.3, 'faults', stats(3000, 2500, 2));
    advance(6000);
    bar.update(0.5, 'faults', stats(4000, 3500, 2));
    expect(lines).toEqual([
      'steady seed 1: 10% · warmup · virtual 1.0 s · 1,200 connected · 0 msg/s · 0 violations · wall 0 s',
      'steady seed 1: 30% · faults · virtual 3.0 s · 1,200 connected · 2,000 msg/s · 2 violations · wall 2 s',
      'steady seed 1: 50% · faults · virtual 4.0 s · 1,200 connected · 1,000 msg/s · 2 violations · wall 8 s',
    ]);
  });

  it('on a terminal: one line redrawn in place, cleared to its end, and a newline when done', () => {
    const { bar, lines, written } = harness(true);
    bar.update(0.5, 'heal', stats(1000, 10, 1));
    bar.update(1, 'settle', stats(2000, 20, 1));
    bar.done();
    expect(lines).toEqual([]);
    expect(written[0]).toMatch(
      /^\rsteady seed 1 \[#{12}\.{12}\] 50% · heal · virtual 1\.0 s .* 1 violation · wall 0 s\x1b\[K$/,
    );
    expect(written[1]).toContain('[########################] 100% · settle');
    expect(written[2]).toBe('\n');
  });
});
