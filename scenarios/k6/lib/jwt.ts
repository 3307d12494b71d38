// The HS256 tokens of the protocol (`sub`, `exp`, optional `role: "admin"`), minted inside k6. The
// HMAC and base64url encoders are passed in (k6/crypto and k6/encoding in a script, node:crypto in
// the unit test), so the token format is tested against a real verifier outside k6.

export type Encoders = {
  /** base64url without padding of a UTF-8 string. */
  base64url(text: string): string;
  /** HMAC-SHA256 of `data` with `secret`, base64url without padding. */
  hmacSha256(secret: string, data: string): string;
};

export function mintToken(
  encoders: Encoders,
  secret: string,
  sub: string,
  options: { admin?: boolean; nowSec: number; lifetimeSec?: number },
): string {
  const header = encoders.base64url(JSON.stringify({ alg: 'HS256', typ: 'JWT' }));
  const claims: Record<string, unknown> = {
    sub,
    iat: options.nowSec,
    exp: options.nowSec + (options.lifetimeSec ?? 3600),
  };
  if (options.admin) claims.role = 'admin';
  const payload = encoders.base64url(JSON.stringify(claims));
  return `${header}.${payload}.${encoders.hmacSha256(secret, `${header}.${payload}`)}`;
}
