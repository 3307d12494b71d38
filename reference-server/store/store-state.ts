// The deterministic heart of every store: conversations (kind, membership spans, lastSeq, cursors) and
// the idempotency index (sender, conv, cmid) -> seq, ts. Bodies live elsewhere. The same decisions are
// taken live and when replaying a log, so the memory, log and simulated stores cannot disagree.
// Invariants: seqs are 1..lastSeq gap-free; one seq per key forever; cursors never move back.

import type { ConvId, UserId } from '../protocol/frames.ts';
import type {
  AppendRequest,
  AppendResult,
  ConversationKind,
  ConversationRecord,
  CreateRequest,
  CreateResult,
  CursorRequest,
  CursorResult,
  Cursors,
  MembershipSpan,
  MembersRequest,
  MembersResult,
} from './message-store.ts';
import { membersVersionOf } from './message-store.ts';

type ConvState = {
  id: ConvId;
  kind: ConversationKind;
  lastSeq: number;
  /**
   * Each member's spans and cursors in one entry (two Maps of ten a group were 0.9 KB of hash tables,
   * docs/benchmarks.md). Entries are replaced, never changed in place (one may be `memberFromStart`,
   * shared). A record whose cursors name users its members do not, or in another order, keeps the
   * cursors apart in `cursorsApart` (not one this class makes: it adds both together).
   */
  members: Map<UserId, Member>;
  cursorsApart: Map<UserId, Readonly<Cursors>> | null;
  /** `from + '\u0000' + cmid` -> seq; insertion order is seq order (entries are never removed). */
  seqByKey: Map<string, number>;
  /** ts of seq s at index s - 1. */
  tsBySeq: number[];
  /** See `AppendResult.membersVersion`: the span bounds set so far. */
  membersVersion: number;
};

/** One idempotency-index entry, as a checkpoint carries it. */
export type IndexEntry = { from: UserId; cmid: string; ts: number };

const keySeparator = '\u0000';

/**
 * What most members hold: one span open since seq 1, and cursors at 0. Frozen and shared by every such
 * member of every conversation (an array, a span and a cursors object per member were about 130 bytes,
 * 13 MiB at 100,000 users, docs/benchmarks.md): a change replaces the member's entry with its own, never
 * writes into these.
 */
const memberSinceStart: readonly MembershipSpan[] = Object.freeze([Object.freeze({ from: 1, to: null })]);
const zeroCursors: Readonly<Cursors> = Object.freeze({ delivered: 0, read: 0 });

/** A member's spans and cursors (`cursors` null: kept apart, see `ConvState.cursorsApart`). */
type Member = { readonly spans: readonly MembershipSpan[]; readonly cursors: Readonly<Cursors> | null };
const memberFromStart: Member = Object.freeze({ spans: memberSinceStart, cursors: zeroCursors });

/** What a store's decisions look like from outside, read-only (operators' tools, the simulator). */
export type StoreStateView = Pick<
  StoreState,
  'lastSeq' | 'spansOf' | 'isMember' | 'record' | 'records' | 'heads'
>;

export class StoreState {
  private readonly convs = new Map<ConvId, ConvState>();

  get conversationCount(): number {
    return this.convs.size;
  }

  has(conv: ConvId): boolean {
    return this.convs.has(conv);
  }

  lastSeq(conv: ConvId): number | undefined {
    return this.convs.get(conv)?.lastSeq;
  }

  /** See `AppendResult.membersVersion`. */
  membersVersion(conv: ConvId): number | undefined {
    return this.convs.get(conv)?.membersVersion;
  }

  /** The user's membership spans, read-only and not copied (for hot paths such as the simulator's). */
  spansOf(conv: ConvId, user: UserId): readonly MembershipSpan[] | undefined {
    return this.convs.get(conv)?.members.get(user)?.spans;
  }

  isMember(conv: ConvId, user: UserId): boolean {
    const state = this.convs.get(conv);
    return state !== undefined && isCurrent(state, user);
  }

  /** Decides an append: a new seq, the original seq and ts of a duplicate, or why not. */
  append(request: AppendRequest): AppendResult {
    const state = this.convs.get(request.conv);
    if (state === undefined) return { status: 'not_found' };
    const key = request.from + keySeparator + request.cmid;
    const original = state.seqByKey.get(key);
    if (original !== undefined) {
      return {
        status: 'ok',
        seq: original,
        ts: state.tsBySeq[original - 1]!,
        duplicate: true,
        membersVersion: state.membersVersion,
      };
    }
    // A removed member's retry of an already-sequenced message still gets its ack (above); a new one not.
    if (!isCurrent(state, request.from)) return { status: 'forbidden' };
    const seq = ++state.lastSeq;
    state.seqByKey.set(key, seq);
    state.tsBySeq.push(request.ts);
    return { status: 'ok', seq, ts: request.ts, duplicate: false, membersVersion: state.membersVersion };
  }

  create(request: CreateRequest): CreateResult {
    const existing = this.convs.get(request.id);
    const wanted = new Set(request.members);
    if (existing !== undefined) {
      const same = existing.kind === request.kind && sameCurrentMembers(existing, wanted);
      return { status: same ? 'exists' : 'conflict', conversation: toRecord(existing) };
    }
    const state: ConvState = {
      id: request.id,
      kind: request.kind,
      lastSeq: 0,
      members: new Map(),
      cursorsApart: null,
      seqByKey: new Map(),
      tsBySeq: [],
      membersVersion: wanted.size,
    };
    for (const user of wanted) state.members.set(user, memberFromStart);
    this.convs.set(request.id, state);
    return { status: 'created', conversation: toRecord(state) };
  }

  /**
   * Removals apply first, then additions, each taking effect after the current lastSeq. A joining
   * user's cursors start at the join (nothing earlier is theirs to hold). `changed` tells a durable
   * store whether there is anything to log.
   */
  changeMembers(request: MembersRequest): { result: MembersResult; changed: boolean } {
    const state = this.convs.get(request.conv);
    if (state === undefined) return { result: { status: 'not_found' }, changed: false };
    if (state.kind === 'direct' && request.add.length + request.remove.length > 0) {
      return { result: { status: 'conflict' }, changed: false };
    }
    let changed = false;
    for (const user of request.remove) {
      const member = state.members.get(user);
      const spans = member?.spans;
      const open = spans?.[spans.length - 1];
      if (member === undefined || spans === undefined || open === undefined || open.to !== null) continue;
      state.members.set(user, {
        spans: [...spans.slice(0, -1), { from: open.from, to: state.lastSeq }],
        cursors: member.cursors,
      });
      state.membersVersion++;
      changed = true;
    }
    for (const user of request.add) {
      if (isCurrent(state, user)) continue;
      const from = state.lastSeq + 1;
      const member = state.members.get(user);
      const spans: readonly MembershipSpan[] =
        member === undefined ? [{ from, to: null }] : [...member.spans, { from, to: null }];
      state.membersVersion++;
      const cursors = cursorsOf(state, user, member);
      const joined: Cursors =
        cursors === undefined
          ? { delivered: from - 1, read: from - 1 }
          : { delivered: Math.max(cursors.delivered, from - 1), read: Math.max(cursors.read, from - 1) };
      if (state.cursorsApart === null) state.members.set(user, { spans, cursors: joined });
      else {
        state.members.set(user, { spans, cursors: null });
        state.cursorsApart.set(user, joined);
      }
      changed = true;
    }
    return { result: { status: 'ok', conversation: toRecord(state) }, changed };
  }

  /** The cursor becomes max(old, min(requested, lastSeq)); only current members move theirs. */
  advanceCursor(request: CursorRequest): CursorResult {
    const state = this.convs.get(request.conv);
    if (state === undefined) return { status: 'not_found' };
    if (!isCurrent(state, request.user)) return { status: 'forbidden' };
    const member = state.members.get(request.user)!;
    let cursors = cursorsOf(state, request.user, member);
    if (cursors === undefined) {
      // A member without cursors: only a restored record can hold one, and its cursors are apart.
      cursors = zeroCursors;
      state.cursorsApart!.set(request.user, cursors);
    }
    const old = cursors[request.kind];
    const target = Math.min(request.seq, state.lastSeq);
    if (target <= old) return { status: 'ok', seq: old, moved: false };
    const moved = { ...cursors, [request.kind]: target };
    if (state.cursorsApart === null) state.members.set(request.user, { spans: member.spans, cursors: moved });
    else state.cursorsApart.set(request.user, moved);
    return { status: 'ok', seq: target, moved: true };
  }

  /** A deep copy: callers may keep or change it freely. */
  record(conv: ConvId): ConversationRecord | undefined {
    const state = this.convs.get(conv);
    return state === undefined ? undefined : toRecord(state);
  }

  /** Each conversation's id and lastSeq, in the order `records()` lists them (no copies). */
  heads(): { id: ConvId; lastSeq: number }[] {
    const out: { id: ConvId; lastSeq: number }[] = [];
    for (const state of this.convs.values()) out.push({ id: state.id, lastSeq: state.lastSeq });
    return out;
  }

  /** Every conversation's record, or with `ids` those of them that exist (deep copies). */
  records(ids?: readonly ConvId[]): ConversationRecord[] {
    const out: ConversationRecord[] = [];
    if (ids !== undefined) {
      for (const id of ids) {
        const state = this.convs.get(id);
        if (state !== undefined) out.push(toRecord(state));
      }
      return out;
    }
    for (const state of this.convs.values()) out.push(toRecord(state));
    return out;
  }

  /** Index entries for seqs 1..uptoSeq in seq order; safe to consume while later appends happen. */
  *indexEntries(conv: ConvId, uptoSeq: number, fromSeq = 1): Generator<IndexEntry> {
    const state = this.convs.get(conv);
    if (state === undefined || uptoSeq <= 0) return;
    let seq = 0;
    for (const key of state.seqByKey.keys()) {
      seq++;
      if (seq < fromSeq) continue;
      const cut = key.indexOf(keySeparator);
      yield { from: key.slice(0, cut), cmid: key.slice(cut + 1), ts: state.tsBySeq[seq - 1]! };
      if (seq >= uptoSeq) return;
    }
  }

  /** Restores a conversation from a checkpoint; its index follows through `restoreIndex`. */
  restoreConversation(record: ConversationRecord): void {
    if (this.convs.has(record.id)) throw new Error(`conversation ${record.id} restored twice`);
    const cursorsOfRecord = (c: Cursors): Readonly<Cursors> =>
      c.delivered === 0 && c.read === 0 ? zeroCursors : { delivered: c.delivered, read: c.read };
    // Together when the record lists the same users in the same order for both (as every record this
    // class makes does), apart otherwise, so that a record written back lists them as it came.
    const users = Object.keys(record.members);
    const cursorUsers = Object.keys(record.cursors);
    const together = users.length === cursorUsers.length && users.every((user, i) => cursorUsers[i] === user);
    const members = new Map<UserId, Member>();
    for (const user of users) {
      const spans = record.members[user]!;
      const c = together ? cursorsOfRecord(record.cursors[user]!) : null;
      const sinceStart = spans.length === 1 && spans[0]!.from === 1 && spans[0]!.to === null;
      if (sinceStart && c === zeroCursors) members.set(user, memberFromStart);
      else
        members.set(user, {
          spans: sinceStart ? memberSinceStart : spans.map((span) => ({ from: span.from, to: span.to })),
          cursors: c,
        });
    }
    let cursorsApart: Map<UserId, Readonly<Cursors>> | null = null;
    if (!together) {
      cursorsApart = new Map();
      for (const user of cursorUsers) cursorsApart.set(user, cursorsOfRecord(record.cursors[user]!));
    }
    this.convs.set(record.id, {
      id: record.id,
      kind: record.kind,
      lastSeq: record.lastSeq,
      members,
      cursorsApart,
      seqByKey: new Map(),
      tsBySeq: [],
      membersVersion: membersVersionOf(record),
    });
  }

  /** Appends restored index entries, which must continue the conversation's index without a gap. */
  restoreIndex(conv: ConvId, firstSeq: number, entries: readonly IndexEntry[]): void {
    const state = this.convs.get(conv);
    if (state === undefined) throw new Error(`index restored for unknown conversation ${conv}`);
    if (firstSeq !== state.tsBySeq.length + 1 || firstSeq + entries.length - 1 > state.lastSeq) {
      throw new Error(`index of ${conv} restored out of order at seq ${firstSeq}`);
    }
    let seq = firstSeq;
    for (const entry of entries) {
      state.seqByKey.set(entry.from + keySeparator + entry.cmid, seq++);
      state.tsBySeq.push(entry.ts);
    }
  }

  /** Conversations whose restored index does not reach their lastSeq (empty when consistent). */
  incompleteIndexes(): ConvId[] {
    const out: ConvId[] = [];
    for (const state of this.convs.values()) {
      if (state.tsBySeq.length !== state.lastSeq || state.seqByKey.size !== state.lastSeq) out.push(state.id);
    }
    return out;
  }
}

function isCurrent(state: ConvState, user: UserId): boolean {
  const spans = state.members.get(user)?.spans;
  return spans !== undefined && spans.length > 0 && spans[spans.length - 1]!.to === null;
}

/** `user`'s cursors (`member`: its entry in `state.members`, if any); undefined when it has none. */
function cursorsOf(
  state: ConvState,
  user: UserId,
  member: Member | undefined,
): Readonly<Cursors> | undefined {
  if (state.cursorsApart !== null) return state.cursorsApart.get(user);
  return member?.cursors ?? undefined;
}

function sameCurrentMembers(state: ConvState, wanted: Set<UserId>): boolean {
  let current = 0;
  for (const [user, { spans }] of state.members) {
    if (spans[spans.length - 1]?.to !== null) continue;
    current++;
    if (!wanted.has(user)) return false;
  }
  return current === wanted.size;
}

/** Null-prototype records: user ids such as `__proto__` are valid and must stay plain keys. */
function toRecord(state: ConvState): ConversationRecord {
  const members: Record<UserId, MembershipSpan[]> = Object.create(null);
  for (const [user, { spans }] of state.members)
    members[user] = spans.map((s) => ({ from: s.from, to: s.to }));
  const cursors: Record<UserId, Cursors> = Object.create(null);
  if (state.cursorsApart !== null)
    for (const [user, c] of state.cursorsApart) cursors[user] = { delivered: c.delivered, read: c.read };
  else
    for (const [user, { cursors: c }] of state.members)
      if (c !== null) cursors[user] = { delivered: c.delivered, read: c.read };
  return { id: state.id, kind: state.kind, lastSeq: state.lastSeq, members, cursors };
}
