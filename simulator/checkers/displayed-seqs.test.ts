import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { DisplayedSeqs } from './displayed-seqs.ts';

describe('DisplayedSeqs', () => {
  it('answers like a set of seqs, whatever the order of displays, in both representations', () => {
    fc.assert(
      fc.property(
        fc.array(fc.integer({ min: 1, max: 120 }), { maxLength: 200 }),
        fc.constantFrom(1, 2, 1024),
        (seqs, holesMax) => {
          const displayed = new DisplayedSeqs(holesMax);
          const model = new Set<number>();
          for (const seq of seqs) {
            expect(displayed.add(7, seq)).toBe(model.has(seq) ? 'duplicate' : 'new');
            model.add(seq);
          }
          const missing: number[] = [];
          displayed.forEachMissing(7, 1, 130, (seq) => missing.push(seq));
          const all = Array.from({ length: 130 }, (_, i) => i + 1);
          expect(missing).toEqual(all.filter((seq) => !model.has(seq)));
          expect(all.filter((seq) => displayed.has(7, seq))).toEqual(all.filter((seq) => model.has(seq)));
          expect(displayed.newestOf(7)).toBe(Math.max(0, ...model));
          const narrow: number[] = [];
          displayed.forEachMissing(7, 3, 9, (seq) => narrow.push(seq));
          expect(narrow).toEqual(all.filter((seq) => seq >= 3 && seq <= 9 && !model.has(seq)));
          // Cleared, the pair holds nothing; nothing it held before is counted.
          displayed.clear(7);
          expect(displayed.heldBeyondNewest).toBe(0);
          expect(displayed.has(7, seqs[0] ?? 1)).toBe(false);
        },
      ),
    );
  });

  it('keeps one number for a pair that displays in order, and skips membership gaps', () => {
    const displayed = new DisplayedSeqs();
    for (const seq of [1, 2, 3, 7, 8]) expect(displayed.add(0, seq)).toBe('new');
    expect(displayed.add(0, 8)).toBe('duplicate');
    expect(displayed.add(0, 5)).toBe('new');
    const missing: number[] = [];
    displayed.forEachMissing(0, 2, 10, (seq) => missing.push(seq));
    expect(missing).toEqual([4, 6, 9, 10]);
  });

  it('counts what it holds beyond the newest: the seqs below a first display are one interval', () => {
    const displayed = new DisplayedSeqs();
    displayed.add(1, 5);
    expect(displayed.heldBeyondNewest).toBe(1);
    displayed.add(1, 8);
    expect(displayed.heldBeyondNewest).toBe(2);
    // 3 splits [1, 4] in two.
    expect(displayed.add(1, 3)).toBe('new');
    expect(displayed.heldBeyondNewest).toBe(3);
    expect(displayed.add(1, 3)).toBe('duplicate');
    for (const seq of [1, 2, 4, 6, 7]) expect(displayed.add(1, seq)).toBe('new');
    expect(displayed.heldBeyondNewest).toBe(0);
    // A pair turned to a bitset by its first interval alone (at most none kept) answers the same.
    const bits = new DisplayedSeqs(0);
    bits.add(2, 4);
    expect([1, 2, 3, 4].map((seq) => bits.has(2, seq))).toEqual([false, false, false, true]);
    expect(bits.heldBeyondNewest).toBe(1);
  });

  it('reports every seq missing for a pair that displayed nothing', () => {
    const missing: number[] = [];
    new DisplayedSeqs().forEachMissing(-1, 3, 5, (seq) => missing.push(seq));
    expect(missing).toEqual([3, 4, 5]);
  });
});
