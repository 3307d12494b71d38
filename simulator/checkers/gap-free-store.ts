// Judges protocol.md guarantee 3's "seqs are gap-free": each conversation's seqs in the store are
// 1..lastSeq with none missing, both as the store reported them durable during the run and in its
// final read. Keeps the durable seqs per conversation as a DisplayedSeqs set (one number while they
// come in order) and each jump over missing seqs (conv, range, time), judged at the end. And the store
// agrees with its own log: the state it recovered for the final read (its checkpoint, then the records
// after it) equals a replay of every segment with the checkpoint set aside (simulator/world/
// store-replay.ts), so a start-up that restores other spans, cursors or seqs than the log holds, or a
// log whose records no longer replay, is caught, though every read goes through the recovered state.

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { DisplayedSeqs } from './displayed-seqs.ts';
import { WitnessList } from './witness-list.ts';

export const gapFreeStoreProperty = 'gap-free-store';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['send', 'durable'] as const satisfies readonly HistoryKind[];

export function createGapFreeStoreChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  /** Durable seqs, keyed by conv id. */
  const durable = new DisplayedSeqs(limits.holeIntervalsPerPairMax);
  const jump = { conv: int32Column(), lo: int32Column(), hi: int32Column(), at: float64Column() };
  let jumps = 0;
  let durables = 0;
  let sends = 0;
  let readBack = 0;
  const witness = new WitnessList(limits.witnessCasesMax);

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    if (event.k === 'send') sends++;
    if (event.k !== 'durable') return;
    durables++;
    const conv = ids.conv(event.message.conv);
    const newest = durable.newestOf(conv);
    const seq = event.message.seq;
    if (durable.add(conv, seq) === 'new' && seq > newest + 1) {
      jump.conv.set(jumps, conv);
      jump.lo.set(jumps, newest + 1);
      jump.hi.set(jumps, seq - 1);
      jump.at.set(jumps, event.at);
      jumps++;
    }
  };

  const judgeDurableJumps = (): void => {
    for (let i = 0; i < jumps; i++) {
      const convId = jump.conv.get(i);
      const missing = missingRanges((visit) =>
        durable.forEachMissing(convId, jump.lo.get(i), jump.hi.get(i), visit),
      );
      const conv = ids.convName(convId);
      const after = { k: 'durable', at: jump.at.get(i), conv, seq: jump.hi.get(i) + 1 };
      for (const [lo, hi] of missing) {
        witness.add('seqs never made durable', () => ({
          problem: `${conv}: seqs ${lo}..${hi} were never reported durable, though #${after.seq} was`,
          path: [after],
        }));
      }
    }
  };

  let replay = 'not compared (no log)';
  const judgeReplay = (final: FinalState): void => {
    const check = final.storeReplay;
    if (check === undefined) return;
    replay = check.outcome === 'agreed' ? `agreed (${check.details})` : check.outcome;
    if (check.outcome === 'refused')
      return witness.add('the store refused to recover', () => ({
        problem: `the store's final read found no store: ${check.details} (no fault damaged its synced bytes)`,
        path: [{ k: 'stored', refused: check.details }],
      }));
    if (check.outcome !== 'diverged') return;
    witness.add('recovered state differs from the replay of the whole log', () => ({
      problem: `the store's recovery and a replay of its whole log (checkpoint set aside) disagree: ${check.details}`,
      path: [{ k: 'stored', replay: check.details }],
    }));
  };

  const judgeStore = (final: FinalState): void => {
    for (const conv of final.conversations()) {
      const lastSeq = final.storedLastSeq(conv);
      readBack += lastSeq;
      const missing = missingRanges((visit) => {
        for (let seq = 1; seq <= lastSeq; seq++) {
          const stored = final.storedMessage(conv, seq);
          if (stored === undefined || stored.seq !== seq || stored.conv !== conv) visit(seq);
        }
      });
      for (const [lo, hi] of missing) {
        witness.add('seqs missing from the store', () => ({
          problem: `${conv}: the store's final read has lastSeq ${lastSeq} but no message at seqs ${lo}..${hi}`,
          path: [
            {
              k: 'stored',
              conv,
              lastSeq,
              missing: [lo, hi],
              next: final.storedMessage(conv, hi + 1) ?? null,
            },
          ],
        }));
      }
    }
  };

  return {
    property: gapFreeStoreProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(final: FinalState): CheckResult {
      judgeDurableJumps();
      judgeStore(final);
      judgeReplay(final);
      return coveredResult(
        witness,
        gapFreeStoreProperty,
        `${durables} durable records, ${jumps} out of order, the final read of ${readBack} seqs; recovery against a replay of the whole log: ${replay}`,
        { judged: durables + readBack, judgedWhat: 'stored seqs', done: sends, doneWhat: 'sends' },
      );
    },
  };
}

/** Groups the ascending seqs a walk visits into [lo, hi] ranges. */
function missingRanges(walk: (visit: (seq: number) => void) => void): [number, number][] {
  const ranges: [number, number][] = [];
  walk((seq) => {
    const last = ranges.at(-1);
    if (last !== undefined && last[1] === seq - 1) last[1] = seq;
    else ranges.push([seq, seq]);
  });
  return ranges;
}
