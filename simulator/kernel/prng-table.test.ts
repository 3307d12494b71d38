// A stream in the table draws exactly what its Prng would have drawn, from wherever the Prng was.

import { describe, expect, it } from 'vitest';
import { SeedStreams } from './prng.ts';
import { PrngTable } from './prng-table.ts';

describe('PrngTable', () => {
  it("draws what each stream's Prng draws, streams independent, past growing", () => {
    const streams = new SeedStreams(2 ** 40 + 12345);
    const table = new PrngTable();
    const twins = [];
    for (let i = 0; i < 100; i++) {
      const prng = streams.stream('link', i);
      for (let k = 0; k < i % 3; k++) prng.float(); // taken over mid-stream
      table.add(prng);
      twins.push(streams.stream('link', i));
      for (let k = 0; k < i % 3; k++) twins[i]!.float();
    }
    for (let round = 0; round < 50; round++)
      for (let i = (round * 7) % 100; i < 100; i += 3) expect(table.float(i)).toBe(twins[i]!.float());
  });
});
