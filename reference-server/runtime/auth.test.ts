import { SignJWT } from 'jose';
import { describe, expect, it } from 'vitest';
import { createTokenVerifier, mintToken } from './auth.ts';

const secret = 'test-secret-that-is-long-enough-for-hs256';
const verify = createTokenVerifier(secret);

async function sign(claims: Record<string, unknown>, key = secret, alg = 'HS256'): Promise<string> {
  return new SignJWT(claims).setProtectedHeader({ alg }).sign(new TextEncoder().encode(key));
}

const inOneHour = () => Math.floor(Date.now() / 1000) + 3600;

describe('createTokenVerifier', () => {
  it('accepts a valid token and maps its claims', async () => {
    expect(await verify(await mintToken(secret, { sub: 'alice' }))).toEqual({
      ok: true,
      claims: { sub: 'alice', admin: false },
    });
  });

  it('reads role admin as admin, any other role as not', async () => {
    expect(await verify(await mintToken(secret, { sub: 'root', admin: true }))).toEqual({
      ok: true,
      claims: { sub: 'root', admin: true },
    });
    const other = await sign({ sub: 'bob', exp: inOneHour(), role: 'moderator' });
    expect(await verify(other)).toEqual({ ok: true, claims: { sub: 'bob', admin: false } });
  });

  it('refuses an expired token', async () => {
    const result = await verify(await mintToken(secret, { sub: 'alice', expiresInSec: -60 }));
    expect(result).toEqual({ ok: false, reason: 'token expired' });
  });

  it('refuses a token signed with another secret', async () => {
    const result = await verify(await mintToken('another-secret-entirely-different', { sub: 'alice' }));
    expect(result).toEqual({ ok: false, reason: 'bad signature' });
  });

  it('refuses a token without sub or without exp', async () => {
    const noSub = await verify(await sign({ exp: inOneHour() }));
    expect(noSub.ok).toBe(false);
    expect(!noSub.ok && noSub.reason).toMatch(/sub/);
    const noExp = await verify(await sign({ sub: 'alice' }));
    expect(noExp.ok).toBe(false);
    expect(!noExp.ok && noExp.reason).toMatch(/exp/);
  });

  it('refuses a sub that is not a protocol id', async () => {
    const result = await verify(await sign({ sub: 'alice smith', exp: inOneHour() }));
    expect(result).toEqual({ ok: false, reason: 'sub is not a valid user id' });
  });

  it('refuses other algorithms, garbage and empty tokens', async () => {
    const hs512 = await sign({ sub: 'alice', exp: inOneHour() }, secret, 'HS512');
    expect(await verify(hs512)).toEqual({ ok: false, reason: 'algorithm not allowed (HS256 only)' });
    expect((await verify('not.a.jwt')).ok).toBe(false);
    expect(await verify('')).toEqual({ ok: false, reason: 'token missing' });
    expect(await verify('x'.repeat(10_000))).toEqual({ ok: false, reason: 'token too long' });
  });
});
