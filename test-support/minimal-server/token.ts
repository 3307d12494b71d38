// HS256 JWT verification, synchronous (node:crypto), so a hello is judged in the tick it arrives and
// frames behind it need no queue. Accepts exactly what protocol.md describes: alg HS256, a `sub` that
// is an id, a numeric `exp` in the future, optional `role`. Anything else is "not a valid token".

import { createHmac, timingSafeEqual } from 'node:crypto';
import { isId } from './frames.ts';

export type Claims = { user: string; admin: boolean };

/** The token's claims, or a reason it is refused. */
export function verifyToken(token: unknown, secret: string, nowMs: number): Claims | { refused: string } {
  if (typeof token !== 'string' || token.length === 0) return { refused: 'no token' };
  const parts = token.split('.');
  if (parts.length !== 3) return { refused: 'not a JWT' };
  const [headerPart, payloadPart, signaturePart] = parts as [string, string, string];
  const header = decodeJson(headerPart);
  if (header?.alg !== 'HS256' || 'crit' in header) return { refused: 'not an HS256 JWT' };
  const expected = createHmac('sha256', secret).update(`${headerPart}.${payloadPart}`).digest();
  const given = Buffer.from(signaturePart, 'base64url');
  if (given.length !== expected.length || !timingSafeEqual(given, expected))
    return { refused: 'bad signature' };
  const payload = decodeJson(payloadPart);
  if (!payload) return { refused: 'payload is not a JSON object' };
  if (typeof payload.exp !== 'number' || !Number.isFinite(payload.exp)) return { refused: 'no exp' };
  if (payload.exp * 1000 <= nowMs) return { refused: 'expired' };
  if (typeof payload.nbf === 'number' && payload.nbf * 1000 > nowMs) return { refused: 'not yet valid' };
  if (!isId(payload.sub)) return { refused: 'sub is not a user id' };
  return { user: payload.sub, admin: payload.role === 'admin' };
}

function decodeJson(part: string): Record<string, unknown> | null {
  try {
    const value: unknown = JSON.parse(Buffer.from(part, 'base64url').toString('utf8'));
    return typeof value === 'object' && value !== null && !Array.isArray(value)
      ? (value as Record<string, unknown>)
      : null;
  } catch {
    return null;
  }
}
