// Judges protocol.md guarantee 3's "every member sees the same body at the same seq", and that the seq
// an ack names is that message: every display of (conv, seq), the durable record, the ack its sender
// got (sender, cmid -> seq, with the body that send carried) and the store after the run agree on
// from, cmid and body. Keeps per (conv, seq) the sender id and 32-bit hashes of cmid and body, plus
// where they were first learnt (for the witness); a send's body hash is kept only until its ack. A read
// during the run (checkpoint) judges the (conv, seq) it shows as the final read would and drops them;
// read-back.ts keeps what the final read must still show there. A claim about a dropped seq that comes
// later starts a record of its own, judged against the final read (which must match the earlier read).
// A served message (durable, display) must have protocol.md's shape: from, cmid, body strings, ts a
// finite number (a log record no correct writer writes, taken by a recovery, is served so).

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind, StoreRead } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { int32Column, uint8Column, uint32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { identityHash, ReadBack, type ReadBackMismatch } from './read-back.ts';
import { SlotTable } from './slot-table.ts';
import { storedDigest } from './stored-digest.ts';
import { hash32, hashLabel, keyText, RecentHashes } from './string-hash.ts';
import { WitnessList } from './witness-list.ts';

export const agreementProperty = 'agreement';

const knowsId = 1;
const knowsBody = 2;
const sources = ['', 'durable', 'ack', 'display', 'stored'] as const;
type Source = Exclude<(typeof sources)[number], ''>;

/** What one source says about a (conv, seq); `body` undefined when it does not carry one. */
type Claim = {
  source: Source;
  at: number;
  device: number;
  from: number;
  cmid: number;
  body: number | undefined;
};

/**
 * A final read's claim's event in a witness: the stored message at the claim's (conv, seq), read again
 * only if a case is kept (the claim itself comes from the message's digest, stored-digest.ts).
 */
const finalStored = { k: 'stored' } as const;

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['durable', 'display', 'send', 'failed', 'ack'] as const satisfies readonly HistoryKind[];

export function createAgreementChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const messages = new SlotTable();
  const known = uint8Column();
  const from = int32Column(-1);
  const cmidHash = uint32Column();
  const bodyHash = uint32Column();
  /** The source the record was last completed from: its kind, virtual ms and device (-1: none). */
  const refSource = uint8Column();
  const refAt = uint32Column();
  const refDevice = int32Column(-1);
  const pendingSends = new Map<string, number>();
  const recentBodies = new RecentHashes(limits.recentHashesMax);
  const recentCmids = new RecentHashes(limits.recentHashesMax);
  /** The sender's id by slot, as recentCmids: a message shown on many devices is looked up once. */
  const recentSenders = new RecentHashes(limits.recentHashesMax, (user) => ids.user(user));
  const witness = new WitnessList(limits.witnessCasesMax);
  /** Judged against a read during the run and dropped: lane 0 by (from, cmid), lane 1 by body. */
  const readBack = new ReadBack(2);
  let dropped = 0;
  let claims = 0;
  let sends = 0;
  /** The final state being judged (for finalStored's message). */
  let finalRead: FinalState | null = null;

  const describeRef = (slot: number) => {
    const device = refDevice.get(slot);
    return {
      k: sources[refSource.get(slot)],
      at: refAt.get(slot),
      ...(device >= 0 ? ids.deviceName(device) : {}),
      conv: ids.convName(messages.keyA(slot)),
      seq: messages.keyB(slot),
      from: ids.userName(from.get(slot)),
      cmid: hashLabel(cmidHash.get(slot)),
      ...((known.get(slot) & knowsBody) !== 0 ? { body: hashLabel(bodyHash.get(slot)) } : {}),
    };
  };

  const judge = (slot: number, claim: Claim, event: unknown): void => {
    claims++;
    const flags = known.get(slot);
    const fromDiffers = (flags & knowsId) !== 0 && from.get(slot) !== claim.from;
    const cmidDiffers = (flags & knowsId) !== 0 && cmidHash.get(slot) !== claim.cmid;
    const bodyDiffers =
      (flags & knowsBody) !== 0 && claim.body !== undefined && bodyHash.get(slot) !== claim.body;
    if (fromDiffers || cmidDiffers || bodyDiffers) {
      const differs: string[] = [];
      if (fromDiffers) differs.push('from');
      if (cmidDiffers) differs.push('cmid');
      if (bodyDiffers) differs.push('body');
      disagreeing(slot, claim, differs, event);
      return;
    }
    const completes = (flags & knowsId) === 0 || ((flags & knowsBody) === 0 && claim.body !== undefined);
    if (!completes) return;
    from.set(slot, claim.from);
    cmidHash.set(slot, claim.cmid);
    if (claim.body !== undefined) bodyHash.set(slot, claim.body);
    known.set(slot, flags | knowsId | (claim.body === undefined ? 0 : knowsBody));
    refSource.set(slot, sources.indexOf(claim.source));
    refAt.set(slot, Math.max(0, Math.floor(claim.at)));
    refDevice.set(slot, claim.device);
  };

  // Apart from judge: a closure there would make every call allocate a context for what it captures.
  const disagreeing = (slot: number, claim: Claim, differs: string[], event: unknown): void => {
    const conv = ids.convName(messages.keyA(slot));
    const seq = messages.keyB(slot);
    witness.add(`${claim.source} disagreeing on ${differs.join('+')}`, () => ({
      problem: `${claim.source} of ${conv}#${seq} differs from the ${sources[refSource.get(slot)]} before it in ${differs.join(', ')}`,
      path: [
        describeRef(slot),
        event === finalStored ? { k: 'stored', message: finalRead!.storedMessage(conv, seq) } : event,
      ],
    }));
  };

  const slotOf = (conv: string, seq: number): number => messages.intern(ids.conv(conv), seq);

  const messageClaim = (
    slot: number,
    source: Source,
    at: number,
    device: number,
    message: Message,
  ): Claim => ({
    source,
    at,
    device,
    from: recentSenders.hash(slot, message.from),
    cmid: recentCmids.hash(slot, message.cmid),
    body: recentBodies.hash(slot, message.body),
  });

  // protocol.md's message: from, cmid and body strings, ts a number of ms. A store that served one of
  // another shape (a log record a correct writer never writes, taken by its recovery) is caught here
  // whatever the other claims say (a ts is compared with none).
  const misshapen = (event: HistoryEventOf<'durable' | 'display'>): void => {
    const { message } = event;
    const bad: ('from' | 'cmid' | 'body' | 'ts')[] = (['from', 'cmid', 'body'] as const).filter(
      (field) => typeof message[field] !== 'string',
    );
    if (!Number.isFinite(message.ts)) bad.push('ts');
    if (bad.length === 0) return;
    witness.add(`${event.k} of a malformed message`, () => ({
      problem: `${event.k} of ${message.conv}#${message.seq} has a ${bad.join(', ')} of the wrong type: ${JSON.stringify(bad.map((field) => String(message[field])))}`,
      path: [event],
    }));
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    switch (event.k) {
      case 'durable': {
        misshapen(event);
        const slot = slotOf(event.message.conv, event.message.seq);
        return judge(slot, messageClaim(slot, 'durable', event.at, -1, event.message), event);
      }
      case 'display': {
        misshapen(event);
        const slot = slotOf(event.message.conv, event.message.seq);
        const device = ids.device(event.user, event.device);
        return judge(slot, messageClaim(slot, 'display', event.at, device, event.message), event);
      }
      case 'send': {
        sends++;
        if (pendingSends.size >= limits.pendingSendsMax)
          pendingSends.delete(pendingSends.keys().next().value!);
        pendingSends.set(keyText(event.user, event.conv, event.cmid), hash32(event.body));
        return;
      }
      case 'failed':
        pendingSends.delete(keyText(event.user, event.conv, event.cmid));
        return;
      case 'ack': {
        const key = keyText(event.user, event.conv, event.cmid);
        const body = pendingSends.get(key);
        pendingSends.delete(key);
        const device = ids.device(event.user, event.device);
        const from = ids.user(event.user);
        const claim = { source: 'ack' as const, at: event.at, device, from, cmid: hash32(event.cmid), body };
        return judge(slotOf(event.conv, event.seq), claim, event);
      }
    }
  };

  const judgeStore = (final: FinalState): void => {
    finalRead = final;
    for (let slot = 0; slot < messages.size; slot++) {
      const stored = storedDigest(final, ids.convName(messages.keyA(slot)), messages.keyB(slot));
      if (stored === undefined) continue;
      const claim = {
        source: 'stored' as const,
        at: final.at,
        device: -1,
        from: recentSenders.hash(slot, stored.from),
        cmid: stored.cmid,
        body: stored.body,
      };
      judge(slot, claim, finalStored);
    }
  };

  const checkpoint = (read: StoreRead): void => {
    const drop = new Uint8Array(messages.size);
    for (let slot = 0; slot < messages.size; slot++) {
      const convId = messages.keyA(slot);
      const seq = messages.keyB(slot);
      const stored = read.conversations.get(ids.convName(convId))?.get(seq);
      if (stored === undefined) continue;
      // What the final read would be compared on: what the record knew before the store completed it.
      const flags = known.get(slot);
      judge(slot, messageClaim(slot, 'stored', read.at, -1, stored), {
        k: 'stored',
        at: read.at,
        message: stored,
      });
      if ((flags & knowsId) !== 0) readBack.fold(convId, seq, 0, identityHash(stored), read.at);
      if ((flags & knowsBody) !== 0) readBack.fold(convId, seq, 1, hash32(stored.body), read.at);
      drop[slot] = 1;
      dropped++;
    }
    const moves = messages.retain((slot) => drop[slot] === 0);
    for (const column of [known, from, cmidHash, bodyHash, refSource, refAt, refDevice])
      column.compact(moves);
  };

  // A block of seqs that lost one cannot say whether its others changed: the loss alone is no
  // disagreement (as at the end, where a seq the store lacks is not compared), durable-ack judges it.
  const readBackDiffers = (final: FinalState, lane: number, mismatch: ReadBackMismatch): void => {
    if (mismatch.changed !== true) return;
    const conv = ids.convName(mismatch.conv);
    const what = lane === 0 ? 'from+cmid' : 'body';
    witness.add(`stored disagreeing on ${what}`, () => ({
      problem: `stored of a seq of ${conv} in ${mismatch.lo}..${mismatch.hi} differs in ${what} from the store's read at ${Math.round(mismatch.readAt)} ms (judged then against every claim before it)`,
      path: [
        { k: 'read-back', at: mismatch.readAt, conv, seqs: [mismatch.lo, mismatch.hi] },
        { k: 'stored', at: final.at, conv, seqs: [mismatch.lo, mismatch.hi] },
      ],
    }));
  };

  return {
    property: agreementProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    checkpoint,
    finish(final: FinalState): CheckResult {
      const recorded = messages.size + dropped;
      judgeStore(final);
      for (const lane of [0, 1])
        readBack.verify(
          lane,
          (conv, seq) => {
            const stored = storedDigest(final, ids.convName(conv), seq);
            if (stored === undefined) return undefined;
            return lane === 0 ? stored.identity : stored.body;
          },
          (mismatch) => readBackDiffers(final, lane, mismatch),
        );
      return coveredResult(
        witness,
        agreementProperty,
        `${claims} claims about ${recorded} (conv, seq), the store's included`,
        {
          judged: claims,
          judgedWhat: 'claims (acks, displays, stored messages)',
          done: sends,
          doneWhat: 'sends',
        },
      );
    },
  };
}
