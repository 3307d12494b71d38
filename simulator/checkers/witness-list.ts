// The bounded record of what a checker found wrong: every violation is counted by kind, only the
// first few are kept with their path, so a run failing ten million times reports in constant memory.

import type { CheckResult, Verdict } from '../history.ts';
import { defaultCheckerLimits } from './limits.ts';

/** One offending case: what is wrong, and the events that show it, the offending one last. */
export type WitnessCase = { problem: string; path: unknown[] };

export class WitnessList {
  private readonly cases: WitnessCase[] = [];
  private readonly counts = new Map<string, number>();
  private total = 0;

  constructor(private readonly casesMax = defaultCheckerLimits.witnessCasesMax) {}

  /** Counts a violation of this kind; `describe` runs only if the case is kept. */
  add(kind: string, describe: () => WitnessCase): void {
    this.total++;
    this.counts.set(kind, (this.counts.get(kind) ?? 0) + 1);
    if (this.cases.length < this.casesMax) this.cases.push(describe());
  }

  get count(): number {
    return this.total;
  }

  countOf(kind: string): number {
    return this.counts.get(kind) ?? 0;
  }

  /** "3 violations: 2 gap, 1 out of order (3 kept)", or the empty string. */
  summary(): string {
    if (this.total === 0) return '';
    const kinds = [...this.counts].map(([kind, n]) => `${n} ${kind}`).join(', ');
    return `${this.total} violation${this.total === 1 ? '' : 's'}: ${kinds} (${this.cases.length} kept)`;
  }

  /**
   * The result: `whenFound` (fail, unless the checker cannot yet tell) with the witness if anything
   * was added, else `whenClean` with `details`.
   */
  result(
    property: string,
    details: string,
    whenClean: Verdict = 'pass',
    whenFound: Verdict = 'fail',
  ): CheckResult {
    if (this.total === 0) return { property, verdict: whenClean, details, witness: [] };
    return {
      property,
      verdict: whenFound,
      details: `${this.summary()}; ${details}`,
      witness: [...this.cases],
    };
  }
}
