// Runs checkers over a whole history held in memory: for tests and for replaying a recorded run.
// The simulator itself feeds its checkers one event at a time and never holds the history.

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';

export function checkHistory(
  checkers: readonly Checker[],
  events: Iterable<HistoryEvent>,
  final: FinalState,
): CheckResult[] {
  for (const event of events) for (const checker of checkers) checker.observe(event);
  return checkers.map((checker) => checker.finish(final));
}
