import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { EventQueue } from './event-queue.ts';
import { type Prng, SeedStreams } from './prng.ts';
import { firstDivergence, TraceHash } from './trace-hash.ts';

describe('EventQueue', () => {
  it('pops in (time, insertion order) order for any pushes', () => {
    fc.assert(
      fc.property(fc.array(fc.integer({ min: 0, max: 50 }), { maxLength: 300 }), (times) => {
        const queue = new EventQueue<number>();
        for (const [i, at] of times.entries()) queue.push(at, i);
        const popped: number[] = [];
        while (queue.size > 0) popped.push(queue.pop());
        const expected = times
          .map((at, i) => ({ at, i }))
          .sort((x, y) => x.at - y.at || x.i - y.i)
          .map((e) => e.i);
        expect(popped).toEqual(expected);
      }),
    );
  });
});

describe('SeedStreams', () => {
  it('gives the same draws for the same (seed, name, index)', () => {
    const a = new SeedStreams(42).stream('client', 7);
    const b = new SeedStreams(42).stream('client', 7);
    expect(Array.from({ length: 5 }, () => a.nextU32())).toEqual(
      Array.from({ length: 5 }, () => b.nextU32()),
    );
  });

  it('gives independent streams for other names, indexes and seeds', () => {
    const first = (s: Prng) => s.nextU32();
    const draws = new Set([
      first(new SeedStreams(42).stream('client', 7)),
      first(new SeedStreams(42).stream('client', 8)),
      first(new SeedStreams(42).stream('network', 7)),
      first(new SeedStreams(43).stream('client', 7)),
      first(new SeedStreams(2 ** 40 + 42).stream('client', 7)),
    ]);
    expect(draws.size).toBe(5);
  });

  it('draws floats in [0, 1) with a sane mean', () => {
    const rng = new SeedStreams(1).stream('x');
    let sum = 0;
    for (let i = 0; i < 10_000; i++) {
      const x = rng.float();
      expect(x >= 0 && x < 1).toBe(true);
      sum += x;
    }
    expect(Math.abs(sum / 10_000 - 0.5)).toBeLessThan(0.02);
  });
});

describe('TraceHash', () => {
  it('is equal for equal inputs and differs on one changed value', () => {
    const run = (tweak: number) => {
      const hash = new TraceHash(2);
      for (let i = 0; i < 10; i++) {
        hash.mix(i === 5 ? tweak : i);
        hash.endEvent();
      }
      return hash;
    };
    expect(run(5).hex()).toBe(run(5).hex());
    expect(run(6).hex()).not.toBe(run(5).hex());
    expect(firstDivergence(run(5).checkpoints, run(6).checkpoints, 2)).toBe(4);
    expect(firstDivergence(run(5).checkpoints, run(5).checkpoints, 2)).toBeNull();
  });
});
