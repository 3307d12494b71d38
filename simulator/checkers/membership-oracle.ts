// Who may read which seq, and who is a member when, derived only from what the harness did and saw
// (Jepsen-style): the conversations it created, the membership changes it requested and when their
// answers came back, and the seqs it saw (acks, displays, frames). A change takes effect at one cut
// in the conversation's seq order: after every seq the harness saw before sending the request (`lo`),
// before every message first sent after the answer came back (`hi` + 1). Seqs between are ambiguous:
// either side is allowed, nothing outside. The server's own claim (the lastSeq in its answer) pins the
// cut only when it lies inside [lo, hi]; a claim outside is reported (`inconsistentClaims`).
// Answers: 'yes', 'no' or 'maybe'. Possibilities only shrink as the stream goes on (lo is fixed when the
// request is sent, hi only falls, a pending change only resolves), so a 'yes' or 'no' is final and
// only a 'maybe' needs judging again at the end. Every checker of a run may share one oracle: it
// ignores an event it has just seen.

import type { HistoryEvent, HistoryKind } from '../history.ts';
import { int32Column, uint8Column } from './column.ts';
import type { IdTable } from './id-table.ts';
import { SlotTable } from './slot-table.ts';

export type Tri = 'yes' | 'no' | 'maybe';

export type ChangeStatus = 'pending' | 'applied' | 'refused' | 'unknown';

/** What judging a pair by time needs of a change: when it was sent and answered, and how. */
export type ChangeTimes = { readonly sentAt: number; answeredAt: number; status: ChangeStatus };

/** One membership request of the harness, and what bounds the cut where it took effect. */
export type MembershipChange = {
  readonly id: number;
  readonly conv: string;
  readonly add: readonly string[];
  readonly remove: readonly string[];
  readonly sentAt: number;
  /** NaN until the answer came back. */
  answeredAt: number;
  status: ChangeStatus;
  /** The highest seq the harness saw before sending the request: the cut is at or after it. */
  readonly lo: number;
  /** One below the lowest seq of a message first sent after the answer: the cut is at or before it. */
  hi: number;
  /** The lastSeq the server's answer named, if any. */
  claim: number | undefined;
};

type PairChange = { change: MembershipChange; add: boolean };
/** One user's side of a change: added or removed by it. */
export type PairChangeOf<C extends ChangeTimes> = { change: C; add: boolean };
type Relation = 'before' | 'after' | 'maybe';

/** Extra time after a removal's answer during which frames already in flight may still arrive. */
export type RemovalGrace = (change: MembershipChange) => number;

const noGrace: RemovalGrace = () => 0;

/** The kinds of event `MembershipOracle.observe` reads: a checker that feeds it declares them too. */
export const membershipKinds = [
  'conv',
  'members-sent',
  'members-answered',
  'ack',
  'display',
  'conv-frame',
] as const satisfies readonly HistoryKind[];

export class MembershipOracle {
  private readonly pairs = new SlotTable();
  /** Per (conv, user) slot: 1 if a member from the conversation's creation. */
  private readonly initial = uint8Column();
  /** Per slot: 1 if the pair has changes (saves a Map lookup on the hot path). */
  private readonly changed = uint8Column();
  private readonly pairChanges = new Map<number, PairChange[]>();
  /** Per conv id: the highest seq the harness saw. */
  private readonly maxSeen = int32Column(0);
  private readonly convChanges = new Map<number, MembershipChange[]>();
  private readonly byId = new Map<number, MembershipChange>();
  private readonly all: MembershipChange[] = [];
  private last: HistoryEvent | undefined;

  constructor(private readonly ids: IdTable) {}

  observe(event: HistoryEvent): void {
    if (event === this.last) return;
    this.last = event;
    switch (event.k) {
      case 'conv': {
        const conv = this.ids.conv(event.conv);
        for (const user of event.members) this.initial.set(this.pairs.intern(conv, this.ids.user(user)), 1);
        return;
      }
      case 'members-sent':
        return this.sent(event);
      case 'members-answered': {
        const change = this.byId.get(event.id);
        if (change === undefined || change.status !== 'pending') return;
        change.answeredAt = event.at;
        change.status = answeredStatus(event.status);
        change.claim = event.lastSeq;
        return;
      }
      case 'ack':
        this.saw(event.conv, event.seq);
        return this.sentAfter(event.conv, event.sentAt, event.seq);
      case 'display':
        return this.saw(event.message.conv, event.message.seq);
      case 'conv-frame':
        if (event.seqs !== undefined) for (const seq of event.seqs) this.saw(event.conv, seq);
        return;
    }
  }

  /** Whether the user may read seq of conv: a member at the cut that seq falls after. */
  readable(conv: string, user: string, seq: number): Tri {
    const slot = this.pairs.find(this.ids.conv(conv), this.ids.user(user));
    if (slot < 0) return 'no';
    if (this.changed.get(slot) === 0) return this.initial.get(slot) === 1 ? 'yes' : 'no';
    return this.stateAtSeq(slot, seq);
  }

  /**
   * Whether the user may know `seq` as the conversation's newest when it joined: an add of the user,
   * carried out (or maybe), whose cut is at or past it. A joining member's cursors start at the join,
   * and a welcome names them and the lastSeq, so a user added and removed again with no message between
   * (a membership span of no seq) may be told the seq before that span, which it may not read.
   */
  knownAtJoin(conv: string, user: string, seq: number): Tri {
    const slot = this.pairs.find(this.ids.conv(conv), this.ids.user(user));
    if (slot < 0 || this.changed.get(slot) === 0) return 'no';
    let verdict: Tri = 'no';
    for (const { change, add } of this.pairChanges.get(slot)!) {
      if (!add || change.status === 'refused') continue;
      if (change.status === 'applied' && seq <= change.lo) return 'yes';
      if (seq <= change.hi) verdict = 'maybe';
    }
    return verdict;
  }

  // Apart from readable and memberAt, called per frame: a closure there would make every call allocate
  // a context for what it captures, changed pair or not.
  private stateAtSeq(slot: number, seq: number): Tri {
    return this.stateOf(slot, (change) => relationToSeq(change, seq));
  }

  private stateAtTime(slot: number, at: number, grace: RemovalGrace): Tri {
    return this.stateOf(slot, (change, add) => relationToTime(change, at, add ? 0 : grace(change)));
  }

  /**
   * Whether the user is a member at time `at`, counting a removal only `grace(change)` ms after its
   * answer came back (frames already in flight may arrive until then).
   */
  memberAt(conv: string, user: string, at: number, grace: RemovalGrace = noGrace): Tri {
    const slot = this.pairs.find(this.ids.conv(conv), this.ids.user(user));
    if (slot < 0) return 'no';
    if (this.changed.get(slot) === 0) return this.initial.get(slot) === 1 ? 'yes' : 'no';
    return this.stateAtTime(slot, at, grace);
  }

  /**
   * Whether the user was surely a member at every moment from `from` to `to`: every add it needed
   * answered by `from`, and no removal sent by `to` that was not answered by `from`. "By", not
   * "before": `from` is when a device acted, and a device acting at the instant an answer came back
   * acted on it (the simulator opens a conversation at the very time its add is answered).
   */
  surelyMemberThroughout(conv: string, user: string, from: number, to: number): boolean {
    const slot = this.pairs.find(this.ids.conv(conv), this.ids.user(user));
    if (slot < 0) return false;
    if (this.changed.get(slot) === 0) return this.initial.get(slot) === 1;
    return surelyMemberThroughoutOf(this.pairChanges.get(slot)!, this.initial.get(slot) === 1, from, to);
  }

  /**
   * The other side of surelyMemberThroughout: whether the user was surely no member at every moment
   * from `from` to `to`: the removal it needed answered by `from`, and no add sent by `to` that was not
   * answered (refused) by `from`.
   */
  surelyOutThroughout(conv: string, user: string, from: number, to: number): boolean {
    const slot = this.pairs.find(this.ids.conv(conv), this.ids.user(user));
    if (slot < 0) return true;
    if (this.changed.get(slot) === 0) return this.initial.get(slot) === 0;
    return surelyOutThroughoutOf(this.pairChanges.get(slot)!, this.initial.get(slot) === 1, from, to);
  }

  /** Whether the harness ever asked to change the user's membership of conv. */
  hasChanges(conv: string, user: string): boolean {
    const slot = this.pairs.find(this.ids.conv(conv), this.ids.user(user));
    return slot >= 0 && this.changed.get(slot) === 1;
  }

  /** The seq ranges (inclusive, ascending) up to lastSeq the user surely may read: every one must reach it. */
  surelyReadable(conv: string, user: string, lastSeq: number): [number, number][] {
    return this.surelyReadableAt(this.pairs.find(this.ids.conv(conv), this.ids.user(user)), lastSeq);
  }

  /** surelyReadable of the pair at `slot` (as forEachPairId gives it; -1: no pair). */
  surelyReadableAt(slot: number, lastSeq: number): [number, number][] {
    if (slot < 0 || lastSeq < 1) return [];
    if (this.changed.get(slot) === 0) return this.initial.get(slot) === 1 ? [[1, lastSeq]] : [];
    // The answer changes only where some change's relation to the seq does: at lo + 1 and hi + 1.
    const starts = new Set<number>([1]);
    for (const { change } of this.pairChanges.get(slot)!) {
      const [lo, hi] = cutOf(change);
      if (lo + 1 <= lastSeq) starts.add(Math.max(1, lo + 1));
      if (hi + 1 <= lastSeq) starts.add(Math.max(1, hi + 1));
    }
    const sorted = [...starts].sort((a, b) => a - b);
    const ranges: [number, number][] = [];
    sorted.forEach((start, i) => {
      const end = i + 1 < sorted.length ? sorted[i + 1]! - 1 : lastSeq;
      if (this.stateOf(slot, (change) => relationToSeq(change, start)) !== 'yes') return;
      const previous = ranges.at(-1);
      if (previous !== undefined && previous[1] === start - 1) previous[1] = end;
      else ranges.push([start, end]);
    });
    return ranges;
  }

  /** Whether some seq in lo..hi is one the user surely may read. */
  surelyReadableIn(conv: string, user: string, lo: number, hi: number): boolean {
    return this.surelyReadable(conv, user, hi).some(([from, to]) => to >= lo && from <= hi);
  }

  /**
   * Every (conv, user) the harness ever made or asked to make a member, by ids, with the pair's slot for
   * surelyReadableAt: a final judgement over every pair looks none of them up again by name.
   */
  forEachPair(visit: (convId: number, userId: number, slot: number) => void): void {
    for (let slot = 0; slot < this.pairs.size; slot++)
      visit(this.pairs.keyA(slot), this.pairs.keyB(slot), slot);
  }

  /** What the harness knows of a user's membership of conv, for a witness. */
  describe(conv: string, user: string): unknown {
    const slot = this.pairs.find(this.ids.conv(conv), this.ids.user(user));
    if (slot < 0) return { conv, user, member: 'never' };
    const changes = (this.pairChanges.get(slot) ?? []).map(({ change, add }) => ({
      [add ? 'add' : 'remove']: user,
      sentAt: change.sentAt,
      answeredAt: change.answeredAt,
      status: change.status,
      cutBetween: [change.lo, change.hi],
      ...(change.claim === undefined ? {} : { serverSaid: change.claim }),
    }));
    return { conv, user, fromCreation: this.initial.get(slot) === 1, changes };
  }

  /** Changes whose answer named a lastSeq outside what the harness saw: the server's claim is false. */
  inconsistentClaims(): MembershipChange[] {
    return this.all.filter(
      (change) => change.claim !== undefined && (change.claim < change.lo || change.claim > change.hi),
    );
  }

  get changeCount(): number {
    return this.all.length;
  }

  private sent(event: Extract<HistoryEvent, { k: 'members-sent' }>): void {
    const convId = this.ids.conv(event.conv);
    const change: MembershipChange = {
      id: event.id,
      conv: event.conv,
      add: event.add,
      remove: event.remove,
      sentAt: event.at,
      answeredAt: Number.NaN,
      status: 'pending',
      lo: this.maxSeen.get(convId),
      hi: Number.POSITIVE_INFINITY,
      claim: undefined,
    };
    this.byId.set(event.id, change);
    this.all.push(change);
    const list = this.convChanges.get(convId) ?? [];
    list.push(change);
    this.convChanges.set(convId, list);
    const attach = (user: string, add: boolean): void => {
      const slot = this.pairs.intern(convId, this.ids.user(user));
      this.changed.set(slot, 1);
      const changes = this.pairChanges.get(slot) ?? [];
      changes.push({ change, add });
      this.pairChanges.set(slot, changes);
    };
    for (const user of event.remove) attach(user, false);
    for (const user of event.add) attach(user, true);
  }

  /** The newest seq of conv the harness has seen (acked, shown, or named by a frame): it exists. */
  newestSeen(conv: string): number {
    return this.maxSeen.get(this.ids.conv(conv));
  }

  private saw(conv: string, seq: number): void {
    const convId = this.ids.conv(conv);
    if (seq > this.maxSeen.get(convId)) this.maxSeen.set(convId, seq);
  }

  /** A message first sent at `sentAt` got `seq`: every change answered before then took effect below it. */
  private sentAfter(conv: string, sentAt: number, seq: number): void {
    const changes = this.convChanges.get(this.ids.conv(conv));
    if (changes === undefined) return;
    for (let i = changes.length - 1; i >= 0; i--) {
      const change = changes[i]!;
      if (!(change.answeredAt < sentAt)) continue;
      // Cuts are ordered like the requests, so an earlier change's bound is already at most this one's.
      if (change.hi <= seq - 1) return;
      change.hi = seq - 1;
    }
  }

  /**
   * The user's state at a point, given each change's relation to it: walking back from the newest
   * change, each one that may be before the point may be the last applied; one surely before and
   * surely applied hides everything older.
   */
  private stateOf(slot: number, relation: (change: MembershipChange, add: boolean) => Relation): Tri {
    return stateOfChanges(this.pairChanges.get(slot)!, this.initial.get(slot) === 1, relation);
  }
}

/**
 * Whether the user was surely a member at every moment from `from` to `to`, from the pair's changes in
 * request order and whether it was a member from the conversation's creation (see the method).
 */
export function surelyMemberThroughoutOf<C extends ChangeTimes>(
  changes: readonly PairChangeOf<C>[],
  initialMember: boolean,
  from: number,
  to: number,
): boolean {
  return surelyThroughoutOf(changes, initialMember, from, to, true);
}

/** Whether the user was surely no member at every moment from `from` to `to` (see the method). */
export function surelyOutThroughoutOf<C extends ChangeTimes>(
  changes: readonly PairChangeOf<C>[],
  initialMember: boolean,
  from: number,
  to: number,
): boolean {
  return surelyThroughoutOf(changes, initialMember, from, to, false);
}

/**
 * Whether the user was surely `member` (or surely not) from `from` to `to`: the state surely so at
 * `from`, and no change the other way sent by `to` that was not answered by `from`.
 */
function surelyThroughoutOf<C extends ChangeTimes>(
  changes: readonly PairChangeOf<C>[],
  initialMember: boolean,
  from: number,
  to: number,
  member: boolean,
): boolean {
  const byFrom = (change: C): Relation =>
    change.sentAt > from ? 'after' : change.answeredAt <= from ? 'before' : 'maybe';
  if (stateOfChanges(changes, initialMember, byFrom) !== (member ? 'yes' : 'no')) return false;
  for (const { change, add } of changes)
    if (add !== member && change.status !== 'refused' && change.sentAt <= to && !(change.answeredAt <= from))
      return false;
  return true;
}

/** The status a change's answer gives it: 2xx applied, 4xx refused (nothing changed), else unknown. */
export function answeredStatus(status: number): ChangeStatus {
  return status >= 200 && status < 300 ? 'applied' : status >= 400 && status < 500 ? 'refused' : 'unknown';
}

function stateOfChanges<C extends ChangeTimes>(
  changes: readonly PairChangeOf<C>[],
  initialMember: boolean,
  relation: (change: C, add: boolean) => Relation,
): Tri {
  let canBeIn = false;
  let canBeOut = false;
  for (let i = changes.length - 1; i >= 0; i--) {
    const { change, add } = changes[i]!;
    if (change.status === 'refused') continue;
    const where = relation(change, add);
    if (where === 'after') continue;
    if (add) canBeIn = true;
    else canBeOut = true;
    if (where === 'before' && change.status === 'applied') return tri(canBeIn, canBeOut);
  }
  if (initialMember) canBeIn = true;
  else canBeOut = true;
  return tri(canBeIn, canBeOut);
}

function tri(canBeIn: boolean, canBeOut: boolean): Tri {
  return canBeIn && canBeOut ? 'maybe' : canBeIn ? 'yes' : 'no';
}

/** [lo, hi] bounds of the cut; the server's claim pins it when the claim is consistent. */
function cutOf(change: MembershipChange): [number, number] {
  const { claim, lo, hi } = change;
  return claim !== undefined && claim >= lo && claim <= hi ? [claim, claim] : [lo, hi];
}

function relationToSeq(change: MembershipChange, seq: number): Relation {
  const [lo, hi] = cutOf(change);
  return seq <= lo ? 'after' : seq > hi ? 'before' : 'maybe';
}

function relationToTime(change: MembershipChange, at: number, graceMs: number): Relation {
  if (change.sentAt > at) return 'after';
  return change.answeredAt + graceMs < at ? 'before' : 'maybe';
}
