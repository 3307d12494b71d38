// Toxiproxy's `slicer`: each chunk is cut at its midpoint ± size_variation, recursively, until pieces
// are at most average_size + size_variation; `delay` µs pass between pieces. The settings that make
// Toxiproxy recurse for ever or cut negative slices are refused.

import { EOF, INTERRUPTED, TIMED_OUT } from '../toxic-stub.ts';
import type { Attributes, ToxicKind } from './toxic-kind.ts';

export const slicer: ToxicKind = {
  type: 'slicer',
  goStruct: 'SlicerToxic',
  attributes: [
    ['average_size', 'int'],
    ['size_variation', 'int'],
    ['delay', 'int'],
  ],
  validate(a) {
    if (a.average_size! < 1) return 'average_size must be >= 1';
    if (a.size_variation! < 0 || a.size_variation! > a.average_size!)
      return 'size_variation must be between 0 and average_size';
    return null;
  },
  async pipe(stub, a, random) {
    for (;;) {
      const item = await stub.read();
      if (item === INTERRUPTED || item === TIMED_OUT) return;
      if (item === EOF) return stub.close();
      const cuts = sliceBounds(item.data.length, a, random);
      for (let i = 1; i < cuts.length; i++) {
        await stub.write({ data: item.data.subarray(cuts[i - 1], cuts[i]), atMs: item.atMs });
        if (!(await stub.sleepMicros(a.delay!)) && i < cuts.length - 1) {
          await stub.write({ data: item.data.subarray(cuts[i]), atMs: item.atMs });
          return;
        }
      }
      if (stub.interrupted) return;
    }
  },
};

/** Boundaries [0, b1, ..., length] of the pieces; empty pieces are never produced. */
export function sliceBounds(length: number, a: Attributes, random: () => number): number[] {
  const average = a.average_size!;
  const variation = a.size_variation!;
  const bounds = [0];
  // An explicit stack instead of Toxiproxy's recursion: left pieces first, so bounds come out in order.
  const stack: [number, number][] = [[0, length]];
  while (stack.length > 0) {
    const [start, end] = stack.pop()!;
    if (end - start - average <= variation) {
      if (end > start) bounds.push(end);
      continue;
    }
    let mid = start + Math.floor((end - start) / 2);
    if (variation > 0) mid += Math.floor(random() * 2 * variation) - variation;
    mid = Math.min(end - 1, Math.max(start + 1, mid));
    stack.push([mid, end], [start, mid]);
  }
  return bounds;
}
