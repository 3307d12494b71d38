import { describe, expect, it } from 'vitest';
import { history } from './history-fixture.ts';
import { IdTable } from './id-table.ts';
import { SpanBook } from './span-book.ts';

describe('SpanBook', () => {
  const ids = new IdTable();
  const book = new SpanBook(ids);
  book.observe(history.conv(0, 'g', ['ann', 'bob']));
  book.observe(history.members(100, 'g', { remove: ['bob'], atSeq: 5 }));
  book.observe(history.members(200, 'g', { add: ['bob', 'cat'], atSeq: 9 }));
  book.observe(history.members(300, 'g', { remove: ['cat'], atSeq: 12 }));
  const g = ids.conv('g');
  const [ann, bob, cat] = ['ann', 'bob', 'cat'].map((user) => ids.user(user)) as [number, number, number];

  it('reads from the join on, up to the removal, across re-joins', () => {
    expect([1, 5, 6, 9, 10, 99].map((seq) => book.canRead(g, bob, seq))).toEqual([
      true,
      true,
      false,
      false,
      true,
      true,
    ]);
    expect([9, 10, 12, 13].map((seq) => book.canRead(g, cat, seq))).toEqual([false, true, true, false]);
    expect(book.canRead(g, ann, 1000)).toBe(true);
    expect(book.canRead(g, ids.user('dan'), 1)).toBe(false);
  });

  it('tells when a user joined', () => {
    expect(book.joinedWithin(g, bob, 150, 250)).toBe(true);
    expect(book.joinedWithin(g, cat, 201, 400)).toBe(false);
    expect(book.joinedWithin(g, ann, 0, 0)).toBe(true);
  });

  it('counts a removed member as one for a grace window after the removal', () => {
    expect(book.isMember(g, bob, 400)).toBe(true);
    expect(book.isMember(g, cat, 300)).toBe(true);
    expect(book.isMember(g, cat, 1300, 1000)).toBe(true);
    expect(book.isMember(g, cat, 1301, 1000)).toBe(false);
    expect(book.isMember(g, ids.user('dan'), 0, 1000)).toBe(false);
    expect([book.lastRemovedAt(g, cat), book.lastRemovedAt(g, bob), book.lastRemovedAt(g, ann)]).toEqual([
      300,
      Number.NaN,
      Number.NaN,
    ]);
  });
});
