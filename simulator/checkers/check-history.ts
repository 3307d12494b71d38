// Runs checkers over a whole history held in memory: for tests and for replaying a recorded run.
// The simulator itself feeds its checkers one event at a time and never holds the history. Fed as the
// simulator feeds them (checker-feed.ts: each checker only the kinds it declares), so a checker's tests
// also test its declaration.

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';
import { CheckerFeed } from './checker-feed.ts';

export function checkHistory(
  checkers: readonly Checker[],
  events: Iterable<HistoryEvent>,
  final: FinalState,
): CheckResult[] {
  const feed = new CheckerFeed(checkers);
  for (const event of events) feed.observe(event);
  return checkers.map((checker) => checker.finish(final));
}
