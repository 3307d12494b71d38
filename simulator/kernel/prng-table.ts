// Many seeded streams in one typed array: four words of xoshiro128** state per stream, drawing exactly
// what a Prng of the same seed draws, without an object and four boxed numbers per stream (the link
// jitter of a million clients: about 90 bytes a client as Prng objects, 16 here). A table may give each
// stream's row more words than its state (`rowWords`): its owner keeps what it reads beside each draw
// there (the network: a client's connection and link flags beside its jitter, one cache line a frame).

import type { Prng } from './prng.ts';

/** Words of a stream's state, at the start of its row. */
export const prngStateWords = 4;

export class PrngTable {
  /** Row i at [i * rowWords, (i + 1) * rowWords): the state, then the owner's words. Replaced when grown. */
  words: Uint32Array;
  private count = 0;

  constructor(readonly rowWords: number = prngStateWords) {
    if (!Number.isInteger(rowWords) || rowWords < prngStateWords)
      throw new Error(
        `a PrngTable row holds the ${prngStateWords} words of its state at least, got ${rowWords}`,
      );
    this.words = new Uint32Array(16 * rowWords);
  }

  /** Takes over `prng`'s stream from where it is; returns the stream's index (its row). */
  add(prng: Prng): number {
    if ((this.count + 1) * this.rowWords > this.words.length) {
      const grown = new Uint32Array(this.words.length * 2);
      grown.set(this.words);
      this.words = grown;
    }
    prng.copyState(this.words, this.count * this.rowWords);
    return this.count++;
  }

  /** Stream `index`'s next draw, uniform in [0, 1): Prng.float's. */
  float(index: number): number {
    const s = this.words;
    const at = index * this.rowWords;
    const a = s[at]!;
    const b = s[at + 1]!;
    const c = s[at + 2]! ^ a;
    const d = s[at + 3]! ^ b;
    const result = Math.imul(rotl(Math.imul(b, 5), 7), 9) >>> 0;
    s[at] = a ^ d;
    s[at + 1] = b ^ c;
    s[at + 2] = c ^ (b << 9);
    s[at + 3] = rotl(d, 11);
    return result / 4294967296;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}
