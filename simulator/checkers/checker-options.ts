// What every checker factory accepts: a shared IdTable (so a run's strings are interned once for all
// checkers) and overrides of the checkers' bounds.

import { IdTable } from './id-table.ts';
import { type CheckerLimits, defaultCheckerLimits } from './limits.ts';
import { MembershipOracle } from './membership-oracle.ts';
import { SlotTable } from './slot-table.ts';

export type CheckerOptions = {
  ids?: IdTable;
  /**
   * (device, conv) pairs, shared by the checkers that key state by them (order, duplicates, loss),
   * so a display costs one hash probe, not three. Each keeps its own columns indexed by the slot.
   */
  pairs?: SlotTable;
  limits?: Partial<CheckerLimits>;
  /** Who may read what, from the harness's own requests and observations; shared like `pairs`. */
  membership?: MembershipOracle;
};

export function resolveCheckerOptions(options: CheckerOptions = {}): {
  ids: IdTable;
  pairs: SlotTable;
  limits: CheckerLimits;
  membership: MembershipOracle;
} {
  const ids = options.ids ?? new IdTable();
  return {
    ids,
    membership: options.membership ?? new MembershipOracle(ids),
    pairs: options.pairs ?? new SlotTable(),
    limits: { ...defaultCheckerLimits, ...options.limits },
  };
}
