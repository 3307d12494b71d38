// Tokens inside the simulation: `sim:<user>:<expMs>:<mac>`, where the mac is a keyed hash. Cheap
// enough for a million hellos, and forgeable only by a client that knows the run's key, as with
// HS256, so adversarial clients can be refused (4401) for forged or expired tokens.

import type { Claims } from '../../reference-server/core/inputs.ts';
import { hashString } from '../kernel/prng.ts';

export class SimTokens {
  constructor(private readonly key: number) {}

  mint(user: string, expMs: number, admin = false): string {
    const role = admin ? 'admin' : 'user';
    return `sim:${user}:${expMs}:${role}:${this.mac(user, expMs, role)}`;
  }

  forge(user: string, expMs: number): string {
    return `sim:${user}:${expMs}:user:${(this.mac(user, expMs, 'user') ^ 0x5a5a5a5a) >>> 0}`;
  }

  verify(token: string, now: number): { claims: Claims | null; reason?: string } {
    const parts = token.split(':');
    if (parts.length !== 5 || parts[0] !== 'sim') return { claims: null, reason: 'malformed token' };
    const [, user, exp, role, mac] = parts as [string, string, string, string, string];
    const expMs = Number(exp);
    if (String(this.mac(user, expMs, role)) !== mac) return { claims: null, reason: 'bad signature' };
    if (!(expMs > now)) return { claims: null, reason: 'token expired' };
    return { claims: { sub: user, admin: role === 'admin' } };
  }

  private mac(user: string, expMs: number, role: string): number {
    return hashString(`${this.key}|${user}|${expMs}|${role}`);
  }
}
