// Judges protocol.md guarantee 5, no loss: once faults heal, every acked message (and every durable
// one) is displayed on every device of every user who was a member when it was sequenced (FinalState
// membership spans), judged on displays before the `final` phase. Each miss is classified for the
// witness: "never delivered" (in the store, not displayed) or "lost from the store" (acked or made
// durable, gone from the final read). Keeps the displayed-seq sets and, per (conv, seq), when it was
// acked (by which device) and made durable.

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column } from './column.ts';
import { DisplayedSeqs } from './displayed-seqs.ts';
import { FinalMembership } from './final-membership.ts';
import { SlotTable } from './slot-table.ts';
import { WitnessList } from './witness-list.ts';

export const noLossProperty = 'no-loss';

const neverDelivered = 'never delivered';
const lostFromStore = 'lost from the store';

export function createNoLossChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits, pairs } = resolveCheckerOptions(options);
  const displayed = new DisplayedSeqs(limits.holeIntervalsPerPairMax);
  const messages = new SlotTable();
  const ackAt = float64Column(Number.NaN);
  const ackDevice = int32Column(-1);
  const durableAt = float64Column(Number.NaN);
  /** Per conv id: the highest seq acked or made durable. */
  const highestSeq = int32Column(0);
  const witness = new WitnessList(limits.witnessCasesMax);
  let finalPhase = false;

  const sequenced = (conv: string, seq: number): number => {
    const convId = ids.conv(conv);
    if (seq > highestSeq.get(convId)) highestSeq.set(convId, seq);
    return messages.intern(convId, seq);
  };

  const observe = (event: HistoryEvent): void => {
    if (event.k === 'phase' && event.phase === 'final') finalPhase = true;
    else if (event.k === 'display' && !finalPhase) {
      const pair = pairs.intern(ids.device(event.user, event.device), ids.conv(event.message.conv));
      displayed.add(pair, event.message.seq);
    } else if (event.k === 'ack') {
      const slot = sequenced(event.conv, event.seq);
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
    if (slot < 0) return [];
    const conv = ids.convName(convId);
    const path: unknown[] = [];
    if (!Number.isNaN(durableAt.get(slot))) path.push({ k: 'durable', at: durableAt.get(slot), conv, seq });
    if (!Number.isNaN(ackAt.get(slot)))
      path.push({ k: 'ack', at: ackAt.get(slot), ...ids.deviceName(ackDevice.get(slot)), conv, seq });
    return path;
  };

  const judgeConv = (
    final: FinalState,
    membership: FinalMembership,
    conv: string,
    devicesOf: Map<string, number[]>,
  ) => {
    const convId = ids.conv(conv);
    const lastSeq = Math.max(final.storedLastSeq(conv), highestSeq.get(convId));
    let checked = 0;
    for (const [user, spans] of membership.of(conv)) {
      for (const device of devicesOf.get(user) ?? []) {
        const pair = pairs.find(device, convId);
        for (const span of spans) {
          const lo = Math.max(1, span.from);
          const hi = Math.min(span.to ?? lastSeq, lastSeq);
          checked += Math.max(0, hi - lo + 1);
          displayed.forEachMissing(pair, lo, hi, (seq) => {
            const stored = final.storedMessage(conv, seq);
            if (stored === undefined && messages.find(convId, seq) < 0) return;
            const kind = stored === undefined ? lostFromStore : neverDelivered;
            witness.add(kind, () => ({
              problem: `${conv}#${seq} was ${kind === neverDelivered ? 'never displayed' : 'lost from the store and never displayed'} on ${user}/${ids.deviceName(device).device}, a member when it was sequenced`,
              path: [
                ...origins(convId, seq),
                {
                  k: 'missing',
                  user,
                  device: ids.deviceName(device).device,
                  conv,
                  seq,
                  newestDisplayed: pair < 0 ? 0 : displayed.newestOf(pair),
                },
              ],
            }));
          });
        }
      }
    }
    return checked;
  };

  return {
    property: noLossProperty,
    observe,
    finish(final: FinalState): CheckResult {
      const devicesOf = new Map<string, number[]>();
      for (const { user, device } of final.devices) {
        const devices = devicesOf.get(user) ?? [];
        devices.push(ids.device(user, device));
        devicesOf.set(user, devices);
      }
      const membership = new FinalMembership(final);
      let expected = 0;
      for (const conv of final.conversations()) expected += judgeConv(final, membership, conv, devicesOf);
      const lost = witness.countOf(lostFromStore);
      const settled = final.settledAt !== null;
      const details = `${expected} (device, seq) displays expected on ${final.devices.length} devices${settled ? '' : '; the run did not settle'}`;
      return witness.result(noLossProperty, details, 'pass', lost > 0 || settled ? 'fail' : 'unknown');
    },
  };
}
