// Who gets what: the connections a message, notify, receipt or typing frame goes to. A message goes
// to the connections of users who were members when it was sequenced (a member removed since then
// included: its span covers the seq, and it may not hear of it otherwise while it stays connected); small
// groups get the message itself, large ones a coalesced `notify` they answer with `sync`.

import type { UserId } from '../protocol/frames.ts';
import type { Conversation, MemberRecords } from './conversation.ts';
import type { ConnId } from './inputs.ts';
import { type SmallSet, smallSetValues } from './small-set.ts';

/** A user's open, authenticated connections on a node, oldest first (null: none). */
export type UserConns = { readonly id: UserId; conns: SmallSet<ConnId> | null };

export type ConnIndex = {
  /** Open, authenticated connections of a user on this node. */
  connsOf(user: UserId): Iterable<ConnId> | undefined;
  /**
   * The user's record, made on first ask and the same object for as long as the node runs: a
   * conversation keeps its members' records (`Conversation.fanout`), so a message reaches them without a
   * lookup by user per member (a miss in a table of a million users each, at scale).
   */
  recordOf(user: UserId): UserConns;
};

/** Connections that should get message `seq` of `conv`, except `exclude` (the sending connection). */
export function messageRecipients(
  conv: Conversation,
  seq: number,
  index: ConnIndex,
  exclude: ConnId | null,
): ConnId[] {
  // Stryker disable next-line ArrayDeclaration: a bogus connection id reaches no one (only a metric counts it)
  const to: ConnId[] = [];
  const { records, from } = currentMembers(conv, index);
  for (let i = 0; i < records.length; i++) {
    if (seq < from[i]!) continue;
    const conns = records[i]!.conns;
    if (conns === null) continue;
    if (typeof conns === 'number') {
      if (conns !== exclude) to.push(conns);
    } else if (Array.isArray(conns)) {
      for (let c = 0; c < conns.length; c++) if (conns[c] !== exclude) to.push(conns[c]!);
    } else for (const conn of conns) if (conn !== exclude) to.push(conn);
  }
  // A past member whose span covers the seq may read it: removed after it was sequenced, the removal
  // can reach this node (another node's bus event) before the message does.
  if (conv.hasPastMembers)
    for (const user of conv.pastMembers()) {
      if (!conv.canRead(user, seq)) continue;
      const conns = index.connsOf(user);
      if (conns !== undefined) for (const conn of conns) if (conn !== exclude) to.push(conn);
    }
  return to;
}

/** Connections of `users` (user -> the first seq they may read) that may get `seq`, except `exclude`. */
export function connectionsOf(
  users: Iterable<[string, number]>,
  seq: number,
  index: ConnIndex,
  exclude: ConnId | null,
): ConnId[] {
  // Stryker disable next-line ArrayDeclaration: a bogus connection id reaches no one (only a metric counts it)
  const to: ConnId[] = [];
  for (const [user, from] of users) {
    if (seq < from) continue;
    const conns = index.connsOf(user);
    if (conns === undefined) continue;
    for (const conn of conns) if (conn !== exclude) to.push(conn);
  }
  return to;
}

/** Connections of every current member, optionally skipping one user. */
export function memberConnections(conv: Conversation, index: ConnIndex, skipUser: UserId | null): ConnId[] {
  // Stryker disable next-line ArrayDeclaration: a bogus connection id reaches no one (only a metric counts it)
  const to: ConnId[] = [];
  const { records } = currentMembers(conv, index);
  for (let i = 0; i < records.length; i++) {
    const record = records[i]!;
    if (record.id === skipUser) continue;
    for (const conn of smallSetValues(record.conns)) to.push(conn);
  }
  return to;
}

/** The current members' records and first readable seqs, in `current`'s order, kept until it changes. */
function currentMembers(conv: Conversation, index: ConnIndex): MemberRecords {
  let members = conv.fanout;
  if (members === null) {
    const records: UserConns[] = [];
    const from: number[] = [];
    for (const [user, first] of conv.current) {
      records.push(index.recordOf(user));
      from.push(first);
    }
    // Copies exactly as long (an array grown from empty by push reserves 17 slots), made once per membership.
    members = { records: records.slice(), from: from.slice() };
    conv.fanout = members;
  }
  return members;
}

export function isLargeGroup(conv: Conversation, threshold: number): boolean {
  return conv.memberCount > threshold;
}
