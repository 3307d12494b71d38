import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CalendarQueue, sortFrom, sortRow } from './calendar-queue.ts';
import { EventQueue } from './event-queue.ts';

type Op = { kind: 'push'; delay: number } | { kind: 'pop' } | { kind: 'peek' };

const op: fc.Arbitrary<Op> = fc.oneof(
  fc.record({
    kind: fc.constant('push' as const),
    delay: fc.oneof(
      fc.constant(0),
      fc.double({ min: 0, max: 5, noNaN: true }),
      fc.integer({ min: 0, max: 200_000 }),
    ),
  }),
  fc.record({ kind: fc.constant('pop' as const) }),
  fc.record({ kind: fc.constant('peek' as const) }),
);

describe('CalendarQueue', () => {
  it('pops in exactly the heap order (time, insertion order) for any schedule that never goes back in time', () => {
    fc.assert(
      fc.property(fc.array(op, { maxLength: 400 }), (ops) => {
        const heap = new EventQueue<number>();
        const calendar = new CalendarQueue();
        // Handles are reused once popped, as the agenda reuses them.
        const free: number[] = [];
        let handles = 0;
        const handleOf: number[] = [];
        let now = 0;
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            heap.push(now + o.delay, n);
            const handle = free.pop() ?? handles++;
            handleOf[handle] = n;
            // The caller's words go with the handle (the agenda's kind, target, instance).
            calendar.push(now + o.delay, handle, n, -(n + 1), n % 7);
            n++;
          } else if (o.kind === 'peek') {
            expect(calendar.peekTime()).toBe(heap.peekTime());
          } else if (heap.size > 0) {
            now = heap.peekTime()!;
            const handle = calendar.pop();
            expect(calendar.timeOf(handle)).toBe(now);
            const popped = heap.pop();
            expect(handleOf[handle]).toBe(popped);
            expect([0, 1, 2].map((k) => calendar.wordOf(handle, k))).toEqual([
              popped,
              -(popped + 1),
              popped % 7,
            ]);
            free.push(handle);
          }
          expect(calendar.size).toBe(heap.size);
        }
        while (heap.size > 0) expect(handleOf[calendar.pop()]).toBe(heap.pop());
        expect(calendar.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts events behind a peeked-ahead base (scheduled at now, before the next event)', () => {
    const q = new CalendarQueue();
    const later = 7;
    const earlier = 3000; // past the columns' first size: they grow
    q.push(5000.5, later, 1, 2, 3);
    expect(q.peekTime()).toBe(5000.5); // the peek moves the base to 5000
    q.push(4000.25, earlier, -1, 2 ** 31 - 1, -(2 ** 31));
    expect(q.pop()).toBe(earlier);
    expect(q.pop()).toBe(later);
    expect(q.timeOf(later)).toBe(5000.5);
    // The rows grew under `later`'s: its words and time came through whole.
    expect([0, 1, 2].map((k) => q.wordOf(later, k))).toEqual([1, 2, 3]);
    expect([0, 1, 2].map((k) => q.wordOf(earlier, k))).toEqual([-1, 2 ** 31 - 1, -(2 ** 31)]);
  });

  it('sorts a crowded bucket in place by (time, insertion order), leaving what comes before it alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0.5), fc.double({ min: 0, max: 0.999, noNaN: true })), {
          maxLength: 600,
        }),
        fc.nat({ max: 20 }),
        (times, from) => {
          // Orders descending, so ties in time are put right by their order alone. Handles are the
          // indices of rows (time, order), listed in an order of their own.
          const at = Float64Array.from(times);
          const orders = Float64Array.from(times, (_, i) => times.length - i);
          const rows = new Float64Array(times.length * sortRow);
          times.forEach((_, i) => {
            rows[i * sortRow] = at[i]!;
            rows[i * sortRow + 1] = orders[i]!;
          });
          const items = times.map((_, i) => (i + 3 * from + 1) % times.length);
          const head = items.slice(0, from);
          const expected = [
            ...head,
            ...items.slice(from).sort((a, b) => at[a]! - at[b]! || orders[a]! - orders[b]!),
          ];
          sortFrom(items, from, rows);
          expect(items).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
