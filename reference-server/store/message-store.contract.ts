// The one contract every MessageStore passes (memory, log, and later Redis and Cassandra): seqs,
// idempotency, authorization answers, membership spans, cursors, paging and, for durable stores,
// all of it across a reopen. Property tests compare random histories against NaiveStoreModel.

import { afterEach, describe, expect, it } from 'vitest';
import { describeStoreProperties, withoutMembersVersion } from './message-store.properties.ts';
import { type ContractFixture, StoreHarness } from './store-harness.ts';

export type { ContractFixture };

export type ContractFactory = () => Promise<ContractFixture>;
export type ContractOptions = {
  /** Whether the store keeps its data across close and reopen; the fixture then has `reopen`. */
  durable: boolean;
  /** Histories each property test tries (fewer for slow stores). */
  propertyRuns?: number;
};

export function describeMessageStoreContract(
  name: string,
  factory: ContractFactory,
  options: ContractOptions,
): void {
  describe(`MessageStore contract: ${name}`, () => {
    const open: StoreHarness[] = [];
    afterEach(async () => {
      await Promise.all(open.splice(0).map((h) => h.dispose()));
    });
    const fresh = async (): Promise<StoreHarness> => {
      const h = new StoreHarness(await factory());
      expect(h.durable).toBe(options.durable);
      expect(await h.store.open()).toEqual([]);
      return h;
    };
    const harness = async (): Promise<StoreHarness> => {
      const h = await fresh();
      open.push(h);
      return h;
    };
    const group = async (h: StoreHarness, id: string, members: string[]) => {
      const result = await h.store.createConversation({ id, kind: 'group', members });
      expect(result.status).toBe('created');
    };
    const send = (
      h: StoreHarness,
      conv: string,
      from: string,
      cmid: string,
      body = `body of ${cmid}`,
      ts = 1000,
    ) => h.store.append({ conv, from, cmid, body, ts });

    it('creates, then answers exists for the same kind and members and conflict otherwise', async () => {
      const h = await harness();
      const created = await h.store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b', 'b'] });
      expect(created).toEqual({
        status: 'created',
        conversation: {
          id: 'g',
          kind: 'group',
          lastSeq: 0,
          members: { a: [{ from: 1, to: null }], b: [{ from: 1, to: null }] },
          cursors: { a: { delivered: 0, read: 0 }, b: { delivered: 0, read: 0 } },
        },
      });
      const again = await h.store.createConversation({ id: 'g', kind: 'group', members: ['b', 'a'] });
      expect(again).toEqual({ ...created, status: 'exists' });
      for (const other of [
        { id: 'g', kind: 'direct' as const, members: ['a', 'b'] },
        { id: 'g', kind: 'group' as const, members: ['a'] },
        { id: 'g', kind: 'group' as const, members: ['a', 'b', 'c'] },
      ]) {
        expect(await h.store.createConversation(other)).toEqual({ ...created, status: 'conflict' });
      }
    });

    it('gives gap-free seqs to many concurrent appends to one conversation', async () => {
      const h = await harness();
      await group(h, 'g', ['a', 'b', 'c']);
      const senders = ['a', 'b', 'c'];
      const results = await Promise.all(
        Array.from({ length: 300 }, (_, i) => send(h, 'g', senders[i % 3]!, `m${i}`, `body ${i}`)),
      );
      const seqs = results.map((r) => (r.status === 'ok' ? r.seq : -1)).sort((x, y) => x - y);
      expect(seqs).toEqual(Array.from({ length: 300 }, (_, i) => i + 1));
      const read = await h.store.read({ conv: 'g', after: 0, limit: 300 });
      expect(read.status === 'ok' && read.lastSeq).toBe(300);
      const bySeq = new Map(read.status === 'ok' ? read.messages.map((m) => [m.seq, m]) : []);
      results.forEach((result, i) => {
        const seq = result.status === 'ok' ? result.seq : -1;
        expect(bySeq.get(seq)).toMatchObject({ from: senders[i % 3], cmid: `m${i}`, body: `body ${i}` });
      });
    });

    it('maps one (sender, conv, cmid) to one message, with the original seq and ts', async () => {
      const h = await harness();
      await group(h, 'g', ['a', 'b']);
      await group(h, 'h', ['a']);
      expect(withoutMembersVersion(await send(h, 'g', 'a', 'x', 'first', 111))).toEqual({
        status: 'ok',
        seq: 1,
        ts: 111,
        duplicate: false,
      });
      expect(withoutMembersVersion(await send(h, 'g', 'a', 'x', 'changed body', 222))).toEqual({
        status: 'ok',
        seq: 1,
        ts: 111,
        duplicate: true,
      });
      expect(withoutMembersVersion(await send(h, 'g', 'b', 'x', 'same cmid', 333))).toEqual({
        status: 'ok',
        seq: 2,
        ts: 333,
        duplicate: false,
      });
      expect(await send(h, 'h', 'a', 'x', 'other conv', 444)).toMatchObject({ seq: 1, duplicate: false });
      const read = await h.store.read({ conv: 'g', after: 0, limit: 10 });
      expect(withoutMembersVersion(read)).toEqual({
        status: 'ok',
        lastSeq: 2,
        messages: [
          { conv: 'g', seq: 1, from: 'a', cmid: 'x', body: 'first', ts: 111 },
          { conv: 'g', seq: 2, from: 'b', cmid: 'x', body: 'same cmid', ts: 333 },
        ],
      });
    });

    it('answers not_found for unknown conversations and forbidden for non-members', async () => {
      const h = await harness();
      await group(h, 'g', ['a', 'b']);
      expect(await send(h, 'nope', 'a', 'x')).toEqual({ status: 'not_found' });
      expect(await h.store.read({ conv: 'nope', after: 0, limit: 5 })).toEqual({ status: 'not_found' });
      expect(await h.store.changeMembers({ conv: 'nope', add: ['a'], remove: [] })).toEqual({
        status: 'not_found',
      });
      expect(await h.store.advanceCursor({ conv: 'nope', user: 'a', kind: 'read', seq: 1 })).toEqual({
        status: 'not_found',
      });
      expect(await send(h, 'g', 'z', 'x')).toEqual({ status: 'forbidden' });
      expect(await h.store.advanceCursor({ conv: 'g', user: 'z', kind: 'read', seq: 1 })).toEqual({
        status: 'forbidden',
      });
      await h.store.changeMembers({ conv: 'g', add: [], remove: ['b'] });
      expect(await send(h, 'g', 'b', 'y')).toEqual({ status: 'forbidden' });
      expect(await h.store.advanceCursor({ conv: 'g', user: 'b', kind: 'delivered', seq: 0 })).toEqual({
        status: 'forbidden',
      });
      const read = await h.store.read({ conv: 'g', after: 0, limit: 5 });
      expect(withoutMembersVersion(read)).toEqual({ status: 'ok', messages: [], lastSeq: 0 });
    });

    it('keeps membership as spans: removal keeps history, re-adding opens a new span', async () => {
      const h = await harness();
      await group(h, 'g', ['a', 'b']);
      await send(h, 'g', 'a', '1');
      await send(h, 'g', 'b', '2');
      const added = await h.store.changeMembers({ conv: 'g', add: ['c', 'a'], remove: [] });
      expect(added.status === 'ok' && added.conversation.members).toEqual({
        a: [{ from: 1, to: null }],
        b: [{ from: 1, to: null }],
        c: [{ from: 3, to: null }],
      });
      // A joiner holds nothing before the join, so its cursors start there.
      expect(added.status === 'ok' && added.conversation.cursors.c).toEqual({ delivered: 2, read: 2 });
      await send(h, 'g', 'c', '3');
      const removed = await h.store.changeMembers({ conv: 'g', add: [], remove: ['b', 'nobody'] });
      expect(removed.status === 'ok' && removed.conversation.members.b).toEqual([{ from: 1, to: 3 }]);
      await send(h, 'g', 'a', '4');
      const readded = await h.store.changeMembers({ conv: 'g', add: ['b'], remove: [] });
      expect(readded.status === 'ok' && readded.conversation).toMatchObject({
        lastSeq: 4,
        members: {
          b: [
            { from: 1, to: 3 },
            { from: 5, to: null },
          ],
        },
      });
      expect(await send(h, 'g', 'b', '5')).toMatchObject({ status: 'ok', seq: 5 });
      const read = await h.store.read({ conv: 'g', after: 0, limit: 10 });
      expect(read.status === 'ok' && read.messages.map((m) => m.cmid)).toEqual(['1', '2', '3', '4', '5']);
      await h.store.createConversation({ id: 'd', kind: 'direct', members: ['a', 'b'] });
      expect(await h.store.changeMembers({ conv: 'd', add: ['c'], remove: [] })).toEqual({
        status: 'conflict',
      });
      expect(await h.store.changeMembers({ conv: 'd', add: [], remove: ['a'] })).toEqual({
        status: 'conflict',
      });
    });

    // The fleet holds a conversation's pushes when a store answer carries a newer version than its own
    // (chat-node `sequenced`): a store that under-counts a change lets a node push by a stale membership.
    it('reports the membership version on appends, duplicates and reads: one per join, one more per removal', async () => {
      const h = await harness();
      await group(h, 'g', ['a', 'b']);
      const version = async (answer: Promise<{ status: string; membersVersion?: number }>) =>
        (await answer).membersVersion;
      const read = () => h.store.read({ conv: 'g', after: 0, limit: 10 });
      expect(await version(send(h, 'g', 'a', '1'))).toBe(2);
      await h.store.changeMembers({ conv: 'g', add: ['c'], remove: [] });
      expect(await version(send(h, 'g', 'a', '2'))).toBe(3);
      await h.store.changeMembers({ conv: 'g', add: [], remove: ['b'] });
      expect(await version(send(h, 'g', 'c', '3'))).toBe(4);
      expect(await version(read())).toBe(4);
      await h.store.changeMembers({ conv: 'g', add: ['b'], remove: [] });
      expect(await version(send(h, 'g', 'a', '1'))).toBe(5); // a duplicate: the version now
      expect(await version(read())).toBe(5);
      await h.store.changeMembers({ conv: 'g', add: [], remove: ['b', 'c'] });
      expect(await version(read())).toBe(7);
    });

    it('moves cursors only forward and clamps them to lastSeq', async () => {
      const h = await harness();
      await group(h, 'g', ['a', 'b']);
      for (const cmid of ['1', '2', '3']) await send(h, 'g', 'a', cmid);
      const cursor = (kind: 'delivered' | 'read', seq: number) =>
        h.store.advanceCursor({ conv: 'g', user: 'b', kind, seq });
      expect(await cursor('delivered', 2)).toEqual({ status: 'ok', seq: 2, moved: true });
      expect(await cursor('delivered', 1)).toEqual({ status: 'ok', seq: 2, moved: false });
      expect(await cursor('delivered', 2)).toEqual({ status: 'ok', seq: 2, moved: false });
      expect(await cursor('delivered', 99)).toEqual({ status: 'ok', seq: 3, moved: true });
      expect(await cursor('read', 1)).toEqual({ status: 'ok', seq: 1, moved: true });
      const record = await h.store.changeMembers({ conv: 'g', add: [], remove: [] });
      expect(record.status === 'ok' && record.conversation.cursors.b).toEqual({ delivered: 3, read: 1 });
    });

    it('lists every conversation record, or only the asked ones that exist, with cursors', async () => {
      const h = await harness();
      await group(h, 'g', ['a', 'b']);
      await group(h, 'h', ['a', 'c']);
      await send(h, 'g', 'a', '1');
      await h.store.advanceCursor({ conv: 'g', user: 'b', kind: 'delivered', seq: 1 });
      expect((await h.store.conversations()).map((r) => r.id).sort()).toEqual(['g', 'h']);
      const only = await h.store.conversations(['g', 'nope']);
      expect(only.map((r) => r.id)).toEqual(['g']);
      expect(only[0]).toMatchObject({ lastSeq: 1, cursors: { b: { delivered: 1 } } });
      expect(await h.store.conversations([])).toEqual([]);
    });

    it('pages reads by seq with after and limit', async () => {
      const h = await harness();
      await group(h, 'g', ['a']);
      for (let i = 1; i <= 25; i++) await send(h, 'g', 'a', `m${i}`, `b${i}`, i);
      const page = async (after: number, limit: number) => {
        const result = await h.store.read({ conv: 'g', after, limit });
        if (result.status !== 'ok') throw new Error('read failed');
        expect(result.lastSeq).toBe(25);
        return result.messages.map((m) => m.seq);
      };
      expect(await page(0, 10)).toEqual([1, 2, 3, 4, 5, 6, 7, 8, 9, 10]);
      expect(await page(10, 10)).toEqual([11, 12, 13, 14, 15, 16, 17, 18, 19, 20]);
      expect(await page(20, 10)).toEqual([21, 22, 23, 24, 25]);
      expect(await page(25, 10)).toEqual([]);
      expect(await page(30, 10)).toEqual([]);
      expect(await page(3, 1)).toEqual([4]);
      const one = await h.store.read({ conv: 'g', after: 6, limit: 1 });
      expect(one.status === 'ok' && one.messages).toEqual([
        { conv: 'g', seq: 7, from: 'a', cmid: 'm7', body: 'b7', ts: 7 },
      ]);
    });

    // Registered only for durable stores: a memory store has nothing to keep.
    if (options.durable)
      it('keeps everything across a reopen', async () => {
        const h = await harness();
        await group(h, 'g', ['a', 'b']);
        await h.store.createConversation({ id: 'd', kind: 'direct', members: ['a', 'c'] });
        await send(h, 'g', 'a', 'x', 'hello', 10);
        await send(h, 'g', 'b', 'y', 'world', 20);
        await h.store.changeMembers({ conv: 'g', add: ['c'], remove: ['b'] });
        await h.store.advanceCursor({ conv: 'g', user: 'a', kind: 'read', seq: 2 });
        // Refused changes keep nothing: a change to a conversation never created, one to a direct one.
        expect(await h.store.changeMembers({ conv: 'nope', add: ['a'], remove: [] })).toEqual({
          status: 'not_found',
        });
        expect(await h.store.changeMembers({ conv: 'd', add: [], remove: ['c'] })).toEqual({
          status: 'conflict',
        });
        const before = (await h.store.changeMembers({ conv: 'g', add: [], remove: [] })) as {
          conversation: unknown;
        };
        const records = await h.reopen();
        expect(records).toHaveLength(2);
        expect(records.find((r) => r.id === 'g')).toEqual(before.conversation);
        expect(withoutMembersVersion(await send(h, 'g', 'a', 'x', 'retry', 99))).toEqual({
          status: 'ok',
          seq: 1,
          ts: 10,
          duplicate: true,
        });
        expect(await send(h, 'g', 'c', 'z', 'again', 30)).toMatchObject({ seq: 3, duplicate: false });
        const read = await h.store.read({ conv: 'g', after: 0, limit: 10 });
        expect(read.status === 'ok' && read.messages.map((m) => [m.seq, m.from, m.body, m.ts])).toEqual([
          [1, 'a', 'hello', 10],
          [2, 'b', 'world', 20],
          [3, 'c', 'again', 30],
        ]);
      });

    describeStoreProperties(fresh, options.propertyRuns ?? 30, options.durable);
  });
}
