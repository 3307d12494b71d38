import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { int32Column } from './column.ts';
import { SlotTable, slotTableEntriesMax } from './slot-table.ts';

describe('SlotTable', () => {
  it('truncate drops the newest slots and keeps every other key where it was', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(40), fc.oneof(fc.nat(40), fc.constant(0xffffffff))), { maxLength: 300 }),
        fc.array(fc.tuple(fc.nat(40), fc.nat(40)), { maxLength: 100 }),
        fc.nat(),
        (keys, later, cut) => {
          const table = new SlotTable(1);
          for (const [a, b] of keys) table.intern(a, b);
          const size = cut % (table.size + 1);
          const kept = Array.from(
            { length: size },
            (_, slot) => [table.keyA(slot), table.keyB(slot)] as const,
          );
          const dropped = Array.from({ length: table.size - size }, (_, i) => [
            table.keyA(size + i),
            table.keyB(size + i),
          ]);
          table.truncate(size);
          expect(table.size).toBe(size);
          for (const [slot, [a, b]] of kept.entries()) expect(table.find(a, b)).toBe(slot);
          for (const [a, b] of dropped) expect(table.find(a!, b!)).toBe(-1);
          // New keys take the next slots, and every key stays findable.
          for (const [a, b] of later) table.intern(a, b);
          for (let slot = 0; slot < table.size; slot++)
            expect(table.find(table.keyA(slot), table.keyB(slot))).toBe(slot);
        },
      ),
      { numRuns: 60 },
    );
  });

  it('gives each key one dense slot, in insertion order, across growth', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.nat(50), fc.oneof(fc.nat(50), fc.constant(0xffffffff))), { maxLength: 400 }),
        (keys) => {
          const table = new SlotTable(1);
          const model = new Map<string, number>();
          for (const [a, b] of keys) {
            const slot = table.intern(a, b);
            const known = model.get(`${a},${b}`);
            if (known === undefined) {
              expect(slot).toBe(model.size);
              model.set(`${a},${b}`, slot);
            } else {
              expect(slot).toBe(known);
            }
          }
          expect(table.size).toBe(model.size);
          for (const [key, slot] of model) {
            const [a, b] = key.split(',').map(Number) as [number, number];
            expect(table.find(a, b)).toBe(slot);
            expect([table.keyA(slot), table.keyB(slot)]).toEqual([a, b]);
          }
          expect(table.find(51, 51)).toBe(-1);
        },
      ),
    );
  });

  it('numbers no more keys than its buckets can name', () => {
    expect(() => new SlotTable(1, slotTableEntriesMax + 1)).toThrow(/at most 134217727 keys/);
    expect(new SlotTable(1, slotTableEntriesMax).size).toBe(0);
  });

  it('tells keys apart that share their bucket and their hash bits, through growth and truncation', () => {
    // 20,000 keys in one table: about 600 pairs share the 5 hash bits a bucket keeps, and every probe
    // that meets one must still compare the key itself.
    const table = new SlotTable(1);
    const keyOf = (n: number): [number, number] => [(n * 7919) >>> 3, n % 13 === 0 ? 0xffffffff : n & 255];
    for (let n = 0; n < 20_000; n++) expect(table.intern(...keyOf(n))).toBe(n);
    for (let n = 0; n < 20_000; n++) expect(table.find(...keyOf(n))).toBe(n);
    expect(table.find(1 << 30, 7)).toBe(-1);
    table.truncate(15_000);
    for (let n = 0; n < 20_000; n++) expect(table.find(...keyOf(n))).toBe(n < 15_000 ? n : -1);
    expect(table.intern(...keyOf(17_000))).toBe(15_000);
  });

  it('refuses to pass its entry bound', () => {
    const table = new SlotTable(1, 2);
    table.intern(1, 1);
    table.intern(1, 2);
    expect(() => table.intern(1, 3)).toThrow(/tableEntriesMax/);
    expect(table.intern(1, 2)).toBe(1);
  });

  it('retains the slots asked for, renumbered in order, with their columns, and forgets the rest', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 30 }), fc.integer({ min: 0, max: 30 })), {
          maxLength: 200,
        }),
        fc.func(fc.boolean()),
        (keys, keepKey) => {
          const table = new SlotTable(4);
          const value = int32Column(-1);
          for (const [a, b] of keys) value.set(table.intern(a, b), a * 100 + b);
          const before = Array.from({ length: table.size }, (_, slot) => [
            table.keyA(slot),
            table.keyB(slot),
          ]);
          const kept = before.filter(([a, b]) => keepKey(a, b));
          const moves = table.retain((slot) => keepKey(before[slot]![0], before[slot]![1]));
          value.compact(moves);
          expect(table.size).toBe(kept.length);
          kept.forEach(([a, b], slot) => {
            expect(table.find(a!, b!)).toBe(slot);
            expect(value.get(slot)).toBe(a! * 100 + b!);
          });
          for (const [a, b] of before) if (!keepKey(a, b)) expect(table.find(a!, b!)).toBe(-1);
          expect(value.get(kept.length)).toBe(-1);
          // New keys go on after the kept ones.
          expect(table.intern(99, 99)).toBe(kept.length);
        },
      ),
    );
  });
});
