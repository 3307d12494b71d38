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

  it('reports every seq missing for a pair that displayed nothing', () => {
    const missing: number[] = [];
    new DisplayedSeqs().forEachMissing(-1, 3, 5, (seq) => missing.push(seq));
    expect(missing).toEqual([3, 4, 5]);
  });
});
