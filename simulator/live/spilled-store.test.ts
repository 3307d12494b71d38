import { existsSync, mkdtempSync, readdirSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import fc from 'fast-check';
import { afterAll, describe, expect, it } from 'vitest';
import type { Message } from '../../reference-server/protocol/frames.ts';
import { memorySink } from './final-read.ts';
import { SpilledStore } from './spilled-store.ts';

const parent = mkdtempSync(join(tmpdir(), 'spilled-store-test-'));
afterAll(() => rmSync(parent, { recursive: true, force: true }));

function message(conv: string, seq: number, body = `b${seq}`): Message {
  return { conv, seq, from: `u${seq % 3}`, cmid: `c${conv}-${seq}`, body, ts: 1000 + seq };
}

describe('SpilledStore: the final read on disk', () => {
  it('gives back each message as read, across conversations read at once and index pages', () => {
    const store = new SpilledStore(parent);
    const a = store.conversation('a');
    const b = store.conversation('b');
    // Interleaved, out of order, a multi-byte body, a seq read twice (the first stays), a hole at 7.
    for (let seq = 600; seq >= 1; seq--) {
      if (seq === 7) continue;
      a.put(message('a', seq, seq === 300 ? 'é"\\\n☃' : `b${seq}`));
      if (seq <= 5) b.put(message('b', seq));
    }
    a.put(message('a', 10, 'again'));
    a.lastSeq = 601;
    b.lastSeq = 5;
    expect([a.has(7), a.has(8), a.has(601), b.has(5)]).toEqual([false, true, false, true]);
    b.done();
    a.done();
    expect([...store.conversations()].sort()).toEqual(['a', 'b']);
    expect([store.lastSeq('a'), store.lastSeq('b'), store.lastSeq('zz')]).toEqual([601, 5, 0]);
    for (let seq = 1; seq <= 600; seq++)
      expect(store.message('a', seq)).toEqual(
        seq === 7 ? undefined : message('a', seq, seq === 300 ? 'é"\\\n☃' : `b${seq}`),
      );
    expect(store.message('a', 10)?.body).toBe('b10');
    expect([store.message('a', 601), store.message('a', 0), store.message('a', 1.5)]).toEqual([
      undefined,
      undefined,
      undefined,
    ]);
    expect(store.message('b', 3)).toEqual(message('b', 3));
    expect(store.message('b', 6)).toBeUndefined();
    // Looked up out of order too (durable-ack walks its acks in time order, across conversations).
    expect(store.message('a', 599)?.seq).toBe(599);
    expect(store.message('b', 1)?.seq).toBe(1);
    expect(store.message('a', 2)?.seq).toBe(2);
    store.close();
  });

  it('holds the same as the in-memory read for any interleaving of pages', () => {
    fc.assert(
      fc.property(
        fc.array(fc.tuple(fc.constantFrom('x', 'y', 'z'), fc.integer({ min: 1, max: 700 }), fc.string()), {
          maxLength: 300,
        }),
        (puts) => {
          const store = new SpilledStore(parent);
          const sinks = new Map(['x', 'y', 'z'].map((c) => [c, store.conversation(c)] as const));
          const model = new Map(['x', 'y', 'z'].map((c) => [c, memorySink()] as const));
          for (const [conv, seq, body] of puts) {
            sinks.get(conv)!.put(message(conv, seq, body));
            model.get(conv)!.put(message(conv, seq, body));
          }
          for (const sink of sinks.values()) sink.done();
          const seqs = Array.from({ length: 703 }, (_, seq) => seq);
          for (const [conv, sink] of model)
            expect(seqs.map((seq) => store.message(conv, seq))).toEqual(
              seqs.map((seq) => sink.messages.get(seq)),
            );
          store.close();
        },
      ),
      { numRuns: 15 },
    );
  });

  it('removes its files when closed and refuses a conversation read twice', () => {
    const store = new SpilledStore(parent);
    const before = readdirSync(parent).length;
    store.conversation('a').done();
    expect(() => store.conversation('a')).toThrow(/already/);
    store.close();
    store.close();
    expect(readdirSync(parent).length).toBe(before - 1);
    expect(existsSync(parent)).toBe(true);
  });
});
