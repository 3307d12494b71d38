import { describe, expect, it } from 'vitest';
import { hashString } from '../kernel/prng.ts';
import { SimTokens } from './sim-tokens.ts';

/** SimTokens.verify as it was, splitting the token and hashing one concatenated string: the oracle. */
function verifyBySplit(key: number, token: string, now: number): { claims: unknown; reason?: string } {
  const parts = token.split(':');
  if (parts.length !== 5 || parts[0] !== 'sim') return { claims: null, reason: 'malformed token' };
  const [, user, exp, role, mac] = parts as [string, string, string, string, string];
  const expMs = Number(exp);
  if (String(hashString(`${key}|${user}|${expMs}|${role}`)) !== mac)
    return { claims: null, reason: 'bad signature' };
  if (!(expMs > now)) return { claims: null, reason: 'token expired' };
  return { claims: { sub: user, admin: role === 'admin' } };
}

describe('SimTokens', () => {
  const key = 2_654_435_761;
  const tokens = new SimTokens(key);

  it('macs the one string of key, user, expiry and role (hashString), part by part', () => {
    expect(tokens.mint('u12', 86_400_000)).toBe(
      `sim:u12:86400000:user:${hashString(`${key}|u12|86400000|user`)}`,
    );
    expect(tokens.mint('a', 5, true)).toBe(`sim:a:5:admin:${hashString(`${key}|a|5|admin`)}`);
  });

  it('verifies what it minted, and judges every other token as splitting on `:` did', () => {
    const token = tokens.mint('u12', 1000);
    expect(tokens.verify(token, 999)).toEqual({ claims: { sub: 'u12', admin: false } });
    expect(tokens.verify(tokens.mint('root', 1000, true), 0)).toEqual({
      claims: { sub: 'root', admin: true },
    });
    expect(tokens.verify(token, 1000)).toEqual({ claims: null, reason: 'token expired' });
    expect(tokens.verify(tokens.forge('u12', 1000), 0)).toEqual({ claims: null, reason: 'bad signature' });
    expect(tokens.verify(`${token}:x`, 0)).toEqual({ claims: null, reason: 'malformed token' });
    const cases = [
      token,
      tokens.mint('root', 1000, true),
      tokens.forge('u12', 1000),
      `${token}0`,
      token.slice(0, -1),
      token.replace(':1000:', ':01000:'),
      token.replace(':1000:', ':1e3:'),
      token.replace(':1000:', '::'),
      token.replace(':user:', ':admin:'),
      `${token}:x`,
      token.replace('sim:', 'sin:'),
      token.replace('sim:', 'xsim:'),
      `:${token}`,
      'sim:u:1:user',
      'sim::::',
      '',
      'sim',
    ];
    for (const now of [0, 999, 1000, 2000])
      for (const text of cases) expect(tokens.verify(text, now)).toEqual(verifyBySplit(key, text, now));
    expect(new SimTokens(key + 1).verify(token, 0).reason).toBe('bad signature');
  });
});
