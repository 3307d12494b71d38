import { describe, expect, it } from 'vitest';
import { type SmallSet, smallSetAdd, smallSetDelete, smallSetHas, smallSetSize } from './small-set.ts';

/** Applies the same adds and deletes to a SmallSet and a Set, checking they agree after each step. */
function agreeWithSet(steps: readonly (readonly ['add' | 'delete', number])[]): SmallSet<number> | null {
  let small: SmallSet<number> | null = null;
  const reference = new Set<number>();
  for (const [op, value] of steps) {
    if (op === 'add') {
      small = smallSetAdd(small, value);
      reference.add(value);
    } else {
      smallSetDelete(small, value);
      reference.delete(value);
    }
    expect([...(small ?? [])]).toEqual([...reference]);
    expect(smallSetSize(small)).toBe(reference.size);
    for (let probe = 0; probe < 20; probe++) expect(smallSetHas(small, probe)).toBe(reference.has(probe));
  }
  return small;
}

describe('SmallSet', () => {
  it('is empty as null', () => {
    expect(smallSetSize(null)).toBe(0);
    expect(smallSetHas(null, 1)).toBe(false);
    smallSetDelete(null, 1);
  });

  it('stays an array while small, with a Set’s order (a value added again stays put)', () => {
    const set = agreeWithSet([
      ['add', 3],
      ['add', 1],
      ['add', 3],
      ['add', 2],
      ['delete', 1],
      ['add', 1],
      ['delete', 9],
    ]);
    expect(Array.isArray(set)).toBe(true);
    expect([...set!]).toEqual([3, 2, 1]);
  });

  it('becomes a Set past eight entries, keeping the order, and still deletes', () => {
    const adds = Array.from({ length: 12 }, (_, i) => ['add', (i * 7) % 13] as const);
    const set = agreeWithSet([...adds, ['delete', 7], ['add', 7], ['delete', 0], ['add', 0]]);
    expect(set).toBeInstanceOf(Set);
    expect(smallSetSize(set)).toBe(12);
  });

  it('returns the same container when the value is in it, else a new array one longer (callers assign it back)', () => {
    const set = smallSetAdd(null, 'a');
    expect(smallSetAdd(set, 'a')).toBe(set);
    const grown = smallSetAdd(set, 'b');
    expect(grown).not.toBe(set);
    expect(grown).toEqual(['a', 'b']);
    expect(set).toEqual(['a']);
  });
});
