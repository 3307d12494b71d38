// The pure parts of the k6 scripts, under vitest: exactly-once in-order display and the agreement and
// idempotency checks (ConversationLog, AckBook), the environment and topology (config), and the tokens
// (jwt, with node:crypto in place of k6/crypto, verified by a verifier that is not the scripts' own).

import { createHmac } from 'node:crypto';
import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { verifyToken } from '../../../test-support/minimal-server/token.ts';
import { allConversations, chatLoadConfig, conversationOf, userId } from './config.ts';
import { AckBook, ConversationLog, type Message } from './conversation-log.ts';
import { mintToken } from './jwt.ts';

const message = (seq: number, body = `body ${seq}`): Message => ({
  conv: 'c',
  seq,
  from: 'u',
  cmid: `m${seq}`,
  body,
  ts: 1000 + seq,
});

describe('ConversationLog', () => {
  it('displays any arrival order of 1..n, with repeats, exactly once and in seq order', () => {
    const arrivals = fc
      .integer({ min: 1, max: 30 })
      .chain((n) =>
        fc.tuple(
          fc.constant(n),
          fc.shuffledSubarray([...Array(n).keys(), ...Array(n).keys()], { minLength: 2 * n }),
        ),
      );
    fc.assert(
      fc.property(arrivals, ([n, order]) => {
        const log = new ConversationLog('c');
        const shown = order.flatMap((i) => log.offer(message(i + 1)).shown.map((m) => m.seq));
        expect(shown).toEqual(Array.from({ length: n }, (_, i) => i + 1));
        expect(log.displayedUpTo).toBe(n);
      }),
    );
  });

  it('flags a seq seen with another body, and counts repeats as duplicates', () => {
    const log = new ConversationLog('c');
    expect(log.offer(message(1))).toMatchObject({ duplicate: false, disagreement: false });
    expect(log.offer(message(1))).toMatchObject({ duplicate: true, disagreement: false });
    expect(log.offer(message(1, 'another body'))).toMatchObject({ duplicate: true, disagreement: true });
    expect(log.offer(message(3))).toMatchObject({ shown: [], disagreement: false });
    expect(log.offer(message(3, 'changed while held'))).toMatchObject({ disagreement: true });
  });

  it('knows when it is behind, and skips seqs a batch proves unreadable', () => {
    const log = new ConversationLog('c');
    log.learnLastSeq(5);
    expect(log.behind).toBe(true);
    log.skipUnreadable(0, 4);
    expect(log.displayedUpTo).toBe(3);
    expect(log.offer(message(4)).shown.map((m) => m.seq)).toEqual([4]);
    log.skipUnreadable(1, 9); // not an answer to a sync after the display position: ignored
    expect(log.displayedUpTo).toBe(4);
  });
});

describe('AckBook', () => {
  it('accepts the same seq again and flags a cmid acked with another seq', () => {
    const book = new AckBook(2);
    expect(book.record('c', 'a', 1)).toBe(true);
    expect(book.record('c', 'a', 1)).toBe(true);
    expect(book.record('c', 'a', 2)).toBe(false);
    expect(book.record('d', 'a', 2)).toBe(true);
  });
});

describe('config', () => {
  it('reports every problem at once', () => {
    expect(() => chatLoadConfig({ USERS: 'ten', GROUP_SIZE: '0', ID_PREFIX: 'bad prefix' })).toThrow(
      /CHAT_URL[\s\S]*CHAT_JWT_SECRET[\s\S]*USERS[\s\S]*GROUP_SIZE[\s\S]*ID_PREFIX/,
    );
    expect(() =>
      chatLoadConfig({ CHAT_URL: 'http://h:1', CHAT_JWT_SECRET: 's', USERS: '10', GROUP_SIZE: '3' }),
    ).toThrow(/multiple of GROUP_SIZE/);
  });

  it('derives the WebSocket URL and a topology every instance agrees on', () => {
    const config = chatLoadConfig({
      CHAT_URL: 'https://chat.example:8443/',
      CHAT_JWT_SECRET: 's',
      USERS: '6',
      GROUP_SIZE: '3',
    });
    expect(config.wsUrl).toBe('wss://chat.example:8443/v1/ws');
    expect(userId(config, 7)).toBe('k6-u1');
    expect(conversationOf(config, 5)).toEqual({ id: 'k6-c2', members: ['k6-u4', 'k6-u5', 'k6-u6'] });
    expect(allConversations(config).map((c) => c.id)).toEqual(['k6-c1', 'k6-c2']);
    for (let n = 1; n <= 6; n++) expect(conversationOf(config, n).members).toContain(userId(config, n));
  });
});

describe('jwt', () => {
  const encoders = {
    base64url: (text: string) => Buffer.from(text).toString('base64url'),
    hmacSha256: (secret: string, data: string) =>
      createHmac('sha256', secret).update(data).digest('base64url'),
  };

  it('mints HS256 tokens a protocol verifier accepts, with the admin role when asked', () => {
    const nowSec = Math.floor(Date.now() / 1000);
    const user = mintToken(encoders, 'secret', 'k6-u1', { nowSec });
    const admin = mintToken(encoders, 'secret', 'k6-admin', { nowSec, admin: true });
    expect(verifyToken(user, 'secret', Date.now())).toEqual({ user: 'k6-u1', admin: false });
    expect(verifyToken(admin, 'secret', Date.now())).toEqual({ user: 'k6-admin', admin: true });
    expect(verifyToken(user, 'other secret', Date.now())).toHaveProperty('refused');
  });
});
