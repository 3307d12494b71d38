// Judges protocol.md guarantees 3 and 4 as a device sees them: each device displays a conversation's
// messages in strictly increasing seq order, with no gap inside what its user may read (display i+1
// follows display i, except across the user's membership gaps). Keeps, per (device, conv), the newest
// seq displayed; a display that jumps over seqs is recorded (a few numbers) and judged at the end
// against the MembershipOracle (the harness's own view of who could read what): a jump over a seq the
// user surely could read is a gap.

import type {
  Checker,
  CheckResult,
  FinalState,
  HistoryEvent,
  HistoryEventOf,
  HistoryKind,
} from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { membershipKinds } from './membership-oracle.ts';
import { WitnessList } from './witness-list.ts';

export const perConversationOrderProperty = 'per-conversation-order';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [...membershipKinds, 'send', 'display'] as const satisfies readonly HistoryKind[];

export function createPerConversationOrderChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits, pairs, membership } = resolveCheckerOptions(options);
  const newestSeq = int32Column(0);
  const newestAt = float64Column(0);
  const witness = new WitnessList(limits.witnessCasesMax);
  /** Jumps: the pair displayed seq `hi + 1` at `at` right after `lo - 1` (displayed at `previousAt`). */
  const jump = {
    pair: int32Column(),
    lo: int32Column(),
    hi: int32Column(),
    at: float64Column(),
    previousAt: float64Column(),
  };
  let jumps = 0;
  let displays = 0;
  let sends = 0;

  const displayOf = (pair: number, seq: number, at: number) => {
    const { user, device } = ids.deviceName(pairs.keyA(pair));
    return { k: 'display', at, user, device, conv: ids.convName(pairs.keyB(pair)), seq };
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    membership.observe(event);
    if (event.k === 'send') sends++;
    if (event.k !== 'display') return;
    displays++;
    const seq = event.message.seq;
    const pair = pairs.intern(ids.device(event.user, event.device), ids.conv(event.message.conv));
    const newest = newestSeq.get(pair);
    if (seq <= newest) {
      displayedBehind(event, pair, newest);
      return;
    }
    if (seq > newest + 1) {
      jump.pair.set(jumps, pair);
      jump.lo.set(jumps, newest + 1);
      jump.hi.set(jumps, seq - 1);
      jump.at.set(jumps, event.at);
      jump.previousAt.set(jumps, newestAt.get(pair));
      jumps++;
    }
    newestSeq.set(pair, seq);
    newestAt.set(pair, event.at);
  };

  // Apart from observe: a closure there would make every call allocate a context for what it captures.
  const displayedBehind = (event: HistoryEvent & { k: 'display' }, pair: number, newest: number): void => {
    const seq = event.message.seq;
    witness.add(seq === newest ? 'repeated' : 'out of order', () => ({
      problem: `${event.user}/${event.device} displayed ${event.message.conv}#${seq} after #${newest}`,
      path: [displayOf(pair, newest, newestAt.get(pair)), event],
    }));
  };

  const judgeJumps = (): void => {
    const order = Int32Array.from({ length: jumps }, (_, i) => i);
    order.sort((a, b) => pairs.keyB(jump.pair.get(a)) - pairs.keyB(jump.pair.get(b)) || a - b);
    for (const i of order) {
      const pair = jump.pair.get(i);
      const conv = ids.convName(pairs.keyB(pair));
      const { user, device } = ids.deviceName(pairs.keyA(pair));
      const lo = jump.lo.get(i);
      const hi = jump.hi.get(i);
      if (!membership.surelyReadableIn(conv, user, lo, hi)) continue;
      witness.add('gap', () => {
        const offending = displayOf(pair, hi + 1, jump.at.get(i));
        return {
          problem: `${user}/${device} displayed ${conv}#${hi + 1} right after #${lo - 1}, skipping seqs ${lo}..${hi} its user could read`,
          path: lo === 1 ? [offending] : [displayOf(pair, lo - 1, jump.previousAt.get(i)), offending],
        };
      });
    }
  };

  return {
    property: perConversationOrderProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      judgeJumps();
      return coveredResult(
        witness,
        perConversationOrderProperty,
        `${displays} displays on ${pairs.size} (device, conv) pairs, ${jumps} over membership gaps or skips`,
        { judged: displays, judgedWhat: 'displays', done: sends, doneWhat: 'sends' },
      );
    },
  };
}
