import { describe, expect, it } from 'vitest';
import {
  type SmallSet,
  smallSetAdd,
  smallSetDelete,
  smallSetHas,
  smallSetSize,
  smallSetValues,
} from './small-set.ts';

/** Applies the same adds and deletes to a SmallSet and a Set, checking they agree after each step. */
function agreeWithSet(steps: readonly (readonly ['add' | 'delete', number])[]): SmallSet<number> | null {
  let small: SmallSet<number> | null = null;
  const reference = new Set<number>();
  for (const [op, value] of steps) {
    if (op === 'add') {
      small = smallSetAdd(small, value);
      reference.add(value);
    } else {
      small = smallSetDelete(small, value);
      reference.delete(value);
    }
    expect([...smallSetValues(small)]).toEqual([...reference]);
    expect(smallSetSize(small)).toBe(reference.size);
    for (let probe = 0; probe < 20; probe++) expect(smallSetHas(small, probe)).toBe(reference.has(probe));
  }
  return small;
}

describe('SmallSet', () => {
  it('is empty as null', () => {
    expect(smallSetSize(null)).toBe(0);
    expect(smallSetHas(null, 1)).toBe(false);
    expect(smallSetDelete(null, 1)).toBeNull();
    expect([...smallSetValues(null)]).toEqual([]);
  });

  it('is its one value while it holds one, and null once that goes', () => {
    const user = smallSetAdd<string>(null, 'u1');
    expect(user).toBe('u1');
    expect(smallSetAdd(user, 'u1')).toBe('u1');
    expect(smallSetDelete(user, 'u2')).toBe('u1');
    const set = agreeWithSet([
      ['add', 0],
      ['delete', 0],
      ['add', 5],
    ])!;
    expect(set).toBe(5);
    expect([...smallSetValues(set)]).toEqual([5]);
    expect(smallSetDelete(set, 5)).toBeNull();
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
    expect([...smallSetValues(set)]).toEqual([3, 2, 1]);
  });

  it('becomes a Set past eight entries, keeping the order, and still deletes', () => {
    const adds = Array.from({ length: 12 }, (_, i) => ['add', (i * 7) % 13] as const);
    const set = agreeWithSet([...adds, ['delete', 7], ['add', 7], ['delete', 0], ['add', 0]]);
    expect(set).toBeInstanceOf(Set);
    expect(smallSetSize(set)).toBe(12);
  });

  it('returns the same container when the value is in it, else a new array one longer (callers assign it back)', () => {
    const set = smallSetAdd(smallSetAdd(null, 'a'), 'b');
    expect(smallSetAdd(set, 'a')).toBe(set);
    const grown = smallSetAdd(set, 'c');
    expect(grown).not.toBe(set);
    expect(grown).toEqual(['a', 'b', 'c']);
    expect(set).toEqual(['a', 'b']);
  });
});
