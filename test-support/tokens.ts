// Mints the JWTs of protocol.md (HS256; `sub`, `exp`, optional `role: "admin"`) with jose directly,
// not with the server's own helper, so the conformance tests check the wire contract rather than agree
// with the server's code. Also mints the bad ones: wrong secret, expired, no subject.

import { SignJWT } from 'jose';

export type TokenOptions = {
  admin?: boolean;
  /** Seconds from now until `exp`; negative for an already expired token. Default one hour. */
  expiresInSec?: number;
  /** Sign with this secret instead of the server's (a forged token). */
  secret?: string;
  /** Leave out `sub`. */
  noSubject?: boolean;
};

export async function mintTestToken(
  secret: string,
  sub: string,
  options: TokenOptions = {},
): Promise<string> {
  const nowSec = Math.floor(Date.now() / 1000);
  const claims: Record<string, unknown> = {};
  if (options.admin) claims.role = 'admin';
  let jwt = new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + (options.expiresInSec ?? 3600));
  if (!options.noSubject) jwt = jwt.setSubject(sub);
  return jwt.sign(new TextEncoder().encode(options.secret ?? secret));
}
