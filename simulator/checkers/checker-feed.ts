// Gives each history event to the checkers that read its kind (each checker's `kinds`), in the
// checkers' order, so a checker sees exactly the events it would see fed everything, minus those it
// would return from at once. Most of a big run's history is a few kinds (a receipt is a conv-frame
// and a cursor-seen; a push a conv-frame and a display) that most checkers ignore: large-group's
// 5.4 M history events called all 17 checkers each. A kind nobody listed (none should exist) goes to
// every checker: never fewer than declared.

import { type Checker, type HistoryEvent, type HistoryKind, historyKinds } from '../history.ts';

export class CheckerFeed {
  private readonly byKind = new Map<string, readonly Checker[]>();

  constructor(private readonly checkers: readonly Checker[]) {
    for (const checker of checkers)
      if (checker.kinds !== 'all')
        for (const kind of checker.kinds)
          if (!historyKinds.includes(kind))
            throw new Error(`checker ${checker.property} declares an unknown history kind '${kind}'`);
    for (const kind of historyKinds)
      this.byKind.set(
        kind,
        checkers.filter((checker) => reads(checker, kind)),
      );
  }

  observe(event: HistoryEvent): void {
    const readers = this.byKind.get(event.k) ?? this.checkers;
    // Indexed: a for-of here allocated an iterator result for every history event.
    for (let i = 0; i < readers.length; i++) readers[i]!.observe(event);
  }
}

/** Whether `checker` reads events of `kind`. */
export function reads(checker: Checker, kind: HistoryKind): boolean {
  return checker.kinds === 'all' || checker.kinds.includes(kind);
}
