// 32-bit string hashes, so checkers compare bodies and cmids without keeping them. Two independent
// hashes make a 64-bit key for idempotency keys (sender, conv, cmid): with 10M keys in a run the
// chance that two distinct keys collide is about 3e-6, and a collision could only report a false
// idempotency failure, which the witness (with its events) would show.

import { fmix32 } from '../kernel/prng.ts';

/** FNV-1a over UTF-16 code units. */
export function hash32(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h >>> 0;
}

/** A second hash, independent of hash32 (multiply-rotate with murmur3's finaliser). */
export function hash32b(text: string): number {
  let h = 0x2545f491 ^ text.length;
  for (let i = 0; i < text.length; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
    h = (h << 13) | (h >>> 19);
  }
  return fmix32(h);
}

/** The text of a key made of several ids; the separator cannot occur in protocol ids. */
export function keyText(...parts: string[]): string {
  return parts.join('\u0000');
}

/** How a hash is shown in a witness, where the text itself was not kept. */
export function hashLabel(hash: number): string {
  return '#' + hash.toString(16).padStart(8, '0');
}

/**
 * Remembers the hash of the last text seen in each of `entries` places (say, a message slot modulo
 * the size), so a body displayed on many devices in a row is hashed once: a hit costs one string
 * comparison, usually of two references to the same string. Bounded: it holds `entries` strings.
 */
export class RecentHashes {
  private readonly texts: (string | undefined)[];
  private readonly hashes: Uint32Array;
  private readonly mask: number;

  /** `hashOf` maps a text to its number (default: hash32); any pure function of the text will do. */
  constructor(
    entries: number,
    private readonly hashOf: (text: string) => number = hash32,
  ) {
    let size = 1;
    while (size < entries) size *= 2;
    this.texts = new Array<string | undefined>(size);
    this.hashes = new Uint32Array(size);
    this.mask = size - 1;
  }

  hash(place: number, text: string): number {
    const at = place & this.mask;
    if (this.texts[at] === text) return this.hashes[at]!;
    const hash = this.hashOf(text);
    this.texts[at] = text;
    this.hashes[at] = hash;
    return hash;
  }
}
