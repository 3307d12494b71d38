import { describe, expect, it } from 'vitest';
import type { ConversationRecord } from '../store/message-store.ts';
import { Conversation } from './conversation.ts';
import { type ConnIndex, memberConnections, messageRecipients, type UserConns } from './fanout.ts';
import { smallSetAdd, smallSetValues } from './small-set.ts';

/** A node's user records, as ChatNode keeps them: one object per user, its connections changed in place. */
function index(): ConnIndex & { records: Map<string, UserConns> } {
  const records = new Map<string, UserConns>();
  const recordOf = (user: string): UserConns => {
    let record = records.get(user);
    if (record === undefined) {
      record = { id: user, conns: null };
      records.set(user, record);
    }
    return record;
  };
  const connsOf = (user: string): Iterable<number> | undefined => {
    const conns = records.get(user)?.conns ?? null;
    return conns === null ? undefined : smallSetValues(conns);
  };
  return { records, recordOf, connsOf };
}

function record(members: ConversationRecord['members']): ConversationRecord {
  return { id: 'g1', kind: 'group', lastSeq: 0, members, cursors: {} };
}

describe('fan-out by the members kept per conversation', () => {
  it('follows a membership change: a removed member gets no later seq, an added one does', () => {
    const users = index();
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord(record({ a: [{ from: 1, to: null }], b: [{ from: 1, to: null }] }));
    users.recordOf('a').conns = [1];
    users.recordOf('b').conns = [2];
    users.recordOf('c').conns = [3];
    expect(messageRecipients(conv, 1, users, null)).toEqual([1, 2]);
    // b removed after seq 1, c added from seq 2.
    conv.takeRecord(
      record({ a: [{ from: 1, to: null }], b: [{ from: 1, to: 1 }], c: [{ from: 2, to: null }] }),
    );
    expect(messageRecipients(conv, 2, users, null)).toEqual([1, 3]);
    expect(memberConnections(conv, users, null)).toEqual([1, 3]);
    // b may still read seq 1 (its span covers it); c may not.
    expect(messageRecipients(conv, 1, users, null)).toEqual([1, 2]);
  });

  it("reads each member's connections as they are now, in the members' order, the sender's skipped", () => {
    const users = index();
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord(record({ b: [{ from: 1, to: null }], a: [{ from: 1, to: null }] }));
    expect(messageRecipients(conv, 1, users, null)).toEqual([]);
    users.recordOf('a').conns = [5, 6];
    users.recordOf('b').conns = [4];
    expect(messageRecipients(conv, 1, users, 6)).toEqual([4, 5]);
    users.recordOf('b').conns = null;
    expect(messageRecipients(conv, 1, users, null)).toEqual([5, 6]);
    expect(memberConnections(conv, users, 'a')).toEqual([]);
  });

  it("reads a member's connections in each of a small set's forms: one id, an array, a Set past eight", () => {
    const users = index();
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord(
      record({ a: [{ from: 1, to: null }], b: [{ from: 1, to: null }], c: [{ from: 1, to: null }] }),
    );
    users.recordOf('a').conns = smallSetAdd(null, 7);
    let many = smallSetAdd<number>(null, 20);
    for (let conn = 21; conn < 30; conn++) many = smallSetAdd(many, conn);
    expect(many).toBeInstanceOf(Set);
    users.recordOf('b').conns = many;
    users.recordOf('c').conns = smallSetAdd(smallSetAdd(null, 3), 2);
    const all = [7, 20, 21, 22, 23, 24, 25, 26, 27, 28, 29, 3, 2];
    expect(messageRecipients(conv, 1, users, null)).toEqual(all);
    expect(messageRecipients(conv, 1, users, 7)).toEqual(all.slice(1));
    expect(messageRecipients(conv, 1, users, 25)).toEqual(all.filter((conn) => conn !== 25));
    expect(messageRecipients(conv, 1, users, 2)).toEqual(all.slice(0, -1));
    expect(memberConnections(conv, users, 'b')).toEqual([7, 3, 2]);
  });
});
