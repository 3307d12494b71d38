import { describe, expect, it } from 'vitest';
import type { ConversationRecord } from '../store/message-store.ts';
import { Conversation } from './conversation.ts';
import { coreLimits } from './limits.ts';

function record(members: ConversationRecord['members']): ConversationRecord {
  return { id: 'g1', kind: 'group', lastSeq: 0, members, cursors: {} };
}

const open = Number.POSITIVE_INFINITY;

describe("a conversation's membership spans", () => {
  it('members of one open span each: read from their first seq on, no past members, in the record order', () => {
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord(record({ b: [{ from: 1, to: null }], a: [{ from: 3, to: null }] }));
    expect(conv.canRead('a', 2)).toBe(false);
    expect(conv.canRead('a', 3)).toBe(true);
    expect(conv.canRead('x', 3)).toBe(false);
    expect(conv.readWindow('a', 0)).toEqual({ after: 2, upper: open, nextSpanFrom: null, horizon: open });
    expect(conv.readWindow('b', 7)).toEqual({ after: 7, upper: open, nextSpanFrom: null, horizon: open });
    expect(conv.readWindow('x', 0)).toBeNull();
    expect(conv.hasPastMembers).toBe(false);
    expect([...conv.pastMembers()]).toEqual([]);
    expect([...conv.everMembers()]).toEqual([
      ['b', 1],
      ['a', 3],
    ]);
  });

  it('a removed member and one added again keep every span, in the record order', () => {
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord(
      record({
        b: [{ from: 1, to: 2 }],
        c: [
          { from: 1, to: 2 },
          { from: 5, to: null },
        ],
        a: [{ from: 1, to: null }],
      }),
    );
    expect([...conv.current.keys()]).toEqual(['c', 'a']);
    expect(conv.hasPastMembers).toBe(true);
    expect([...conv.pastMembers()]).toEqual(['b']);
    expect([...conv.everMembers()]).toEqual([
      ['b', 1],
      ['c', 1],
      ['a', 1],
    ]);
    expect([2, 3, 4, 5].map((seq) => conv.canRead('c', seq))).toEqual([true, false, false, true]);
    expect([2, 3].map((seq) => conv.canRead('b', seq))).toEqual([true, false]);
    expect(conv.readWindow('c', 0)).toEqual({ after: 0, upper: 2, nextSpanFrom: 5, horizon: open });
    expect(conv.readWindow('c', 2)).toEqual({ after: 4, upper: open, nextSpanFrom: null, horizon: open });
    expect(conv.readWindow('b', 0)).toEqual({ after: 0, upper: 2, nextSpanFrom: null, horizon: 2 });
    expect(conv.readWindow('b', 2)).toEqual({ after: 2, upper: 2, nextSpanFrom: null, horizon: 2 });
  });

  it('a read passes over an empty span (added and removed with no message between) to the next one', () => {
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord(
      record({
        a: [{ from: 1, to: null }],
        u: [
          { from: 1, to: 5 },
          { from: 9, to: 8 },
          { from: 13, to: null },
        ],
      }),
    );
    // Up to date at the first removal: the window is the third span, not the empty second one.
    expect(conv.readWindow('u', 5)).toEqual({ after: 12, upper: open, nextSpanFrom: null, horizon: open });
    // Within the first span, `more` points past the empty span to the one that holds messages.
    expect(conv.readWindow('u', 3)).toEqual({ after: 3, upper: 5, nextSpanFrom: 13, horizon: open });
    expect(conv.readWindow('u', 8)).toEqual({ after: 12, upper: open, nextSpanFrom: null, horizon: open });
    // An empty span last: nothing more to read after the first span.
    const ended = new Conversation('g2', 'group', 0);
    ended.takeRecord(
      record({
        a: [{ from: 1, to: null }],
        u: [
          { from: 1, to: 5 },
          { from: 9, to: 8 },
        ],
      }),
    );
    expect(ended.readWindow('u', 3)).toEqual({ after: 3, upper: 5, nextSpanFrom: null, horizon: 8 });
    // Seqs 6-8 were sequenced while u was away: the window past the first span holds none of them.
    expect(ended.readWindow('u', 5)).toEqual({ after: 8, upper: 8, nextSpanFrom: null, horizon: 8 });
  });

  it('a newer membership replaces the spans: a member added again reads its spans, a new one from its seq', () => {
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord(record({ a: [{ from: 1, to: null }], b: [{ from: 1, to: 2 }] }));
    expect([...conv.pastMembers()]).toEqual(['b']);
    // A newer record (version 4 > 3) whose members are all current again, b from seq 4.
    conv.takeRecord(
      record({
        a: [{ from: 1, to: null }],
        b: [
          { from: 1, to: 2 },
          { from: 4, to: null },
        ],
      }),
    );
    expect(conv.hasPastMembers).toBe(false);
    expect(conv.canRead('b', 3)).toBe(false);
    conv.takeRecord(
      record({
        a: [{ from: 1, to: null }],
        b: [
          { from: 1, to: 2 },
          { from: 4, to: null },
        ],
        d: [{ from: 6, to: null }],
      }),
    );
    expect([...conv.everMembers()]).toEqual([
      ['a', 1],
      ['b', 1],
      ['d', 6],
    ]);
    expect(conv.canRead('d', 5)).toBe(false);
    expect(conv.canRead('b', 2)).toBe(true);
  });
});

describe('seqs a node pushed from a store read without hearing them', () => {
  it('are not heard until their msg is, and the oldest is forgotten past the bound', () => {
    const conv = new Conversation('g1', 'group', 0);
    conv.takeRecord({
      ...record({ a: [{ from: 1, to: null }] }),
      lastSeq: coreLimits.unheardSeqsPerConvMax + 2,
    });
    expect(conv.wasHeard(1)).toBe(false);
    for (let seq = 1; seq <= coreLimits.unheardSeqsPerConvMax + 1; seq++) {
      conv.markPushed(seq);
      conv.markUnheard(seq);
    }
    conv.markPushed(coreLimits.unheardSeqsPerConvMax + 2);
    expect(conv.wasHeard(1)).toBe(true);
    expect(conv.wasHeard(2)).toBe(false);
    expect(conv.wasHeard(coreLimits.unheardSeqsPerConvMax + 2)).toBe(true);
    conv.markHeard(2);
    expect(conv.wasHeard(2)).toBe(true);
  });
});
