// Judges how a conversation's news reaches its members, by its size (protocol.md: `notify` is sent
// "in a large group, instead of msg"; a group is large when it has more members than the large-group
// threshold; `receipt` is "sent only in conversations at or below the large-group threshold"):
// - a `notify` in a conversation at or below the threshold is a violation (small ones get `msg`);
// - a pushed `msg` in a conversation above it is a violation (large ones get `notify`, then `sync`);
// - a `receipt` in a conversation above it is a violation;
// - a message in a small conversation that never reached a member device online throughout as a
//   pushed `msg` is a violation (push-reach.ts), and so is a cursor moved forward that such a device
//   never heard of in a `receipt` (receipt-reach.ts);
// - a `notify` in a large group that first names a seq more than the reach due time after its ack, on a
//   device online since before the send, is a violation (notify-promptness.ts).
// Sizes come from what the harness created; a conversation whose membership the harness changed is
// not judged (its size near the threshold may be in flight), and neither is a conversation the harness
// did not create (an adversary's guess).
// The threshold is the scenario's (its limits, else protocol.md's 256): a simulated run applies it to
// every node. A live target configures its own: live runs include this checker when they know it (the
// reference nodes the driver starts with the scenario's limits, or `--large-group-threshold`).

import type {
  Checker,
  CheckResult,
  FinalState,
  HistoryEvent,
  HistoryEventOf,
  HistoryKind,
} from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { coveredResult } from './coverage.ts';
import { MemberSessions, memberSessionsKinds } from './member-sessions.ts';
import { NotifyPromptness, notifyPromptnessKinds } from './notify-promptness.ts';
import { PushReach, pushReachKinds } from './push-reach.ts';
import { ReceiptReach, receiptReachKinds } from './receipt-reach.ts';
import { WitnessList } from './witness-list.ts';

export const deliveryModeProperty = 'delivery-mode';

export type DeliveryModeOptions = CheckerOptions & {
  /** Members above which a group is large (default protocol.md's 256). */
  largeGroupThreshold?: number;
  /**
   * How long after its ack a push, and after its cursor frame a receipt, is due (default 3000: a node
   * that missed a bus event fills the gap within a gap grace of 200 ms of hearing of it, and a cursor
   * is one durable write then the fan-out). Live runs give real servers on a shared machine longer.
   */
  reachDueMs?: number;
  /**
   * Judge how soon a notify names a seq (notify-promptness.ts; default true). Only where the server's
   * speed is not part of the run: with a cost model, or live against a loaded server, a late notify is
   * a slow server, as a late answer is (read-pages' `judgeSilence`).
   */
  judgeSilence?: boolean;
};

/** The simulator's reach due time (see `reachDueMs`). */
const simulatedReachDueMs = 3000;

/** protocol.md's default large-group threshold. */
const protocolThreshold = 256;

/** The kinds of event this checker reads (checker-feed.ts feeds it those only), its reach judgements' too. */
const kinds = [
  ...memberSessionsKinds,
  ...pushReachKinds,
  ...receiptReachKinds,
  ...notifyPromptnessKinds,
  'phase',
  'conv',
  'members-sent',
  'conv-frame',
  'ack',
] as const satisfies readonly HistoryKind[];

export function createDeliveryModeChecker(options: DeliveryModeOptions = {}): Checker {
  const { limits, ids } = resolveCheckerOptions(options);
  const threshold = options.largeGroupThreshold ?? protocolThreshold;
  const witness = new WitnessList(limits.witnessCasesMax);
  const dueMs = options.reachDueMs ?? simulatedReachDueMs;
  // One record of the member sessions feeds both reach judgements (pushes first, then receipts).
  const sessions = new MemberSessions(ids, threshold, witness, dueMs);
  const reach = new PushReach(sessions);
  const receipts = new ReceiptReach(sessions);
  const notifies = options.judgeSilence === false ? null : new NotifyPromptness(sessions, threshold);
  let endAt = Number.POSITIVE_INFINITY;
  /** Conversation -> members at creation; -1 once the harness changed its membership. */
  const sizes = new Map<string, number>();
  const judgedBy = { notify: 0, msg: 0, receipt: 0 };
  /** Acked sends in conversations of known size: each owes their other members a msg or a notify. */
  let acked = 0;

  const judge = (event: HistoryEvent & { k: 'conv-frame' }): void => {
    if (event.t !== 'notify' && event.t !== 'msg' && event.t !== 'receipt') return;
    const size = sizes.get(event.conv);
    if (size === undefined || size < 0) return;
    judgedBy[event.t]++;
    const large = size > threshold;
    const wrong = event.t === 'notify' ? !large : large;
    if (!wrong) return;
    const what =
      event.t === 'notify'
        ? 'notify in a small conversation'
        : event.t === 'msg'
          ? 'msg pushed in a large group'
          : 'receipt in a large group';
    witness.add(what, () => ({
      problem: `${event.user}/${event.device} got a ${event.t} in ${event.conv}, which has ${size} members (large above ${threshold}): ${event.t === 'notify' ? 'small conversations get msg' : event.t === 'msg' ? 'large groups get notify and are pulled with sync' : 'receipts are sent only at or below the threshold'}`,
      path: [event],
    }));
  };

  return {
    property: deliveryModeProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe(event: HistoryEventOf<(typeof kinds)[number]>): void {
      sessions.observe(event);
      if (event.k === 'phase' && event.phase === 'final') endAt = event.at;
      else if (event.k === 'conv') sizes.set(event.conv, new Set(event.members).size);
      else if (event.k === 'members-sent') sizes.set(event.conv, -1);
      else if (event.k === 'conv-frame') judge(event);
      else if (event.k === 'ack' && (sizes.get(event.conv) ?? -1) > 1) acked++;
    },
    owedPending: () => ({ pushes: reach.pending(), receipts: receipts.pending() }),
    finish(final: FinalState): CheckResult {
      // A live run that held its sessions open after settle judges them as they stood when it let go.
      sessions.finish(final.heldUntil ?? Math.min(endAt, final.at));
      const frames = judgedBy.notify + judgedBy.msg + judgedBy.receipt;
      const judged = frames + reach.judged + receipts.judged + (notifies?.judged ?? 0);
      const reachDetails = (judgement: PushReach | ReceiptReach, what: string): string =>
        judgement.unjudged.total > 0
          ? `; ${judgement.unjudged.total} more ${what} owed not judged: ${judgement.unjudged.describe()}`
          : '';
      const details = `${frames} frames judged against their conversation's size (${judgedBy.msg} msg, ${judgedBy.notify} notify, ${judgedBy.receipt} receipt; large above ${threshold} members); ${reach.judged} pushes owed to member devices online throughout judged for reach${reach.pastMemberJudged > 0 ? ` (${reach.pastMemberJudged} of them to members removed by a change asked after the ack)` : ''}${reachDetails(reach, 'pushes')}; ${receipts.judged} receipts owed to them judged${receipts.drainWaited > 0 ? ` (${receipts.drainWaited} more not, their due time past the session's end only for a queue still draining)` : ''}${reachDetails(receipts, 'receipts')}${notifies !== null && notifies.judged > 0 ? `; ${notifies.judged} seqs judged for how soon a notify named them` : ''}`;
      // A reach judgement that judged less than it still owed when the run ended proved little: a server
      // that sends no receipts at all passed it when every receipt fell due after the run's end (a loaded
      // live run: the ack latency around each cursor pushed its due time out). Could not judge, never pass.
      // What sessions that ended before the run did were owed is not counted (a fault that cuts sessions
      // leaves much unjudged that no longer run would judge: simulated partition seed 1, 3,725 pushes).
      const blind = [
        { what: 'push', judgement: reach },
        { what: 'receipt', judgement: receipts },
      ].filter(({ judgement }) => judgement.unjudged.atRunEnd > judgement.judged);
      const clean = blind.length === 0;
      return coveredResult(
        witness,
        deliveryModeProperty,
        clean
          ? details
          : `could not judge: ${blind.map(({ what, judgement }) => `${what} reach judged ${judgement.judged} of ${judgement.judged + judgement.unjudged.total} owed, ${judgement.unjudged.atRunEnd} still owed at the run's end`).join(', ')}; ${details}`,
        {
          judged,
          judgedWhat: 'msg, notify or receipt frame in a conversation of known size',
          done: acked,
          doneWhat: 'acked sends in conversations of known size',
        },
        clean ? 'pass' : 'unknown',
      );
    },
  };
}
