// Token verification for WebSocket hellos and HTTP bearer tokens, and minting for the tools that act
// as clients (tests, the bench, the simulator's live driver). Only HS256 is accepted, and a token
// counts only with a `sub` that is a protocol id and an `exp`, so the core never sees a malformed user.

import { errors, jwtVerify, SignJWT } from 'jose';
import type { Claims } from '../core/inputs.ts';
import { isId, protocolLimits } from '../protocol/limits.ts';

export type VerifyResult = { ok: true; claims: Claims } | { ok: false; reason: string };

export type TokenVerifier = (token: string) => Promise<VerifyResult>;

const encoder = new TextEncoder();

/**
 * Imports the secret as an HMAC key once; the returned verifier never rejects, it answers `{ok: false,
 * reason}`. jose imports a raw (Uint8Array) key into WebCrypto on every verification: about 40% of a
 * verification's CPU, paid by every hello of a connect storm (docs/benchmarks.md).
 */
export function createTokenVerifier(secret: string): TokenVerifier {
  if (secret.length === 0) throw new Error('createTokenVerifier: the secret must not be empty');
  const key = crypto.subtle.importKey(
    'raw',
    encoder.encode(secret),
    { name: 'HMAC', hash: 'SHA-256' },
    false,
    ['verify'],
  );
  return async (token) => {
    if (token.length === 0) return { ok: false, reason: 'token missing' };
    if (token.length > protocolLimits.tokenLengthMax) return { ok: false, reason: 'token too long' };
    try {
      const { payload } = await jwtVerify(token, await key, {
        algorithms: ['HS256'],
        requiredClaims: ['sub', 'exp'],
      });
      if (!isId(payload.sub)) return { ok: false, reason: 'sub is not a valid user id' };
      return { ok: true, claims: { sub: payload.sub, admin: payload.role === 'admin' } };
    } catch (error) {
      return { ok: false, reason: reasonOf(error) };
    }
  };
}

function reasonOf(error: unknown): string {
  if (error instanceof errors.JWTExpired) return 'token expired';
  if (error instanceof errors.JWSSignatureVerificationFailed) return 'bad signature';
  if (error instanceof errors.JWTClaimValidationFailed) return `claim ${error.claim}: ${error.reason}`;
  if (error instanceof errors.JOSEAlgNotAllowed) return 'algorithm not allowed (HS256 only)';
  if (error instanceof errors.JOSEError) return `invalid token (${error.code})`;
  return 'invalid token';
}

export type MintOptions = { sub: string; admin?: boolean; expiresInSec?: number };

/** A negative `expiresInSec` mints an already expired token, which tests need. */
export async function mintToken(secret: string, options: MintOptions): Promise<string> {
  const nowSec = Math.floor(Date.now() / 1000);
  const claims = options.admin ? { role: 'admin' } : {};
  return new SignJWT(claims)
    .setProtectedHeader({ alg: 'HS256', typ: 'JWT' })
    .setSubject(options.sub)
    .setIssuedAt(nowSec)
    .setExpirationTime(nowSec + (options.expiresInSec ?? 3600))
    .sign(encoder.encode(secret));
}
