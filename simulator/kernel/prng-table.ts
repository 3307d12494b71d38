// Many seeded streams in one typed array: four words of xoshiro128** state per stream, drawing exactly
// what a Prng of the same seed draws, without an object and four boxed numbers per stream (the link
// jitter of a million clients: about 90 bytes a client as Prng objects, 16 here).

import type { Prng } from './prng.ts';

export class PrngTable {
  private state = new Uint32Array(64);
  private count = 0;

  /** Takes over `prng`'s stream from where it is; returns the stream's index. */
  add(prng: Prng): number {
    if ((this.count + 1) * 4 > this.state.length) {
      const grown = new Uint32Array(this.state.length * 2);
      grown.set(this.state);
      this.state = grown;
    }
    prng.copyState(this.state, this.count * 4);
    return this.count++;
  }

  /** Stream `index`'s next draw, uniform in [0, 1): Prng.float's. */
  float(index: number): number {
    const s = this.state;
    const at = index * 4;
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
