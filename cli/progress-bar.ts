// Progress of a long run on stderr, so a million-client run never looks hung: the phase, the run's
// clock (virtual in simulation), devices connected, messages delivered per second of that clock, and
// violations found so far. A terminal gets one line redrawn in place; elsewhere (CI logs) a line every
// few seconds of wall time and at each phase change.

import type { CliIo } from './cli-error.ts';

/** What a run reports with its progress (all optional: a caller may know only the fraction). */
export type ProgressStats = {
  /** The run's clock (ms since it began; virtual in simulation). */
  clockMs: number;
  connected: number;
  /** Messages displayed on recipient devices so far (a rate is computed between updates). */
  delivered: number;
  violations: number;
};

export type ProgressOptions = {
  stream?: { isTTY?: boolean; write(text: string): unknown };
  /** Wall ms between lines when not on a terminal. */
  lineEveryMs?: number;
  /** 'virtual' in simulation, 'wall' in live runs: how the clock is labelled. */
  clock?: 'virtual' | 'wall';
  now?: () => number;
};

export function progressBar(io: CliIo, label: string, options: ProgressOptions = {}) {
  const stream = options.stream ?? process.stderr;
  const tty = stream.isTTY === true;
  const now = options.now ?? Date.now;
  const lineEveryMs = options.lineEveryMs ?? 5000;
  const start = now();
  let lastLineAt = Number.NEGATIVE_INFINITY;
  let lastPhase = '';
  let previous: ProgressStats | null = null;
  let rate = 0;
  const describe = (fraction: number, phase: string, stats?: ProgressStats): string => {
    const parts = [`${(fraction * 100).toFixed(0)}%`, phase];
    if (stats) {
      if (previous !== null && stats.clockMs > previous.clockMs)
        rate = ((stats.delivered - previous.delivered) * 1000) / (stats.clockMs - previous.clockMs);
      parts.push(
        `${options.clock === 'wall' ? '' : 'virtual '}${(stats.clockMs / 1000).toFixed(1)} s`,
        `${stats.connected.toLocaleString('en-US')} connected`,
        `${Math.round(rate).toLocaleString('en-US')} msg/s`,
        `${stats.violations} violation${stats.violations === 1 ? '' : 's'}`,
      );
      previous = stats;
    }
    parts.push(`wall ${((now() - start) / 1000).toFixed(0)} s`);
    return parts.join(' · ');
  };
  return {
    update(done: number, phase: string, stats?: ProgressStats): void {
      const fraction = Math.max(0, Math.min(1, done));
      const text = describe(fraction, phase, stats);
      if (tty) {
        const width = 24;
        const filled = Math.round(fraction * width);
        // \x1b[K clears what a longer previous line left behind.
        stream.write(`\r${label} [${'#'.repeat(filled)}${'.'.repeat(width - filled)}] ${text}\x1b[K`);
        return;
      }
      const at = now();
      if (phase !== lastPhase || at - lastLineAt >= lineEveryMs) {
        lastPhase = phase;
        lastLineAt = at;
        io.err(`${label}: ${text}`);
      }
    },
    done(): void {
      if (tty) stream.write('\n');
    },
  };
}
