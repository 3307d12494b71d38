// Toxiproxy's slicer toxic: every byte arrives in order however it is cut; the cuts themselves cover
// each chunk exactly, with no empty piece and none longer than average + variation.

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { Prng } from '../../simulator/kernel/prng.ts';
import { keepsEveryByte, toxicBody, useHarness } from '../../test-support/proxy-harness.ts';
import { sliceBounds } from './slicer.ts';

const harness = useHarness();

describe('slicer', () => {
  it('cuts a chunk into pieces that cover it, none empty, none over average + variation', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 0, max: 20_000 }),
        fc
          .integer({ min: 1, max: 500 })
          .chain((average) => fc.tuple(fc.constant(average), fc.integer({ min: 0, max: average }))),
        fc.integer(),
        (length, [average, variation], seed) => {
          const rng = new Prng(seed);
          const bounds = sliceBounds(length, { average_size: average, size_variation: variation }, () =>
            rng.float(),
          );
          expect(bounds[0]).toBe(0);
          expect(bounds.at(-1)).toBe(length);
          const sizes = bounds.slice(1).map((bound, i) => bound - bounds[i]!);
          expect(sizes.every((size) => size > 0 && size <= average + variation)).toBe(true);
        },
      ),
      { numRuns: 50 },
    );
  });

  keepsEveryByte(harness, (stream) =>
    fc.integer({ min: 1, max: 100 }).map((average) =>
      toxicBody('slicer', stream, {
        average_size: average,
        size_variation: Math.floor(average / 2),
        delay: 50,
      }),
    ),
  );
});
