// What every checker factory accepts: a shared IdTable (so a run's strings are interned once for all
// checkers) and overrides of the checkers' bounds.

import { IdTable } from './id-table.ts';
import { type CheckerLimits, defaultCheckerLimits } from './limits.ts';
import { SlotTable } from './slot-table.ts';

export type CheckerOptions = {
  ids?: IdTable;
  /**
   * (device, conv) pairs, shared by the checkers that key state by them (order, duplicates, loss),
   * so a display costs one hash probe, not three. Each keeps its own columns indexed by the slot.
   */
  pairs?: SlotTable;
  limits?: Partial<CheckerLimits>;
};

export function resolveCheckerOptions(options: CheckerOptions = {}): {
  ids: IdTable;
  pairs: SlotTable;
  limits: CheckerLimits;
} {
  return {
    ids: options.ids ?? new IdTable(),
    pairs: options.pairs ?? new SlotTable(),
    limits: { ...defaultCheckerLimits, ...options.limits },
  };
}
