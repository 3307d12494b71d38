// A checker that judged nothing proved nothing, and must not read as a pass. If the harness did what
// should have given it something to judge (sent messages, watched users, moved cursors) and nothing
// came back, the server failed to answer at all: "nothing judged" is a failure. If the run never did
// such a thing, the property was not exercised: the verdict is unknown (the run cannot be green on it).

import type { CheckResult } from '../history.ts';
import type { WitnessList } from './witness-list.ts';

export type Coverage = {
  /** What the checker judged, e.g. 12 displays. */
  judged: number;
  judgedWhat: string;
  /** What the harness did that should have produced something to judge, e.g. 40 sends. */
  done: number;
  doneWhat: string;
};

/**
 * The result: the witness's verdict when it found anything; otherwise "nothing judged" (fail) or "not
 * exercised" (unknown) when `judged` is 0; otherwise `whenClean`.
 */
export function coveredResult(
  witness: WitnessList,
  property: string,
  details: string,
  coverage: Coverage,
  whenClean: CheckResult['verdict'] = 'pass',
): CheckResult {
  if (witness.count > 0 || coverage.judged > 0) return witness.result(property, details, whenClean);
  if (coverage.done > 0)
    return {
      property,
      verdict: 'fail',
      details: `nothing judged: ${coverage.done} ${coverage.doneWhat} but no ${coverage.judgedWhat}; ${details}`,
      witness: [{ problem: `the server answered none of the run's ${coverage.doneWhat}`, path: [] }],
    };
  return {
    property,
    verdict: 'unknown',
    details: `could not judge: not exercised (the run had no ${coverage.doneWhat}); ${details}`,
    witness: [],
  };
}
