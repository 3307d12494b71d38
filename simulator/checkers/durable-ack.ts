// Judges protocol.md guarantee 1, durable ack: every ack's (conv, seq) is in the store at the end of
// the run, with the sender and cmid that were acked, whatever crashed in between. Keeps each ack as a
// row of numbers (conv, seq, sender device, cmid hash, time) and reads the store once at the end.

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column, uint32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { hash32, hashLabel } from './string-hash.ts';
import { WitnessList } from './witness-list.ts';

export const durableAckProperty = 'durable-ack';

export function createDurableAckChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const ack = {
    conv: int32Column(),
    seq: int32Column(),
    device: int32Column(),
    cmid: uint32Column(),
    at: float64Column(),
  };
  let acks = 0;
  let sends = 0;
  const witness = new WitnessList(limits.witnessCasesMax);

  const observe = (event: HistoryEvent): void => {
    if (event.k === 'send') sends++;
    if (event.k !== 'ack') return;
    ack.conv.set(acks, ids.conv(event.conv));
    ack.seq.set(acks, event.seq);
    ack.device.set(acks, ids.device(event.user, event.device));
    ack.cmid.set(acks, hash32(event.cmid));
    ack.at.set(acks, event.at);
    acks++;
  };

  const judge = (final: FinalState, row: number): void => {
    const conv = ids.convName(ack.conv.get(row));
    const seq = ack.seq.get(row);
    const { user, device } = ids.deviceName(ack.device.get(row));
    const stored = final.storedMessage(conv, seq);
    const kind =
      stored === undefined
        ? 'acked message missing from the store'
        : stored.from !== user || hash32(stored.cmid) !== ack.cmid.get(row)
          ? 'acked seq holding another message'
          : undefined;
    if (kind === undefined) return;
    witness.add(kind, () => ({
      problem: `${user}/${device} got an ack for ${conv}#${seq}, but the store's final read ${stored === undefined ? 'has no such seq' : `holds ${stored.from}'s ${stored.cmid} there`}`,
      path: [
        { k: 'ack', at: ack.at.get(row), user, device, conv, seq, cmid: hashLabel(ack.cmid.get(row)) },
        { k: 'stored', conv, seq, message: stored ?? null, storedLastSeq: final.storedLastSeq(conv) },
      ],
    }));
  };

  return {
    property: durableAckProperty,
    violationsSoFar: () => witness.count,
    observe,
    finish(final: FinalState): CheckResult {
      for (let row = 0; row < acks; row++) judge(final, row);
      return coveredResult(witness, durableAckProperty, `${acks} acks read back from the store`, {
        judged: acks,
        judgedWhat: 'acks',
        done: sends,
        doneWhat: 'sends',
      });
    },
  };
}
