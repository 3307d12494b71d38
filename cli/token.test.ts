import { describe, expect, it } from 'vitest';
import { createTokenVerifier } from '../reference-server/runtime/auth.ts';
import { main } from './main.ts';

function io(env: Record<string, string | undefined>) {
  const out: string[] = [];
  const err: string[] = [];
  return { out, err, io: { out: (l: string) => out.push(l), err: (l: string) => err.push(l), env } };
}

describe('chatsim token', () => {
  it('prints a token the server accepts, with the admin role when asked', async () => {
    const t = io({ CHAT_JWT_SECRET: 's3cret' });
    expect(await main(['token', '--sub', 'ops', '--admin'], t.io)).toBe(0);
    const verdict = await createTokenVerifier('s3cret')(t.out[0]!);
    expect(verdict).toEqual({ ok: true, claims: { sub: 'ops', admin: true } });
  });

  it('refuses without the secret or with a bad user id, exit 2', async () => {
    const none = io({});
    expect(await main(['token', '--sub', 'alice'], none.io)).toBe(2);
    expect(none.err.join('\n')).toMatch(/CHAT_JWT_SECRET is not set/);
    const bad = io({ CHAT_JWT_SECRET: 'x' });
    expect(await main(['token', '--sub', 'no spaces'], bad.io)).toBe(2);
  });
});
