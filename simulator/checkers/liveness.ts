// Judges liveness: the run's settle phase converged within the scenario's window (FinalState.settledAt
// is set). Without it the other checkers' "after settle" verdicts cannot be trusted; the CLI maps a
// liveness failure to exit code 3. Keeps only the phase times.

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';

export const livenessProperty = 'liveness';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['phase'] as const satisfies readonly HistoryKind[];

export function createLivenessChecker(): Checker {
  const phases: { phase: string; at: number }[] = [];
  return {
    property: livenessProperty,
    kinds,
    observe(event: HistoryEventOf<(typeof kinds)[number]>): void {
      if (event.k === 'phase') phases.push({ phase: event.phase, at: event.at });
    },
    finish(final: FinalState): CheckResult {
      const settle = phases.find((p) => p.phase === 'settle');
      const timeline = phases.map((p) => `${p.phase}@${p.at}`).join(' ') || 'no phase events';
      if (final.settledAt !== null) {
        const took = settle === undefined ? '' : ` (${final.settledAt - settle.at} ms after settle began)`;
        return {
          property: livenessProperty,
          verdict: 'pass',
          details: `settled at ${final.settledAt}${took}; ${timeline}`,
          witness: [],
        };
      }
      return {
        property: livenessProperty,
        verdict: 'fail',
        details: `the run did not settle by ${final.at}${settle === undefined ? ', and never entered its settle phase' : ''}; ${timeline}`,
        witness: [
          {
            problem: 'no convergence within the liveness window',
            path: phases.map((p) => ({ k: 'phase', ...p })),
          },
        ],
      };
    },
  };
}
