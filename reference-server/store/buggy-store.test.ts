// BuggyStore: with no bug it is the store it wraps (the whole contract passes); with each bug it
// breaks exactly the rule the simulated store breaks, and nothing else.

import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { BuggyStore, withStoreBugs } from './buggy-store.ts';
import { LogStore } from './log-store.ts';
import { MemoryStore } from './memory-store.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';
import type { MessageStore } from './message-store.ts';

describeMessageStoreContract(
  'BuggyStore without bugs',
  async () => ({ store: new BuggyStore(new MemoryStore(), []), dispose: async () => undefined }),
  { durable: false, propertyRuns: 20 },
);

async function opened(store: MessageStore, members = ['a', 'b']): Promise<MessageStore> {
  await store.open();
  await store.createConversation({ id: 'g', kind: 'group', members });
  return store;
}

const append = (store: MessageStore, from: string, cmid: string, ts = 10) =>
  store.append({ conv: 'g', from, cmid, body: `${from}/${cmid}`, ts });

async function readAll(store: MessageStore, after = 0, limit = 500) {
  const result = await store.read({ conv: 'g', after, limit });
  if (result.status !== 'ok') throw new Error(`read failed: ${result.status}`);
  return result;
}

describe('BuggyStore', () => {
  it("'no-idempotency': a resent cmid gets a new seq; reads show the cmid as sent", async () => {
    const store = await opened(new BuggyStore(new MemoryStore(), ['no-idempotency']));
    expect(await append(store, 'a', 'x')).toMatchObject({ seq: 1, duplicate: false });
    expect(await append(store, 'a', 'x')).toMatchObject({ seq: 2, duplicate: false });
    const { messages } = await readAll(store);
    expect(messages.map((m) => [m.seq, m.cmid])).toEqual([
      [1, 'x'],
      [2, 'x'],
    ]);
  });

  it("'key-without-sender': another sender's cmid is answered as a duplicate; the same sender's too", async () => {
    const store = await opened(new BuggyStore(new MemoryStore(), ['key-without-sender']));
    expect(await append(store, 'a', 'x', 10)).toEqual({
      status: 'ok',
      seq: 1,
      ts: 10,
      duplicate: false,
      membersVersion: 2,
    });
    expect(await append(store, 'b', 'x', 20)).toEqual({
      status: 'ok',
      seq: 1,
      ts: 10,
      duplicate: true,
      membersVersion: 2,
    });
    expect(await append(store, 'a', 'x', 30)).toEqual({
      status: 'ok',
      seq: 1,
      ts: 10,
      duplicate: true,
      membersVersion: 2,
    });
    expect(await append(store, 'b', 'y', 40)).toMatchObject({ seq: 2, duplicate: false });
    expect((await readAll(store)).messages.map((m) => m.from)).toEqual(['a', 'b']);
  });

  it("'key-without-sender': concurrent senders of one cmid share one seq; a refused first one is forgotten", async () => {
    const store = await opened(new BuggyStore(new MemoryStore(), ['key-without-sender']), ['a', 'b']);
    const [first, second] = await Promise.all([append(store, 'a', 'x'), append(store, 'b', 'x')]);
    expect([first, second]).toMatchObject([
      { seq: 1, duplicate: false },
      { seq: 1, duplicate: true },
    ]);
    expect(await append(store, 'outsider', 'z')).toEqual({ status: 'forbidden' });
    expect(await append(store, 'b', 'z')).toMatchObject({ seq: 2, duplicate: false });
  });

  it("'key-without-sender': keeps at most keyIndexEntriesMax keys, forgetting the oldest", async () => {
    const store = await opened(
      new BuggyStore(new MemoryStore(), ['key-without-sender'], { keyIndexEntriesMax: 2 }),
    );
    for (const cmid of ['k1', 'k2', 'k3']) await append(store, 'a', cmid);
    expect(await append(store, 'b', 'k1')).toMatchObject({ seq: 4, duplicate: false });
    expect(await append(store, 'b', 'k3')).toMatchObject({ seq: 3, duplicate: true });
  });

  it("'sync-skips': reads of more than one message leave out multiples of 7; single reads do not", async () => {
    const store = await opened(new BuggyStore(new MemoryStore(), ['sync-skips']));
    for (let i = 1; i <= 15; i++) await append(store, 'a', `m${i}`);
    const all = await readAll(store);
    expect(all.lastSeq).toBe(15);
    expect(all.messages.map((m) => m.seq)).toEqual([1, 2, 3, 4, 5, 6, 8, 9, 10, 11, 12, 13, 15]);
    expect((await readAll(store, 6, 1)).messages.map((m) => m.seq)).toEqual([7]);
  });

  it("'non-atomic-seq': concurrent appends report one seq, stored at the true seqs; serial ones are right", async () => {
    const store = await opened(new BuggyStore(new MemoryStore(), ['non-atomic-seq']));
    const acks = await Promise.all([
      append(store, 'a', 'p'),
      append(store, 'b', 'q'),
      append(store, 'a', 'r'),
    ]);
    expect(acks.map((ack) => ack.status === 'ok' && ack.seq)).toEqual([1, 1, 1]);
    expect(await append(store, 'a', 's')).toMatchObject({ seq: 4, duplicate: false });
    expect(await append(store, 'a', 'p')).toMatchObject({ seq: 1, duplicate: true });
    expect((await readAll(store)).messages.map((m) => [m.seq, m.cmid])).toEqual([
      [1, 'p'],
      [2, 'q'],
      [3, 'r'],
      [4, 's'],
    ]);
  });

  it('with no bug of its own it answers exactly as the store it wraps, concurrency included', async () => {
    const store = await opened(new BuggyStore(new MemoryStore(), ['dropped-pushes', 'ack-before-durable']));
    expect((store as BuggyStore).bugs.size).toBe(0);
    const acks = await Promise.all([
      append(store, 'a', 'p'),
      append(store, 'b', 'p'),
      append(store, 'a', 'p'),
    ]);
    expect(acks.map((ack) => ack.status === 'ok' && [ack.seq, ack.duplicate])).toEqual([
      [1, false],
      [2, false],
      [1, true],
    ]);
  });
});

describe('withStoreBugs', () => {
  it('returns the store itself unless a wrapper bug is named', () => {
    const memory = new MemoryStore();
    expect(withStoreBugs(memory, [])).toBe(memory);
    expect(withStoreBugs(memory, ['dropped-pushes', 'stuck-presence'])).toBe(memory);
    const wrapped = withStoreBugs(memory, ['sync-skips', 'dropped-pushes']);
    expect(wrapped).toBeInstanceOf(BuggyStore);
    expect([...(wrapped as BuggyStore).bugs]).toEqual(['sync-skips']);
  });

  it("refuses 'ack-before-durable' unless the store has it built in", () => {
    const dir = join(tmpdir(), 'chatsim-buggy-store-never-opened');
    expect(() => withStoreBugs(new MemoryStore(), ['ack-before-durable'])).toThrow(/ackBeforeDurable: true/);
    expect(() => withStoreBugs(new LogStore({ dir }), ['ack-before-durable'])).toThrow(
      /built into the store/,
    );
    const early = new LogStore({ dir, ackBeforeDurable: true });
    expect(withStoreBugs(early, ['ack-before-durable'])).toBe(early);
    expect(withStoreBugs(early, ['ack-before-durable', 'no-idempotency'])).toBeInstanceOf(BuggyStore);
  });
});
