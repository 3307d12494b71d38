// Conformance: `delivered` and `read` cursors (protocol.md, `receipt`; guarantee 7). Cursors are
// cumulative, never move backwards, are clamped to lastSeq, reach the other members as `receipt`
// (small groups only), and show in `welcome.convs` and the HTTP receipts endpoint.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test-support/eventually.ts';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';

const largeGroupThreshold = 3;

describe.each(serverTargets)('receipts (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target, limits: { largeGroupThreshold } });
  });
  afterAll(() => fx.close());

  async function conversationWithMessages(members: string[], count: number) {
    const conv = await fx.conversation(members);
    const writer = (await fx.session(members[0]!)).client;
    for (let i = 1; i <= count; i++) await writer.mustSend(conv, `m${i}`, `message ${i}`);
    return { conv, writer };
  }

  it('tells the other members when a cursor moves, and only forward', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const { conv, writer } = await conversationWithMessages([alice, bob], 3);
    const reader = (await fx.session(bob)).client;
    reader.send({ t: 'delivered', conv, seq: 2 });
    expect(await writer.waitFor('receipt')).toEqual({
      t: 'receipt',
      conv,
      user: bob,
      kind: 'delivered',
      seq: 2,
    });
    reader.send({ t: 'read', conv, seq: 1 });
    expect(await writer.waitFor('receipt')).toEqual({ t: 'receipt', conv, user: bob, kind: 'read', seq: 1 });
    // Backwards and repeated cursors change nothing and are not relayed: the next receipt is the
    // forward move sent after them.
    reader.send({ t: 'delivered', conv, seq: 1 });
    reader.send({ t: 'delivered', conv, seq: 2 });
    reader.send({ t: 'read', conv, seq: 0 });
    reader.send({ t: 'read', conv, seq: 2 });
    expect(await writer.waitFor('receipt')).toEqual({ t: 'receipt', conv, user: bob, kind: 'read', seq: 2 });
    await writer.barrier();
    expect(writer.received('receipt')).toHaveLength(3);
    const receipts = await fx.http.receipts(await fx.token(alice), conv);
    expect(receipts.status).toBe(200);
    expect(receipts.body).toEqual({
      conv,
      lastSeq: 3,
      members: expect.arrayContaining([
        { user: alice, delivered: 0, read: 0 },
        { user: bob, delivered: 2, read: 2 },
      ]),
    });
    expect(receipts.body.members).toHaveLength(2);
  });

  it('clamps a cursor past lastSeq to lastSeq', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const { conv, writer } = await conversationWithMessages([alice, bob], 3);
    const reader = (await fx.session(bob)).client;
    reader.send({ t: 'read', conv, seq: 1_000_000 });
    expect(await writer.waitFor('receipt')).toEqual({ t: 'receipt', conv, user: bob, kind: 'read', seq: 3 });
    reader.send({ t: 'delivered', conv, seq: Number.MAX_SAFE_INTEGER });
    expect(await writer.waitFor('receipt')).toEqual({
      t: 'receipt',
      conv,
      user: bob,
      kind: 'delivered',
      seq: 3,
    });
    // A later message lets the cursor move on from the clamp.
    await writer.mustSend(conv, 'm4', 'four');
    reader.send({ t: 'read', conv, seq: 4 });
    expect(await writer.waitFor('receipt')).toMatchObject({ kind: 'read', seq: 4 });
  });

  it('shows the user’s cursors in welcome.convs', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const { conv, writer } = await conversationWithMessages([alice, bob], 3);
    const reader = (await fx.session(bob)).client;
    reader.send({ t: 'delivered', conv, seq: 3 });
    reader.send({ t: 'read', conv, seq: 2 });
    await writer.waitFor('receipt', (r) => r.kind === 'delivered');
    await writer.waitFor('receipt', (r) => r.kind === 'read');
    const { welcome } = await fx.session(bob, { device: 'second' });
    expect(welcome.convs).toEqual([{ conv, lastSeq: 3, delivered: 3, read: 2 }]);
  });

  it('answers cursors of a non-member with forbidden and of an unknown conversation with not_found', async () => {
    const [alice, mallory] = [fx.id('alice'), fx.id('mallory')];
    const { conv } = await conversationWithMessages([alice], 2);
    const { client } = await fx.session(mallory);
    client.send({ t: 'delivered', conv, seq: 1 });
    expect((await client.waitFor('err')).code).toBe('forbidden');
    client.send({ t: 'read', conv, seq: 1 });
    expect((await client.waitFor('err')).code).toBe('forbidden');
    client.send({ t: 'read', conv: 'never-created', seq: 1 });
    expect((await client.waitFor('err')).code).toBe('not_found');
    await client.barrier();
    expect(client.isOpen).toBe(true);
    const receipts = await fx.http.receipts(await fx.token(alice), conv);
    expect(receipts.body.members).toEqual([{ user: alice, delivered: 0, read: 0 }]);
  });

  it('sends no receipt frames in a group over the large-group threshold, but keeps the cursor', async () => {
    const members = [fx.id('big'), fx.id('big'), fx.id('big'), fx.id('big')];
    const { conv, writer } = await conversationWithMessages(members, 2);
    const reader = (await fx.session(members[1]!)).client;
    reader.send({ t: 'read', conv, seq: 2 });
    const adminView = await fx.token(members[0]!);
    await eventually(async () => {
      const receipts = await fx.http.receipts(adminView, conv);
      expect(receipts.body.members).toContainEqual({ user: members[1], delivered: 0, read: 2 });
    });
    await writer.barrier();
    expect(writer.received('receipt')).toEqual([]);
  });
});
