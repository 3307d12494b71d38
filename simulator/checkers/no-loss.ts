// Judges protocol.md guarantee 5, no loss: by the end of the settle window, every acked message (and
// every durable one) is displayed on every device of every user who surely was a member when it was
// sequenced (the MembershipOracle: the harness's own requests and observations), judged on displays
// before the `final` phase. A miss is loss whether or not the run settled (liveness says that apart).
// Misses are classified for the witness: "never delivered" (in the final read, not displayed) or "lost
// from the store" (acked or made durable, gone from the final read), one case per device with its
// seqs, the newest seq it displayed and the last `delivered` cursor it sent. Keeps the displayed-seq
// sets, each pair's delivered cursor and, per (conv, seq), when it was acked (by which device) and made
// durable. A read during the run (checkpoint) shows which acked seqs the store holds: their records are
// dropped and read-back.ts remembers that they were acked, so one the final read lacks is still loss.

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind, StoreRead } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { DisplayedSeqs } from './displayed-seqs.ts';
import { membershipKinds } from './membership-oracle.ts';
import { ReadBack } from './read-back.ts';
import { SlotTable } from './slot-table.ts';
import { WitnessList } from './witness-list.ts';

export const noLossProperty = 'no-loss';

const neverDelivered = 'never delivered';
const lostFromStore = 'lost from the store';
/** Missing seqs a witness case lists for one device; the rest are counted. */
const seqsPerWitnessMax = 20;

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  ...membershipKinds,
  'phase',
  'display',
  'cursor-sent',
  'ack',
  'durable',
] as const satisfies readonly HistoryKind[];

export function createNoLossChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits, pairs, membership } = resolveCheckerOptions(options);
  const displayed = new DisplayedSeqs(limits.holeIntervalsPerPairMax);
  const messages = new SlotTable();
  const ackAt = float64Column(Number.NaN);
  const ackDevice = int32Column(-1);
  const durableAt = float64Column(Number.NaN);
  /** Per conv id: the highest seq acked or made durable. */
  const highestSeq = int32Column(0);
  const witness = new WitnessList(limits.witnessCasesMax);
  /** Acked or durable seqs whose records a read during the run let go (lane 0; no digest is compared). */
  const readBack = new ReadBack(1);
  /** Per (device, conv) pair: the last `delivered` cursor the device sent. */
  const deliveredCursor = int32Column(0);
  let finalPhase = false;
  let missingTotal = 0;
  let sequencedCount = 0;

  const sequenced = (conv: string, seq: number): number => {
    const convId = ids.conv(conv);
    if (seq > highestSeq.get(convId)) highestSeq.set(convId, seq);
    return messages.intern(convId, seq);
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    membership.observe(event);
    if (event.k === 'phase' && event.phase === 'final') finalPhase = true;
    else if (event.k === 'display' && !finalPhase) {
      const pair = pairs.intern(ids.device(event.user, event.device), ids.conv(event.message.conv));
      displayed.add(pair, event.message.seq);
    } else if (event.k === 'cursor-sent' && event.kind === 'delivered') {
      const pair = pairs.intern(ids.device(event.user, event.device), ids.conv(event.conv));
      if (event.seq > deliveredCursor.get(pair)) deliveredCursor.set(pair, event.seq);
    } else if (event.k === 'ack') {
      const slot = sequenced(event.conv, event.seq);
      sequencedCount++;
      if (Number.isNaN(ackAt.get(slot))) {
        ackAt.set(slot, event.at);
        ackDevice.set(slot, ids.device(event.user, event.device));
      }
    } else if (event.k === 'durable') {
      const slot = sequenced(event.message.conv, event.message.seq);
      if (Number.isNaN(durableAt.get(slot))) durableAt.set(slot, event.at);
    }
  };

  /** The events that made (conv, seq) a message every member must see. */
  const origins = (convId: number, seq: number) => {
    const slot = messages.find(convId, seq);
    const conv = ids.convName(convId);
    if (slot < 0) return readBack.has(convId, seq, 0) ? [{ k: 'read-back', conv, seq }] : [];
    const path: unknown[] = [];
    if (!Number.isNaN(durableAt.get(slot))) path.push({ k: 'durable', at: durableAt.get(slot), conv, seq });
    if (!Number.isNaN(ackAt.get(slot)))
      path.push({ k: 'ack', at: ackAt.get(slot), ...ids.deviceName(ackDevice.get(slot)), conv, seq });
    return path;
  };

  // The (device, conv) judgePair walks, read by visitMissing: one function and one set of lists for
  // every device, where the end of a million-client run made a closure, two lists and two records for
  // each of its millions of (device, conv) pairs, nearly all of them missing nothing.
  let walkFinal: FinalState | null = null;
  let walkConv = '';
  let walkConvId = 0;
  const walkSeqs = { [neverDelivered]: [] as number[], [lostFromStore]: [] as number[] };
  const walkCounts = { [neverDelivered]: 0, [lostFromStore]: 0 };
  const visitMissing = (seq: number): void => {
    const stored = walkFinal!.storedMessage(walkConv, seq);
    if (stored === undefined && messages.find(walkConvId, seq) < 0 && !readBack.has(walkConvId, seq, 0))
      return;
    const kind = stored === undefined ? lostFromStore : neverDelivered;
    walkCounts[kind]++;
    missingTotal++;
    if (walkSeqs[kind].length < seqsPerWitnessMax) walkSeqs[kind].push(seq);
  };

  /** One witness case per (device, conv, kind): which seqs it never displayed, and where it stood. */
  const judgePair = (
    final: FinalState,
    convId: number,
    user: string,
    pairSlot: number,
    devices: readonly number[],
  ): number => {
    const conv = ids.convName(convId);
    const lastSeq = Math.max(final.storedLastSeq(conv), highestSeq.get(convId));
    const ranges = membership.surelyReadableAt(pairSlot, lastSeq);
    walkFinal = final;
    walkConv = conv;
    walkConvId = convId;
    let checked = 0;
    for (const device of devices) {
      const pair = pairs.find(device, convId);
      walkSeqs[neverDelivered].length = 0;
      walkSeqs[lostFromStore].length = 0;
      walkCounts[neverDelivered] = 0;
      walkCounts[lostFromStore] = 0;
      for (const [lo, hi] of ranges) {
        checked += hi - lo + 1;
        displayed.forEachMissing(pair, lo, hi, visitMissing);
      }
      for (const kind of [neverDelivered, lostFromStore] as const) {
        const count = walkCounts[kind];
        if (count === 0) continue;
        const seqs = walkSeqs[kind].slice();
        const name = ids.deviceName(device).device;
        const more = count > seqs.length ? ` and ${count - seqs.length} more` : '';
        witness.add(kind, () => ({
          problem: `${user}/${name} never displayed ${conv} seqs ${seqs.join(', ')}${more}, ${kind === neverDelivered ? 'all in the final read' : 'gone from the final read'}, sequenced while ${user} was a member`,
          path: [
            ...origins(convId, seqs[0]!),
            {
              k: 'missing',
              user,
              device: name,
              conv,
              seqs,
              count,
              newestDisplayed: pair < 0 ? 0 : displayed.newestOf(pair),
              deliveredCursor: pair < 0 ? 0 : deliveredCursor.get(pair),
              lastSeq,
              membership: membership.describe(conv, user),
            },
          ],
        }));
      }
    }
    return checked;
  };

  const checkpoint = (read: StoreRead): void => {
    const drop = new Uint8Array(messages.size);
    for (let slot = 0; slot < drop.length; slot++) {
      const convId = messages.keyA(slot);
      const seq = messages.keyB(slot);
      if (read.conversations.get(ids.convName(convId))?.get(seq) === undefined) continue;
      readBack.fold(convId, seq, 0, 0, read.at);
      drop[slot] = 1;
    }
    const moves = messages.retain((slot) => drop[slot] === 0);
    for (const column of [ackAt, ackDevice, durableAt]) column.compact(moves);
  };

  return {
    property: noLossProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    checkpoint,
    finish(final: FinalState): CheckResult {
      // By user id: the user's devices of the final state, in its order (ids, not names: every member
      // pair is walked below).
      const devicesOf = new Map<number, number[]>();
      for (const { user, device } of final.devices) {
        const id = ids.device(user, device);
        const devices = devicesOf.get(ids.deviceUser(id));
        if (devices === undefined) devicesOf.set(ids.deviceUser(id), [id]);
        else devices.push(id);
      }
      let expected = 0;
      membership.forEachPair((convId, userId, pairSlot) => {
        const devices = devicesOf.get(userId);
        if (devices !== undefined)
          expected += judgePair(final, convId, ids.userName(userId), pairSlot, devices);
      });
      const settled = final.settledAt !== null;
      const details = `${missingTotal > 0 ? `${missingTotal} (device, seq) never displayed; ` : ''}${expected} (device, seq) displays expected on ${final.devices.length} devices${settled ? '' : '; the run did not settle, so what is missing by its end is lost'}`;
      return coveredResult(witness, noLossProperty, details, {
        judged: expected,
        judgedWhat: '(device, seq) displays expected',
        done: sequencedCount,
        doneWhat: 'acks',
      });
    },
  };
}
