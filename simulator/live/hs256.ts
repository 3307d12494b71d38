// HS256 JWTs minted synchronously, for the live driver's virtual clients: the sans-I/O client asks
// for a token inside `connected()` and cannot wait for a promise. Same wire format as protocol.md
// (`sub`, `exp`, optional `role: "admin"`); a wrong-secret variant forges tokens for adversaries.

import { createHmac } from 'node:crypto';

const header = base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));

function base64url(text: string): string {
  return Buffer.from(text, 'utf8').toString('base64url');
}

export function mintHs256(secret: string, sub: string, expSec: number, admin = false): string {
  const claims: Record<string, unknown> = { sub, iat: Math.floor(Date.now() / 1000), exp: expSec };
  if (admin) claims.role = 'admin';
  const body = `${header}.${base64url(JSON.stringify(claims))}`;
  const mac = createHmac('sha256', secret).update(body).digest('base64url');
  return `${body}.${mac}`;
}

/** A cache of one token per user, valid for `lifeSec` from its first use (a run never outlives it). */
export class TokenCache {
  private readonly tokens = new Map<string, string>();
  private readonly expSec: number;

  constructor(
    private readonly secret: string,
    lifeSec: number,
  ) {
    this.expSec = Math.floor(Date.now() / 1000) + lifeSec;
  }

  of(user: string): string {
    let token = this.tokens.get(user);
    if (token === undefined) {
      token = mintHs256(this.secret, user, this.expSec);
      this.tokens.set(user, token);
    }
    return token;
  }

  admin(sub = 'chatsim-admin'): string {
    return mintHs256(this.secret, sub, this.expSec, true);
  }

  /** Signed with another secret: a conforming server refuses it (4401). */
  forged(user: string): string {
    return mintHs256(`${this.secret}-forged`, user, this.expSec);
  }
}
