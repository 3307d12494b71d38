// Judges protocol.md guarantee 2: one seq per idempotency key (sender, conv, cmid), across the acks
// clients got, the durable records and the store's final read. Different senders may share a cmid:
// theirs are different keys and must get different seqs. Keeps key -> seq (keys as two 32-bit
// hashes, see string-hash.ts) and (conv, seq) -> key, with where each was first learnt. A read during
// the run (checkpoint) judges the seqs it shows and drops them and their keys; read-back.ts keeps which
// key each held, and the end judges the whole final read as before: a later claim on a dropped key or
// seq meets the store's record of it there. A send made again after its ack (`resent-ack`: an app that
// lost the ack) must be answered with the first ack's seq and ts, as the device saw them; an `err`
// answering it (`resent-err`) may only say "not now" (`rate_limited`, `unavailable`) or "not a member"
// (`forbidden`, `not_found`: authorization judges those, it holds the membership oracle). "Not now" only
// for a while: the device retries it by the outbox's rule (client/outbox.ts `notNowRetry`), and one it
// gave up on (`resent-err` with a not-now code: never acked after all its tries) while no fault was open
// from the resend on fails here. Here, not in liveness: liveness says whether the run settled (exit 3,
// "could not judge"), while a server that is up, answers, and keeps refusing a key it already acked has
// broken this key's promise, the same ack (a duplicate-key path that fails, as a unique-key violation
// surfaced as a 503 does), which is a violation with its witness.

import { ErrorCode, isNotNow } from '../../reference-server/protocol/codes.ts';
import type { Message } from '../../reference-server/protocol/frames.ts';
import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind, StoreRead } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column, uint8Column, uint32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { FaultQuiet } from './fault-quiet.ts';
import { identityHash, ReadBack, type ReadBackMismatch } from './read-back.ts';
import { SlotTable } from './slot-table.ts';
import { storedDigest } from './stored-digest.ts';
import { hash32, hash32b, keyText } from './string-hash.ts';
import { WitnessList } from './witness-list.ts';

export const idempotencyProperty = 'idempotency';

const sources = ['ack', 'durable', 'stored'] as const;
type Source = (typeof sources)[number];
/** `cmid` null: the final read's message at (conv, seq) holds it (read again only for a witness). */
type Claim = { source: Source; at: number; sender: string; conv: string; cmid: string | null; seq: number };

/** A final read's claim's event in a witness: the stored message at its (conv, seq), read again then. */
const finalStored = { k: 'stored' } as const;

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  'send',
  'ack',
  'durable',
  'resent-ack',
  'resent-err',
  'fault',
] as const satisfies readonly HistoryKind[];

/** The errs that may answer a send made again after its ack: "not a member" (authorization judges it). */
const resentErrsAllowed: ReadonlySet<string> = new Set([ErrorCode.forbidden, ErrorCode.notFound]);

export function createIdempotencyChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const keys = new SlotTable();
  const keySeq = int32Column();
  const keySource = uint8Column();
  const keyAt = float64Column();
  const seqs = new SlotTable();
  const seqKeyA = uint32Column();
  const seqKeyB = uint32Column();
  const seqSender = int32Column();
  const seqCmid = uint32Column();
  const seqSource = uint8Column();
  const seqAt = float64Column();
  const witness = new WitnessList(limits.witnessCasesMax);
  /** Seqs judged against a read during the run and dropped, by the (from, cmid) they held. */
  const readBack = new ReadBack(1);
  let claims = 0;
  let sends = 0;
  /** Errs that answered a send made again (those that may: counted, not judged here). */
  let resentErrs = 0;
  /** Sends made again given up on after "not now" answers while a fault was open (not judged). */
  let notNowUnderFaults = 0;
  const faults = new FaultQuiet();
  /** Keys only the final read named (dropped after their conversation). */
  let storeKeys = 0;
  /** The final state being judged (for a final claim's cmid and event). */
  let finalRead: FinalState | null = null;

  const cmidOf = (claim: Claim): string =>
    claim.cmid ?? finalRead!.storedMessage(claim.conv, claim.seq)!.cmid;
  const eventOf = (claim: Claim, event: unknown): unknown =>
    event === finalStored ? { k: 'stored', message: finalRead!.storedMessage(claim.conv, claim.seq) } : event;

  const judge = (claim: Claim & { cmid: string }, event: unknown): void => {
    const key = keyText(claim.sender, claim.conv, claim.cmid);
    judgeKey(claim, hash32(key), hash32b(key), hash32(claim.cmid), event);
  };

  /** `keyA`, `keyB`: the claim's key's hashes; `cmid`: its cmid's. */
  const judgeKey = (claim: Claim, keyA: number, keyB: number, cmid: number, event: unknown): void => {
    claims++;
    const known = keys.size;
    const keySlot = keys.intern(keyA, keyB);
    if (keySlot === known) {
      keySeq.set(keySlot, claim.seq);
      keySource.set(keySlot, sources.indexOf(claim.source));
      keyAt.set(keySlot, claim.at);
    } else if (keySeq.get(keySlot) !== claim.seq) {
      keyWithTwoSeqs(claim, keySlot, event);
    }
    const knownSeqs = seqs.size;
    const seqSlot = seqs.intern(ids.conv(claim.conv), claim.seq);
    const sender = ids.user(claim.sender);
    if (seqSlot === knownSeqs) {
      seqKeyA.set(seqSlot, keyA);
      seqKeyB.set(seqSlot, keyB);
      seqSender.set(seqSlot, sender);
      seqCmid.set(seqSlot, cmid);
      seqSource.set(seqSlot, sources.indexOf(claim.source));
      seqAt.set(seqSlot, claim.at);
    } else if (seqKeyA.get(seqSlot) !== keyA || seqKeyB.get(seqSlot) !== keyB) {
      seqWithTwoKeys(claim, seqSlot, cmid, event);
    }
  };

  // The witnesses apart from judge: a closure there would make every call allocate a context for
  // what it captures.
  const keyWithTwoSeqs = (claim: Claim, keySlot: number, event: unknown): void => {
    const earlier = {
      k: sources[keySource.get(keySlot)],
      at: keyAt.get(keySlot),
      seq: keySeq.get(keySlot),
    };
    witness.add('key with two seqs', () => ({
      problem: `(${claim.sender}, ${claim.conv}, ${cmidOf(claim)}) has seq ${claim.seq} in this ${claim.source} but ${earlier.seq} in an earlier ${earlier.k}`,
      path: [
        { ...earlier, from: claim.sender, conv: claim.conv, cmid: cmidOf(claim) },
        eventOf(claim, event),
      ],
    }));
  };

  const seqWithTwoKeys = (claim: Claim, seqSlot: number, cmid: number, event: unknown): void => {
    const other = ids.userName(seqSender.get(seqSlot));
    const sharedCmid = other !== claim.sender && seqCmid.get(seqSlot) === cmid;
    const earlier = {
      k: sources[seqSource.get(seqSlot)],
      at: seqAt.get(seqSlot),
      conv: claim.conv,
      seq: claim.seq,
      from: other,
    };
    witness.add(sharedCmid ? 'senders sharing a cmid given one seq' : 'seq given to two keys', () => ({
      problem: `${claim.conv}#${claim.seq} belongs to ${other}'s key in an earlier ${earlier.k}, and to (${claim.sender}, ${cmidOf(claim)}) in this ${claim.source}`,
      path: [earlier, eventOf(claim, event)],
    }));
  };

  const resentAcked = (event: HistoryEventOf<'resent-ack'>): void => {
    claims++;
    const { first } = event;
    if (event.seq === first.seq && event.ts === first.ts) return;
    witness.add('send made again acked differently', () => ({
      problem: `(${event.user}, ${event.conv}, ${event.cmid}) was acked with seq ${first.seq} ts ${first.ts}, made again at ${event.resentAt} and acked with seq ${event.seq} ts ${event.ts} (protocol.md: the same ack, same seq and same ts, and nothing stored anew)`,
      path: [event],
    }));
  };

  const resentRefused = (event: HistoryEventOf<'resent-err'>): void => {
    if (resentErrsAllowed.has(event.code)) {
      resentErrs++;
      return;
    }
    if (isNotNow(event.code)) return resentGivenUp(event);
    claims++;
    const { first } = event;
    witness.add('send made again answered with an err', () => ({
      problem: `(${event.user}, ${event.conv}, ${event.cmid}) was acked with seq ${first.seq} ts ${first.ts}, made again at ${event.resentAt} and answered with err ${event.code} (protocol.md: the same ack, same seq and same ts)`,
      path: [event],
    }));
  };

  /** Retried on "not now" until the device's rule gave up: a violation unless a fault was open meanwhile. */
  const resentGivenUp = (event: HistoryEventOf<'resent-err'>): void => {
    if (!faults.quietSince(event.resentAt)) {
      notNowUnderFaults++;
      return;
    }
    claims++;
    const { first } = event;
    witness.add('send made again never acked', () => ({
      problem: `(${event.user}, ${event.conv}, ${event.cmid}) was acked with seq ${first.seq} ts ${first.ts}, made again at ${event.resentAt} and answered ${event.code} to each of ${event.tries ?? 1} tries until ${event.at}, with no fault open from the resend on (protocol.md: the same ack; "not now" only while a dependency is down)`,
      path: [event],
    }));
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    if (event.k === 'fault') faults.observe(event);
    else if (event.k === 'send') sends++;
    else if (event.k === 'resent-ack') resentAcked(event);
    else if (event.k === 'resent-err') resentRefused(event);
    else if (event.k === 'ack') {
      judge(
        {
          source: 'ack',
          at: event.at,
          sender: event.user,
          conv: event.conv,
          cmid: event.cmid,
          seq: event.seq,
        },
        event,
      );
    } else if (event.k === 'durable') {
      const { from, conv, cmid, seq } = event.message;
      judge({ source: 'durable', at: event.at, sender: from, conv, cmid, seq }, event);
    }
  };

  const judgeStored = (stored: Message, conv: string, seq: number, at: number): void => {
    judge(
      { source: 'stored', at, sender: stored.from, conv, cmid: stored.cmid, seq },
      { k: 'stored', message: stored },
    );
  };

  // A key names its conversation, so what the walk of one conversation interned (keys and seqs no ack
  // or durable record claimed) can judge nothing in another: it is dropped once the conversation is
  // judged, and the final read's walk holds one conversation's keys at a time, not the run's.
  const judgeStore = (final: FinalState): void => {
    finalRead = final;
    for (const conv of final.conversations()) {
      const keysBefore = keys.size;
      const seqsBefore = seqs.size;
      const lastSeq = final.storedLastSeq(conv);
      for (let seq = 1; seq <= lastSeq; seq++) {
        const stored = storedDigest(final, conv, seq);
        if (stored === undefined) continue;
        const claim = { source: 'stored' as const, at: final.at, sender: stored.from, conv, cmid: null, seq };
        judgeKey(claim, stored.keyA, stored.keyB, stored.cmid, finalStored);
      }
      storeKeys += keys.size - keysBefore;
      keys.truncate(keysBefore);
      seqs.truncate(seqsBefore);
    }
  };

  const checkpoint = (read: StoreRead): void => {
    const dropSeq = new Uint8Array(seqs.size);
    const dropKey = new Uint8Array(keys.size);
    for (let slot = 0; slot < dropSeq.length; slot++) {
      const convId = seqs.keyA(slot);
      const seq = seqs.keyB(slot);
      const conv = ids.convName(convId);
      const stored = read.conversations.get(conv)?.get(seq);
      if (stored === undefined) continue;
      judgeStored(stored, conv, seq, read.at);
      readBack.fold(convId, seq, 0, identityHash(stored), read.at);
      dropSeq[slot] = 1;
      const keySlot = keys.find(seqKeyA.get(slot), seqKeyB.get(slot));
      if (keySlot >= 0 && keySlot < dropKey.length && keySeq.get(keySlot) === seq) dropKey[keySlot] = 1;
    }
    const seqMoves = seqs.retain((slot) => slot >= dropSeq.length || dropSeq[slot] === 0);
    for (const column of [seqKeyA, seqKeyB, seqSender, seqCmid, seqSource, seqAt]) column.compact(seqMoves);
    const keyMoves = keys.retain((slot) => slot >= dropKey.length || dropKey[slot] === 0);
    for (const column of [keySeq, keySource, keyAt]) column.compact(keyMoves);
  };

  // A seq whose sender or cmid changed after the read was given to two keys; a seq lost is no second
  // key (durable-ack judges the loss).
  const readBackDiffers = (final: FinalState, mismatch: ReadBackMismatch): void => {
    if (mismatch.changed !== true) return;
    const conv = ids.convName(mismatch.conv);
    witness.add('seq given to two keys', () => ({
      problem: `a seq of ${conv} in ${mismatch.lo}..${mismatch.hi} belongs to another key in the store's final read than in its read at ${Math.round(mismatch.readAt)} ms`,
      path: [
        { k: 'read-back', at: mismatch.readAt, conv, seqs: [mismatch.lo, mismatch.hi] },
        { k: 'stored', at: final.at, conv, seqs: [mismatch.lo, mismatch.hi] },
      ],
    }));
  };

  return {
    property: idempotencyProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    checkpoint,
    finish(final: FinalState): CheckResult {
      judgeStore(final);
      readBack.verify(
        0,
        (conv, seq) => storedDigest(final, ids.convName(conv), seq)?.identity,
        (mismatch) => readBackDiffers(final, mismatch),
      );
      return coveredResult(
        witness,
        idempotencyProperty,
        `${claims} claims on ${keys.size + storeKeys} keys, the store's included` +
          (resentErrs > 0
            ? `; ${resentErrs} sends made again answered "not a member" (not judged here)`
            : '') +
          (notNowUnderFaults > 0
            ? `; ${notNowUnderFaults} sends made again answered "not now" until given up, under a fault (not judged)`
            : ''),
        { judged: claims, judgedWhat: 'acks or stored messages', done: sends, doneWhat: 'sends' },
      );
    },
  };
}
