// A node's view of one conversation: who may read which seqs (membership spans), who is a member now,
// lastSeq, cursors and typing throttles. The store is the truth; this is rebuilt from its records and
// moved forward by store results and bus events, never backwards.

import type { ConvId, Message, UserId } from '../protocol/frames.ts';
import type {
  ConversationKind,
  ConversationRecord,
  Cursors,
  MembershipSpan,
} from '../store/message-store.ts';
import { membersVersionOf } from '../store/message-store.ts';
import { coreLimits } from './limits.ts';
import type { SmallSet } from './small-set.ts';

/**
 * The current members' connection records (fanout.ts's `UserConns`, the node's, one per user) and the
 * first seq each may read, in `current`'s order.
 */
export type MemberRecords = {
  readonly records: readonly { readonly id: UserId; readonly conns: SmallSet<number> | null }[];
  readonly from: readonly number[];
};

/** A member's cursor that moved forward: what a `receipt` tells. */
export type CursorMove = { user: UserId; kind: CursorKind; seq: number };
type CursorKind = 'delivered' | 'read';
const cursorKinds: readonly CursorKind[] = ['delivered', 'read'];

/**
 * The seqs a user may read after a point: `after` < seq <= `upper`, then maybe a later span.
 * `horizon` is the newest seq the user may know of: unbounded for a current member, the end of the
 * last span for a removed one (lastSeq past it would tell a non-member the conversation moved on).
 */
export type ReadWindow = { after: number; upper: number; nextSpanFrom: number | null; horizon: number };

export class Conversation {
  readonly id: ConvId;
  readonly kind: ConversationKind;
  lastSeq: number;
  /** Current members -> first seq they may read in their current span. */
  current: Map<UserId, number>;
  /**
   * Every user who ever was a member, with the spans they may read, in the record's order; null while
   * every one of them is a current member with one span (from `current`'s seq on), which `current` alone
   * tells: a ten-member group's ten one-span lists and their Map were about 1.4 KB, 140 MB at a million
   * users (docs/benchmarks.md).
   */
  private spans: Map<UserId, MembershipSpan[]> | null = null;
  /** Cursors moved past 0, made at the first (an empty Map is about 150 bytes, and most groups of a scale run never move one). */
  private cursors: Map<UserId, Cursors> | null = null;
  /** Fan-out's copy of `current` with each member's connection record (fanout.ts); null until asked, and again whenever `current` is replaced. */
  fanout: MemberRecords | null = null;
  /** When each member's last `typing` was relayed, for the throttle. */
  typingRelayedAt: Map<UserId, number> | null = null;
  /** A coalesced `notify` is scheduled (large groups). */
  notifyScheduled = false;
  /**
   * Every seq up to this one was pushed by this node (or needed no push from it); seqs above it that
   * were pushed wait in `pushedAbove`. lastSeq past it means the node missed seqs (a lost or late
   * bus event) and must read them from the store.
   */
  pushedThrough: number;
  private pushedAbove: Set<number> | null = null;
  /**
   * Seqs this node pushed from a store read (a gap fill) with no `msg` heard for them on the bus: maybe
   * no node ever published them (their sequencer's store reply was lost). A duplicate append of one is
   * read back and published (ChatNode.appended). Bounded by `coreLimits.unheardSeqsPerConvMax`, the
   * oldest dropped first: a client gives up a send long before that many newer seqs are filled.
   */
  private unheard: Set<number> | null = null;
  /** A check for missed seqs is scheduled or its read is in flight. */
  gapCheckPending = false;
  /** The membership version applied (`membersVersionOf`): a record of a lower one is older. */
  private appliedWeight = -1;

  /**
   * Empty until `takeRecord`. `pushedThrough` is where this node starts to owe pushes: the record's
   * lastSeq for what it loaded at start.
   */
  constructor(id: ConvId, kind: ConversationKind, pushedThrough: number) {
    this.id = id;
    this.kind = kind;
    this.lastSeq = 0;
    this.pushedThrough = pushedThrough;
    this.current = new Map();
  }

  /** The membership version this node holds (`AppendResult.membersVersion`). */
  get membersVersion(): number {
    return this.appliedWeight;
  }

  /**
   * Pushes held while this node reads a newer membership than it holds (a message was decided under a
   * membership change it has not heard of); null when none are held.
   */
  heldPushes: { message: Message; exclude: number | null }[] | null = null;
  /** The record read for `heldPushes` is in flight. */
  membersReadPending = false;
  /**
   * Receipts held with the pushes: a cursor past the seqs this node has seen, or one that came while
   * pushes are held, tells of a seq whose membership this node does not know yet.
   */
  heldReceipts: (CursorMove & { skipConn: number | null })[] = [];

  /** Whether `seq` was pushed by this node already. */
  wasPushed(seq: number): boolean {
    return seq <= this.pushedThrough || (this.pushedAbove?.has(seq) ?? false);
  }

  markPushed(seq: number): void {
    if (seq <= this.pushedThrough) return;
    if (seq > this.pushedThrough + 1) {
      this.pushedAbove ??= new Set();
      this.pushedAbove.add(seq);
      return;
    }
    this.pushedThrough = seq;
    const above = this.pushedAbove;
    if (above === null) return;
    while (above.delete(this.pushedThrough + 1)) this.pushedThrough++;
    if (above.size === 0) this.pushedAbove = null;
  }

  /**
   * Whether this node sequenced `seq`, heard it on the bus or published it: some node told the others.
   * A seq it only learned from the store (a record's lastSeq, a cursor, a gap fill) may be unannounced.
   */
  wasHeard(seq: number): boolean {
    return this.wasPushed(seq) && !(this.unheard?.has(seq) ?? false);
  }

  /** A seq pushed from a store read, none of whose `msg` was heard (see `unheard`). */
  markUnheard(seq: number): void {
    this.unheard ??= new Set();
    this.unheard.add(seq);
    if (this.unheard.size <= coreLimits.unheardSeqsPerConvMax) return;
    for (const oldest of this.unheard) {
      this.unheard.delete(oldest);
      break;
    }
  }

  /** `seq`'s `msg` was heard on the bus or published by this node. */
  markHeard(seq: number): void {
    if (this.unheard === null || !this.unheard.delete(seq)) return;
    if (this.unheard.size === 0) this.unheard = null;
  }

  /** Counts everything up to `seq` as pushed (a notify covers it, or the store has nothing more to give). */
  markPushedThrough(seq: number): void {
    if (seq <= this.pushedThrough) return;
    this.pushedThrough = seq;
    if (this.pushedAbove === null) return;
    for (const pushed of this.pushedAbove) if (pushed <= seq) this.pushedAbove.delete(pushed);
    this.markPushed(seq);
  }

  /** Seqs up to lastSeq that this node has not pushed exist. */
  get behind(): boolean {
    return this.lastSeq > this.pushedThrough;
  }

  /**
   * Takes lastSeq, cursors and membership from a record; lastSeq and cursors only move forward, and
   * membership is taken only from a record at least as new as the one applied (records from the bus
   * and from a catch-up read may arrive out of order). Returns the cursors it moved: news that this
   * node's devices have not heard, since the bus `receipt` for it will now find nothing moved.
   */
  takeRecord(record: ConversationRecord): CursorMove[] {
    this.lastSeq = Math.max(this.lastSeq, record.lastSeq);
    const moved: CursorMove[] = [];
    for (const [user, cursors] of Object.entries(record.cursors))
      for (const kind of cursorKinds)
        if (this.advanceCursor(user, kind, cursors[kind])) moved.push({ user, kind, seq: cursors[kind] });
    this.replaceMembership(record);
    return moved;
  }

  private replaceMembership(record: ConversationRecord): void {
    const weight = membersVersionOf(record);
    if (weight < this.appliedWeight) return;
    this.appliedWeight = weight;
    this.current = new Map();
    this.spans = null;
    this.fanout = null;
    const members = Object.entries(record.members);
    for (const [user, spans] of members) {
      const last = spans[spans.length - 1];
      if (last !== undefined && last.to === null) this.current.set(user, last.from);
    }
    if (members.every(([, spans]) => spans.length === 1 && spans[0]!.to === null)) return;
    this.spans = new Map();
    for (const [user, spans] of members)
      this.spans.set(
        user,
        spans.map((span) => ({ from: span.from, to: span.to })),
      );
  }

  isMember(user: UserId): boolean {
    return this.current.has(user);
  }

  get memberCount(): number {
    return this.current.size;
  }

  /** Someone was a member and is no longer. */
  get hasPastMembers(): boolean {
    return this.spans !== null && this.spans.size > this.current.size;
  }

  /** Users who were members and are no longer, in the record's order. */
  *pastMembers(): Iterable<UserId> {
    if (this.spans === null) return;
    for (const user of this.spans.keys()) if (!this.current.has(user)) yield user;
  }

  /** Every user who ever was a member and the first seq of their first span, in the record's order. */
  *everMembers(): Iterable<[UserId, number]> {
    if (this.spans === null) yield* this.current;
    else for (const [user, spans] of this.spans) yield [user, spans[0]?.from ?? 1];
  }

  /** The spans `user` may read (a current member with one span: [from, open), made here). */
  private spansOf(user: UserId): readonly MembershipSpan[] | undefined {
    if (this.spans !== null) return this.spans.get(user);
    const from = this.current.get(user);
    return from === undefined ? undefined : [{ from, to: null }];
  }

  /** Whether `user` was a member when `seq` was sequenced. */
  canRead(user: UserId, seq: number): boolean {
    if (this.spans === null) {
      const from = this.current.get(user);
      return from !== undefined && seq >= from;
    }
    const spans = this.spans.get(user);
    if (spans === undefined) return false;
    for (const span of spans) if (seq >= span.from && (span.to === null || seq <= span.to)) return true;
    return false;
  }

  /**
   * The first readable stretch after `after`, or null when the user may read nothing there. A span that
   * holds nothing past `after` is passed over, an empty one too (added and removed again with no message
   * between: from 9 to 8): a window cut from it would answer an empty page saying `more`, and a client
   * asking again from the same `after` would get that page forever.
   */
  readWindow(user: UserId, after: number): ReadWindow | null {
    const spans = this.spansOf(user);
    if (spans === undefined || spans.length === 0) return null;
    const horizon = spans[spans.length - 1]!.to ?? Number.POSITIVE_INFINITY;
    for (let i = 0; i < spans.length; i++) {
      const span = spans[i]!;
      const upper = span.to ?? Number.POSITIVE_INFINITY;
      if (upper <= Math.max(after, span.from - 1)) continue;
      let next = spans[i + 1];
      for (let j = i + 2; next !== undefined && next.to !== null && next.to < next.from; j++) next = spans[j];
      return { after: Math.max(after, span.from - 1), upper, nextSpanFrom: next ? next.from : null, horizon };
    }
    // Nothing readable past `after`; answer with an empty window at the end of the last span (past the
    // end of an empty last span too: its seqs before `to` were sequenced while the user was away).
    return { after: Math.max(after, horizon), upper: horizon, nextSpanFrom: null, horizon };
  }

  cursorOf(user: UserId): Cursors {
    return this.cursors?.get(user) ?? { delivered: 0, read: 0 };
  }

  /** Moves a cursor forward (never back); returns whether it moved. */
  advanceCursor(user: UserId, kind: CursorKind, seq: number): boolean {
    let cursors = this.cursors?.get(user);
    if (cursors === undefined) {
      // An absent cursor reads as 0 (cursorOf): a record's zero cursors make no entry (a member who
      // never moved one costs nothing: 100,000 such entries in `million` at 100k clients).
      if (seq <= 0) return false;
      cursors = { delivered: 0, read: 0 };
      this.cursors ??= new Map();
      this.cursors.set(user, cursors);
    }
    if (seq <= cursors[kind]) return false;
    cursors[kind] = seq;
    // The store clamps cursors to its lastSeq, so a cursor proves the conversation got that far even
    // when the message itself has not reached this node (its sequencer died before publishing it).
    if (seq > this.lastSeq) this.lastSeq = seq;
    return true;
  }
}

/**
 * A read's window as this node knows the membership when the store answers (it only moves forward): a
 * removal it learned while the read was in flight ends the span the window was cut from (swarm seed
 * 37193085211434: u111's resume read was asked before its removal was answered here, and came back with
 * the seq sequenced after it; fleet-races seed 5 at 200 clients: u16's HTTP read on node 2, just
 * restarted from a record read before the removal); a re-add made through another node, learned from the
 * record read for a read answered under it, opens the new span. The store read from the asked `after`
 * covers the window: it starts no earlier.
 */
export function windowNow(conv: Conversation | undefined, user: UserId, asked: ReadWindow): ReadWindow {
  return conv?.readWindow(user, asked.after) ?? asked;
}

/**
 * One page of a read (sync, resume, HTTP): the store's messages clipped to the window, lastSeq up to
 * the reader's horizon, and `more` when the window or a later span holds more.
 */
export function readPage(
  window: ReadWindow,
  limit: number,
  messages: readonly Message[],
  storeLastSeq: number,
): { msgs: Message[]; lastSeq: number; more: boolean } {
  const msgs: Message[] = [];
  for (const m of messages) if (m.seq > window.after && m.seq <= window.upper) msgs.push(m);
  const readableEnd = Math.min(window.upper, storeLastSeq);
  const lastReturned = msgs.length > 0 ? msgs[msgs.length - 1]!.seq : window.after;
  const more =
    (lastReturned < readableEnd && messages.length >= limit) ||
    (window.nextSpanFrom !== null && window.nextSpanFrom <= storeLastSeq);
  return { msgs, lastSeq: Math.min(window.horizon, storeLastSeq), more };
}
