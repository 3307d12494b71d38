// Judges protocol.md guarantee 4's second half, exactly-once display: no device displays a
// (conv, seq) twice, whatever order it displays in. Keeps the set of seqs each (device, conv)
// displayed in DisplayedSeqs (one number per pair when displays come in order), so it is exact.

import type {
  Checker,
  CheckResult,
  FinalState,
  HistoryEvent,
  HistoryEventOf,
  HistoryKind,
} from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { DisplayedSeqs } from './displayed-seqs.ts';
import { WitnessList } from './witness-list.ts';

export const noDuplicatesProperty = 'no-duplicates';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['send', 'display'] as const satisfies readonly HistoryKind[];

export function createNoDuplicatesChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits, pairs } = resolveCheckerOptions(options);
  const displayed = new DisplayedSeqs(limits.holeIntervalsPerPairMax);
  /** When each pair displayed its newest seq: the earlier display of a repeat, in the usual case. */
  const newestAt = float64Column(Number.NaN);
  const witness = new WitnessList(limits.witnessCasesMax);
  let displays = 0;
  let sends = 0;

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    if (event.k === 'send') sends++;
    if (event.k !== 'display') return;
    displays++;
    const { conv, seq } = event.message;
    const pair = pairs.intern(ids.device(event.user, event.device), ids.conv(conv));
    const newest = displayed.newestOf(pair);
    if (displayed.add(pair, seq) === 'new') {
      if (seq > newest) newestAt.set(pair, event.at);
      return;
    }
    displayedTwice(event, pair, newest);
  };

  // Apart from observe: a closure there would make every call allocate a context for what it captures.
  const displayedTwice = (event: HistoryEvent & { k: 'display' }, pair: number, newest: number): void => {
    const { conv, seq } = event.message;
    witness.add('displayed twice', () => {
      const earlier = { k: 'display', user: event.user, device: event.device, conv, seq };
      return {
        problem: `${event.user}/${event.device} displayed ${conv}#${seq} a second time`,
        path: [seq === newest ? { ...earlier, at: newestAt.get(pair) } : earlier, event],
      };
    });
  };

  return {
    property: noDuplicatesProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      return coveredResult(
        witness,
        noDuplicatesProperty,
        `${displays} displays on ${pairs.size} (device, conv) pairs`,
        { judged: displays, judgedWhat: 'displays', done: sends, doneWhat: 'sends' },
      );
    },
  };
}
