// The checkers a run registers: one per guarantee of protocol.md, sharing one IdTable so a run's
// strings are interned once. The simulator feeds each every event, then calls finish(final).

import type { Checker } from '../history.ts';
import { createAgreementChecker } from './agreement.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { createNoDuplicatesChecker } from './no-duplicates.ts';
import { createPerConversationOrderChecker } from './per-conversation-order.ts';

export { checkHistory } from './check-history.ts';
export type { CheckerOptions } from './checker-options.ts';

export type StandardCheckerOptions = CheckerOptions & {
  /** How long after a removal frames already in flight may still reach the removed member. */
  graceMs?: number;
};

export function standardCheckers(options: StandardCheckerOptions = {}): Checker[] {
  const shared = { ...options, ...resolveCheckerOptions(options) };
  return [
    createPerConversationOrderChecker(shared),
    createAgreementChecker(shared),
    createNoDuplicatesChecker(shared),
  ];
}
