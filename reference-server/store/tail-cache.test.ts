import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../protocol/frames.ts';
import { cachedMessageBytes, TailCache } from './tail-cache.ts';

const message = (conv: string, seq: number, bodyChars = 10): Message => ({
  conv,
  seq,
  from: 'u1',
  cmid: `c${seq}`,
  body: 'x'.repeat(bodyChars),
  ts: seq,
});

describe('TailCache: bounded per conversation, in conversations and in bytes', () => {
  it('keeps the newest messages of each conversation, consecutive, up to its bound', () => {
    const cache = new TailCache(4, 10);
    for (let seq = 1; seq <= 10; seq++) cache.push(message('a', seq));
    expect(cache.range('a', 7, 10)?.map((m) => m.seq)).toEqual([7, 8, 9, 10]);
    expect(cache.range('a', 6, 10)).toBeNull();
    expect(cache.range('a', 9, 11)).toBeNull();
    // Copies: a caller's change does not reach the cache.
    cache.range('a', 10, 10)![0]!.body = 'changed';
    expect(cache.range('a', 10, 10)![0]!.body).toBe('xxxxxxxxxx');
    // A seq that does not follow starts the tail again.
    cache.push(message('a', 20));
    expect(cache.range('a', 20, 20)?.map((m) => m.seq)).toEqual([20]);
    expect(cache.range('a', 10, 10)).toBeNull();
    expect(cache.bytes).toBe(cachedMessageBytes(message('a', 20)));
  });

  it('evicts the least recently touched conversation past its conversation bound', () => {
    const cache = new TailCache(4, 2);
    cache.push(message('a', 1));
    cache.push(message('b', 1));
    cache.push(message('a', 2));
    cache.push(message('c', 1));
    expect(cache.conversations).toBe(2);
    expect(cache.range('b', 1, 1)).toBeNull();
    expect(cache.range('a', 1, 2)).not.toBeNull();
  });

  it('never counts for more than its byte bound, whatever the bodies, and counts exactly what it holds', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.integer({ min: 0, max: 5 }), fc.integer({ min: 0, max: 4096 })), {
          maxLength: 200,
        }),
        fc.integer({ min: 1, max: 40_000 }),
        (pushes, bytesMax) => {
          const cache = new TailCache(8, 4, bytesMax);
          const next = new Map<string, number>();
          const held = new Map<string, Message[]>();
          for (const [c, bodyChars] of pushes) {
            const conv = `c${c}`;
            const seq = (next.get(conv) ?? 0) + 1;
            next.set(conv, seq);
            const m = message(conv, seq, bodyChars);
            cache.push(m);
            held.set(conv, [...(held.get(conv) ?? []), m]);
            expect(cache.bytes).toBeLessThanOrEqual(bytesMax);
            expect(cache.conversations).toBeLessThanOrEqual(4);
          }
          // The count is the sum over what a range still returns (each conversation's cached tail).
          let counted = 0;
          for (const [conv, messages] of held) {
            let first = messages.length;
            while (first > 0 && cache.range(conv, messages[first - 1]!.seq, messages.at(-1)!.seq) !== null)
              first--;
            for (const m of messages.slice(first)) counted += cachedMessageBytes(m);
            expect(messages.length - first).toBeLessThanOrEqual(8);
          }
          expect(cache.bytes).toBe(counted);
        },
      ),
      { numRuns: 60 },
    );
  });
});
