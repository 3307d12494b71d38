import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { CalendarQueue, sortFrom } from './calendar-queue.ts';
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
        const calendar = new CalendarQueue<{ at: number; order: number; n: number }>();
        let now = 0;
        let n = 0;
        for (const o of ops) {
          if (o.kind === 'push') {
            heap.push(now + o.delay, n);
            calendar.push(now + o.delay, { at: 0, order: 0, n });
            n++;
          } else if (o.kind === 'peek') {
            expect(calendar.peekTime()).toBe(heap.peekTime());
          } else if (heap.size > 0) {
            now = heap.peekTime()!;
            expect(calendar.pop().n).toBe(heap.pop());
          }
          expect(calendar.size).toBe(heap.size);
        }
        while (heap.size > 0) expect(calendar.pop().n).toBe(heap.pop());
        expect(calendar.size).toBe(0);
      }),
      { numRuns: 300 },
    );
  });

  it('accepts events behind a peeked-ahead base (scheduled at now, before the next event)', () => {
    const q = new CalendarQueue<{ at: number; order: number; name: string }>();
    q.push(5000.5, { at: 0, order: 0, name: 'later' });
    expect(q.peekTime()).toBe(5000.5); // the peek moves the base to 5000
    q.push(4000.25, { at: 0, order: 0, name: 'earlier' });
    expect(q.pop().name).toBe('earlier');
    expect(q.pop().name).toBe('later');
  });

  it('sorts a crowded bucket in place by (time, insertion order), leaving what comes before it alone', () => {
    fc.assert(
      fc.property(
        fc.array(fc.oneof(fc.constant(0.5), fc.double({ min: 0, max: 0.999, noNaN: true })), {
          maxLength: 600,
        }),
        fc.nat({ max: 20 }),
        (times, from) => {
          // Orders descending, so ties in time are put right by their order alone.
          const items = times.map((at, i) => ({ at, order: times.length - i }));
          const head = items.slice(0, from);
          const expected = [...head, ...items.slice(from).sort((a, b) => a.at - b.at || a.order - b.order)];
          sortFrom(items, from);
          expect(items).toEqual(expected);
        },
      ),
      { numRuns: 300 },
    );
  });
});
