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

  it("keeps an owner's words beside each stream's state, past growing, and draws the same", () => {
    const streams = new SeedStreams(7);
    const table = new PrngTable(7);
    const twins = [];
    for (let i = 0; i < 40; i++) {
      expect(table.add(streams.stream('link', i))).toBe(i);
      for (let w = 4; w < 7; w++) table.words[i * 7 + w] = 1000 * i + w;
      twins.push(streams.stream('link', i));
    }
    for (let round = 0; round < 20; round++)
      for (let i = round % 40; i < 40; i += 7) expect(table.float(i)).toBe(twins[i]!.float());
    for (let i = 0; i < 40; i++)
      for (let w = 4; w < 7; w++) expect(table.words[i * 7 + w]).toBe(1000 * i + w);
  });

  it('refuses a row too short for the state', () => {
    expect(() => new PrngTable(3)).toThrow(/4 words/);
  });
});
