// Judges protocol.md guarantee 1, durable ack: every ack's (conv, seq) is in the store at the end of
// the run, with the sender and cmid that were acked, whatever crashed in between. Keeps each ack as a
// row of numbers (conv, seq, sender device, cmid hash, time) and reads the store once at the end. A read
// during the run (checkpoint) judges the acks whose seq it shows and drops their rows; read-back.ts then
// keeps what the final read must still show there (so a loss after that read is caught).

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind, StoreRead } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column, uint32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { identityHash, ReadBack, type ReadBackMismatch } from './read-back.ts';
import { storedDigest } from './stored-digest.ts';
import { hash32, hashLabel } from './string-hash.ts';
import { WitnessList } from './witness-list.ts';

export const durableAckProperty = 'durable-ack';

const missingKind = 'acked message missing from the store';
const otherKind = 'acked seq holding another message';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['send', 'ack'] as const satisfies readonly HistoryKind[];

export function createDurableAckChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const ack = {
    conv: int32Column(),
    seq: int32Column(),
    device: int32Column(),
    cmid: uint32Column(),
    at: float64Column(),
  };
  /** Rows held (acks not yet judged against a read). */
  let rows = 0;
  let acks = 0;
  let sends = 0;
  /** Lane 0: acked seqs judged against a read during the run, by their (from, cmid). */
  const readBack = new ReadBack(1);
  const witness = new WitnessList(limits.witnessCasesMax);

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    if (event.k === 'send') sends++;
    if (event.k !== 'ack') return;
    ack.conv.set(rows, ids.conv(event.conv));
    ack.seq.set(rows, event.seq);
    ack.device.set(rows, ids.device(event.user, event.device));
    ack.cmid.set(rows, hash32(event.cmid));
    ack.at.set(rows, event.at);
    rows++;
    acks++;
  };

  /** What is wrong with ack `row` given the sender and cmid hash the read holds at its seq, if anything. */
  const wrongOf = (row: number, stored: { from: string; cmid: number } | undefined): string | undefined => {
    if (stored === undefined) return missingKind;
    return stored.from !== ids.deviceName(ack.device.get(row)).user || stored.cmid !== ack.cmid.get(row)
      ? otherKind
      : undefined;
  };

  /** `read`: which read `stored` came from (a read during the run, or the final one). */
  const report = (
    row: number,
    kind: string,
    stored: Message | undefined,
    read: string,
    storedLastSeq: number | null,
  ): void => {
    const conv = ids.convName(ack.conv.get(row));
    const seq = ack.seq.get(row);
    const { user, device } = ids.deviceName(ack.device.get(row));
    witness.add(kind, () => ({
      problem: `${user}/${device} got an ack for ${conv}#${seq}, but ${read} ${stored === undefined ? 'has no such seq' : `holds ${stored.from}'s ${stored.cmid} there`}`,
      path: [
        { k: 'ack', at: ack.at.get(row), user, device, conv, seq, cmid: hashLabel(ack.cmid.get(row)) },
        { k: 'stored', conv, seq, message: stored ?? null, storedLastSeq },
      ],
    }));
  };

  const checkpoint = (read: StoreRead): void => {
    const moves = new Int32Array(rows);
    let kept = 0;
    for (let row = 0; row < rows; row++) {
      const convId = ack.conv.get(row);
      const seq = ack.seq.get(row);
      const stored = read.conversations.get(ids.convName(convId))?.get(seq);
      if (stored === undefined) {
        moves[row] = kept++;
        continue;
      }
      const kind = wrongOf(row, { from: stored.from, cmid: hash32(stored.cmid) });
      if (kind !== undefined)
        report(row, kind, stored, `the store's read at ${Math.round(read.at)} ms`, null);
      readBack.fold(convId, seq, 0, identityHash(stored), read.at);
      moves[row] = -1;
    }
    for (const column of Object.values(ack)) column.compact(moves);
    rows = kept;
  };

  const readBackLost = (final: FinalState, mismatch: ReadBackMismatch): void => {
    const conv = ids.convName(mismatch.conv);
    const storedLastSeq = final.storedLastSeq(conv);
    for (const seq of mismatch.missing)
      witness.add(missingKind, () => ({
        problem: `${conv}#${seq} was acked and read back at ${Math.round(mismatch.readAt)} ms, but the store's final read has no such seq`,
        path: [
          { k: 'read-back', at: mismatch.readAt, conv, seq },
          { k: 'stored', conv, seq, message: null, storedLastSeq },
        ],
      }));
    if (mismatch.changed === true)
      witness.add(otherKind, () => ({
        problem: `an acked seq of ${conv} in ${mismatch.lo}..${mismatch.hi} holds another sender or cmid in the store's final read than in its read at ${Math.round(mismatch.readAt)} ms`,
        path: [
          { k: 'read-back', at: mismatch.readAt, conv, seqs: [mismatch.lo, mismatch.hi] },
          { k: 'stored', conv, seqs: [mismatch.lo, mismatch.hi], storedLastSeq },
        ],
      }));
  };

  return {
    property: durableAckProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    checkpoint,
    finish(final: FinalState): CheckResult {
      for (let row = 0; row < rows; row++) {
        const conv = ids.convName(ack.conv.get(row));
        const seq = ack.seq.get(row);
        const kind = wrongOf(row, storedDigest(final, conv, seq));
        if (kind !== undefined)
          report(
            row,
            kind,
            final.storedMessage(conv, seq),
            "the store's final read",
            final.storedLastSeq(conv),
          );
      }
      readBack.verify(
        0,
        (conv, seq) => storedDigest(final, ids.convName(conv), seq)?.identity,
        (mismatch) => readBackLost(final, mismatch),
      );
      const readBackNote = readBack.count > 0 ? ` (${readBack.count} seqs judged during the run)` : '';
      return coveredResult(
        witness,
        durableAckProperty,
        `${acks} acks read back from the store${readBackNote}`,
        {
          judged: acks,
          judgedWhat: 'acks',
          done: sends,
          doneWhat: 'sends',
        },
      );
    },
  };
}
