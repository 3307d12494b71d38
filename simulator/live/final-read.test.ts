import { readdirSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../reference-server/protocol/frames.ts';
import type { AdminApi } from './admin-api.ts';
import { finalRead } from './final-read.ts';
import { TokenCache } from './hs256.ts';

const tokens = new TokenCache('final-read-test-secret-0123456789', 3600);
const message = (conv: string, seq: number): Message => ({
  conv,
  seq,
  from: 'u1',
  cmid: `c${seq}`,
  body: `b${seq}`,
  ts: seq,
});

/**
 * A black box holding `lastSeq` messages per conversation; `readable(user, conv)` gives the seqs a user
 * may read (others are left out of its pages, as a server leaves out what a member may not read), or
 * null for a 403. Pages of at most `limit`.
 */
function fakeApi(
  lastSeqs: Record<string, number>,
  readable: (user: string, conv: string) => [number, number] | null,
  fail?: (conv: string) => boolean,
): { api: AdminApi; requests: string[] } {
  const requests: string[] = [];
  const userOf = new Map([...['u1', 'u2', 'u3']].map((u) => [tokens.of(u), u]));
  const api = {
    async readMessages(conv: string, token: string, after: number, limit: number) {
      const user = userOf.get(token)!;
      requests.push(`${user}:${conv}:${after}`);
      if (fail?.(conv)) throw new Error(`GET messages of ${conv} failed: ECONNRESET`);
      const range = readable(user, conv);
      if (range === null) return { status: 403, messages: [], lastSeq: 0 };
      const lastSeq = lastSeqs[conv]!;
      const messages: Message[] = [];
      for (let seq = Math.max(after + 1, range[0]); seq <= Math.min(range[1], lastSeq); seq++) {
        if (messages.length === limit) break;
        messages.push(message(conv, seq));
      }
      return { status: 200, messages, lastSeq };
    },
  } as unknown as AdminApi;
  return { api, requests };
}

const spillDirs = () => readdirSync(tmpdir()).filter((name) => name.startsWith('chatsim-final-read-')).length;

describe('finalRead: the black box read after settle, to disk', () => {
  it('covers each conversation member after member, in pages, and names what no member could read', async () => {
    // g: u1 joined at 600 (reads 600..), u2 left at 700 (reads ..700); d: nobody reads 3..4.
    // x: no member may read it at all (its lastSeq unknown, not 0).
    const { api } = fakeApi({ g: 1200, d: 5, e: 0, x: 3 }, (user, conv) => {
      if (conv === 'x') return null;
      if (conv === 'g') return user === 'u1' ? [600, 1e9] : user === 'u2' ? [1, 700] : null;
      if (conv === 'd') return user === 'u1' ? [1, 2] : user === 'u2' ? [5, 5] : null;
      return [1, 1e9];
    });
    const readers = new Map([
      ['g', ['u3', 'u1', 'u2']],
      ['d', ['u1', 'u2']],
      ['e', ['u1']],
      ['x', ['u1', 'u2']],
    ]);
    const read = await finalRead(api, tokens, readers);
    try {
      const { store } = read;
      expect([...store.conversations()].sort()).toEqual(['d', 'e', 'g', 'x']);
      expect([store.lastSeq('g'), store.lastSeq('d'), store.lastSeq('e')]).toEqual([1200, 5, 0]);
      for (const seq of [1, 599, 600, 700, 701, 1200])
        expect(store.message('g', seq)).toEqual(message('g', seq));
      expect([1, 2, 3, 4, 5].map((seq) => store.message('d', seq)?.seq)).toEqual([
        1,
        2,
        undefined,
        undefined,
        5,
      ]);
      expect(read.uncovered.sort()).toEqual(['d', 'x']);
      expect(read.requests).toBeGreaterThan(5);
    } finally {
      read.store.close();
    }
  });

  it('a request that fails fails the read and leaves no file behind', async () => {
    const before = spillDirs();
    const { api } = fakeApi(
      { a: 3, b: 3 },
      () => [1, 1e9],
      (conv) => conv === 'b',
    );
    await expect(
      finalRead(
        api,
        tokens,
        new Map([
          ['a', ['u1']],
          ['b', ['u1']],
        ]),
      ),
    ).rejects.toThrow(/ECONNRESET/);
    expect(spillDirs()).toBe(before);
  });
});
