// Tokens inside the simulation: `sim:<user>:<expMs>:<mac>`, where the mac is a keyed hash. Cheap
// enough for a million hellos, and forgeable only by a client that knows the run's key, as with
// HS256, so adversarial clients can be refused (4401) for forged or expired tokens.

import type { Claims } from '../../reference-server/core/inputs.ts';
import { fmix32 } from '../kernel/prng.ts';

const fnvOffset = 0x811c9dc5;
const fnvPrime = 0x01000193;
const bar = '|'.charCodeAt(0);

/** FNV-1a of `text` continued from `h` (hashString's loop, without building one string of the parts). */
function fnv(h: number, text: string): number {
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), fnvPrime);
  return h;
}

export class SimTokens {
  /** The key's text, hashed first into every mac. */
  private readonly keyText: string;

  constructor(key: number) {
    this.keyText = String(key);
  }

  mint(user: string, expMs: number, admin = false): string {
    const role = admin ? 'admin' : 'user';
    const expText = String(expMs);
    return `sim:${user}:${expText}:${role}:${this.mac(user, expText, role)}`;
  }

  forge(user: string, expMs: number): string {
    return `sim:${user}:${expMs}:user:${(this.mac(user, String(expMs), 'user') ^ 0x5a5a5a5a) >>> 0}`;
  }

  /**
   * The token's five `:`-separated parts read in place (a hello each: a split made an array and five
   * strings, the mac's input one more): the same verdicts as splitting it.
   */
  verify(token: string, now: number): { claims: Claims | null; reason?: string } {
    const c1 = token.indexOf(':');
    const c2 = c1 < 0 ? -1 : token.indexOf(':', c1 + 1);
    const c3 = c2 < 0 ? -1 : token.indexOf(':', c2 + 1);
    const c4 = c3 < 0 ? -1 : token.indexOf(':', c3 + 1);
    if (c4 < 0 || token.indexOf(':', c4 + 1) >= 0 || c1 !== 3 || !token.startsWith('sim'))
      return { claims: null, reason: 'malformed token' };
    const user = token.slice(c1 + 1, c2);
    const expMs = Number(token.slice(c2 + 1, c3));
    const role = token.slice(c3 + 1, c4);
    if (!sameDecimal(token, c4 + 1, this.mac(user, String(expMs), role)))
      return { claims: null, reason: 'bad signature' };
    if (!(expMs > now)) return { claims: null, reason: 'token expired' };
    return { claims: { sub: user, admin: role === 'admin' } };
  }

  /** hashString(`${key}|${user}|${expText}|${role}`), hashed part by part. */
  private mac(user: string, expText: string, role: string): number {
    let h = fnv(fnvOffset, this.keyText);
    h = Math.imul(h ^ bar, fnvPrime);
    h = fnv(h, user);
    h = Math.imul(h ^ bar, fnvPrime);
    h = fnv(h, expText);
    h = Math.imul(h ^ bar, fnvPrime);
    h = fnv(h, role);
    return fmix32(h);
  }
}

/** Whether `text` from `from` to its end is `String(value)` for a 32-bit unsigned `value`. */
function sameDecimal(text: string, from: number, value: number): boolean {
  const digits = String(value);
  if (text.length - from !== digits.length) return false;
  for (let i = 0; i < digits.length; i++)
    if (text.charCodeAt(from + i) !== digits.charCodeAt(i)) return false;
  return true;
}
