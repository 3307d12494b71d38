// What every checker factory accepts: a shared IdTable (so a run's strings are interned once for all
// checkers) and overrides of the checkers' bounds.

import { IdTable } from './id-table.ts';
import { type CheckerLimits, defaultCheckerLimits } from './limits.ts';

export type CheckerOptions = {
  ids?: IdTable;
  limits?: Partial<CheckerLimits>;
};

export function resolveCheckerOptions(options: CheckerOptions = {}): { ids: IdTable; limits: CheckerLimits } {
  return { ids: options.ids ?? new IdTable(), limits: { ...defaultCheckerLimits, ...options.limits } };
}
