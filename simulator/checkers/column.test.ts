import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Column, float64Column, int32Column } from './column.ts';

describe('Column', () => {
  it('reads back what was written at any index, and its fill everywhere else, across growth', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(5000), fc.integer({ min: -1000, max: 1000 })), { maxLength: 300 }),
        (writes) => {
          const column = int32Column(-7);
          const model = new Map<number, number>();
          for (const [index, value] of writes) {
            column.set(index, value);
            model.set(index, value);
          }
          for (let index = 0; index <= 5001; index++) expect(column.get(index)).toBe(model.get(index) ?? -7);
        },
      ),
      { numRuns: 30 },
    );
  });

  it('keeps fractional times and non-finite fills exactly (times are not whole milliseconds)', () => {
    const column = float64Column(Number.NaN);
    column.set(3000, 1234.5678901234);
    expect(column.get(3000)).toBe(1234.5678901234);
    expect(column.get(2999)).toBeNaN();
  });

  it('refuses to grow past its bound', () => {
    const column = new Column('uint8', 0, 4, 10);
    column.set(9, 1);
    expect(() => column.set(10, 1)).toThrow(/tableEntriesMax 10/);
  });
});
