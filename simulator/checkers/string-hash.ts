// 32-bit string hashes, so checkers compare bodies and cmids without keeping them. Two independent
// hashes make a 64-bit key for idempotency keys (sender, conv, cmid): with 10M keys in a run the
// chance that two distinct keys collide is about 3e-6, and a collision could only report a false
// idempotency failure, which the witness (with its events) would show.

import { fmix32 } from '../kernel/prng.ts';

const fnvStart = 0x811c9dc5;

/** FNV-1a over UTF-16 code units. */
export function hash32(text: string): number {
  return fnvOver(fnvStart, text, 0, text.length) >>> 0;
}

/** A second hash, independent of hash32 (multiply-rotate with murmur3's finaliser). */
export function hash32b(text: string): number {
  return fmix32(mixOver(0x2545f491 ^ text.length, text, 0, text.length));
}

/** hash32's state after `text`'s code units start .. end - 1, from state `h`. */
function fnvOver(h: number, text: string, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    h ^= text.charCodeAt(i);
    h = Math.imul(h, 0x01000193);
  }
  return h;
}

/** hash32b's state after `text`'s code units start .. end - 1, from state `h`. */
function mixOver(h: number, text: string, start: number, end: number): number {
  for (let i = start; i < end; i++) {
    h = Math.imul(h ^ text.charCodeAt(i), 0x5bd1e995);
    h = (h << 13) | (h >>> 19);
  }
  return h;
}

/**
 * Pieces of a text, each a range of a longer string, hashed as their concatenation would be, without
 * making it: hash32 and hash32b of `text.slice(starts[0], ends[0]) + ... ` (the store's columns on the
 * checker thread hash a stored message's cmid, body and key in place, stored-columns.ts).
 */
export class PieceHash {
  private readonly texts: string[] = [];
  private readonly starts: number[] = [];
  private readonly ends: number[] = [];

  /** Forgets the pieces; returns this. */
  clear(): PieceHash {
    this.texts.length = 0;
    this.starts.length = 0;
    this.ends.length = 0;
    return this;
  }

  /** Adds `text`'s code units start .. end - 1 (the whole text by default); returns this. */
  add(text: string, start = 0, end = text.length): PieceHash {
    this.texts.push(text);
    this.starts.push(start);
    this.ends.push(end);
    return this;
  }

  /** hash32 of the concatenation. */
  hash32(): number {
    let h = fnvStart;
    for (let i = 0; i < this.texts.length; i++)
      h = fnvOver(h, this.texts[i]!, this.starts[i]!, this.ends[i]!);
    return h >>> 0;
  }

  /** hash32b of the concatenation. */
  hash32b(): number {
    let length = 0;
    for (let i = 0; i < this.texts.length; i++) length += this.ends[i]! - this.starts[i]!;
    let h = 0x2545f491 ^ length;
    for (let i = 0; i < this.texts.length; i++)
      h = mixOver(h, this.texts[i]!, this.starts[i]!, this.ends[i]!);
    return fmix32(h);
  }
}

/**
 * The text of a key made of two or three ids; the separator cannot occur in protocol ids. Concatenated,
 * not a rest array joined: it is built once or twice per send, ack and stored message (string-hash.ts's
 * join was 0.3% of a gate seed's self time; docs/benchmarks.md, session 28).
 */
export function keyText(a: string, b: string, c?: string): string {
  return c === undefined ? a + '\u0000' + b : a + '\u0000' + b + '\u0000' + c;
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
