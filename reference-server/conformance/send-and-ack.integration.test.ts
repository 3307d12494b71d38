// Conformance: `send` and `ack` (protocol.md, guarantees 1-3), against both stores. Seqs are gap-free
// under many concurrent senders, one (sender, conv, cmid) is one message forever, and errors name the
// cmid they answer and leave the connection usable.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../test-support/chat-client.ts';
import {
  ServerFixture,
  type ServerTarget,
  type StoreKind,
  serverTargets,
} from '../../test-support/server-fixture.ts';
import type { AckFrame, Message } from '../protocol/frames.ts';

const manySends = { userSendBurst: 10_000, userSendsPerSec: 10_000 };

async function allMessages(client: ChatClient, conv: string): Promise<Message[]> {
  const all: Message[] = [];
  for (let after = 0; ; ) {
    const batch = await client.sync(conv, after);
    all.push(...batch.msgs);
    if (!batch.more) return all;
    after = batch.msgs.at(-1)!.seq;
  }
}

const targetsAndStores = serverTargets.flatMap((target) =>
  (['memory', 'log'] as const).map((store): [ServerTarget, StoreKind] => [target, store]),
);

describe.each(targetsAndStores)('send and ack (%s server, %s store)', (target, store) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target, store, limits: manySends });
  });
  afterAll(() => fx.close());

  it('acks a send with the conversation, cmid, seq 1 and the server time', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice, fx.id('bob')]);
    const { client } = await fx.session(alice);
    const before = Date.now();
    const ack = await client.mustSend(conv, 'first', 'hello');
    expect(ack).toMatchObject({ t: 'ack', conv, cmid: 'first', seq: 1 });
    expect(ack.ts).toBeGreaterThanOrEqual(before - 60_000);
    expect(ack.ts).toBeLessThanOrEqual(Date.now() + 60_000);
    expect(await client.sync(conv, 0)).toMatchObject({
      conv,
      lastSeq: 1,
      more: false,
      msgs: [{ conv, seq: 1, from: alice, cmid: 'first', body: 'hello', ts: ack.ts }],
    });
  });

  it('keeps seqs gap-free under many concurrent senders, and every ack matches what is stored', async () => {
    const users = [fx.id('u'), fx.id('u'), fx.id('u'), fx.id('u')];
    const conv = await fx.conversation(users);
    // Five connections: four users, the first with two devices.
    const clients = await Promise.all(
      [...users, users[0]!].map(async (user, i) => (await fx.session(user, { device: `d${i}` })).client),
    );
    const perClient = 60;
    const sent = clients.map((client, c) =>
      Array.from({ length: perClient }, (_, i) => client.mustSend(conv, `c${c}-${i}`, `body ${c}/${i}`)),
    );
    const acks: AckFrame[] = await Promise.all(sent.flat());
    const seqs = acks.map((ack) => ack.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: clients.length * perClient }, (_, i) => i + 1));
    const stored = await allMessages(clients[1]!, conv);
    expect(stored.map((m) => m.seq)).toEqual(seqs);
    const bySeq = new Map(stored.map((m) => [m.seq, m]));
    for (const ack of acks) {
      const [c, i] = ack.cmid.slice(1).split('-');
      expect(bySeq.get(ack.seq)).toMatchObject({ cmid: ack.cmid, body: `body ${c}/${i}`, ts: ack.ts });
    }
  });

  it('answers a resent cmid with the same ack and stores nothing new, from any device of the sender', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice, fx.id('bob')]);
    const { client: laptop } = await fx.session(alice);
    const { client: phone } = await fx.session(alice, { device: 'phone' });
    const first = await laptop.mustSend(conv, 'dup', 'original');
    await laptop.mustSend(conv, 'other', 'in between');
    const again = await laptop.mustSend(conv, 'dup', 'original');
    const fromPhone = await phone.mustSend(conv, 'dup', 'a different body');
    expect(again).toEqual(first);
    expect(fromPhone).toEqual(first);
    const batch = await laptop.sync(conv, 0);
    expect(batch.lastSeq).toBe(2);
    expect(batch.msgs.map((m) => [m.seq, m.cmid, m.body])).toEqual([
      [1, 'dup', 'original'],
      [2, 'other', 'in between'],
    ]);
  });

  it('answers concurrent resends of one cmid with one seq', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    const acks = await Promise.all(Array.from({ length: 10 }, () => client.mustSend(conv, 'same', 'x')));
    expect(new Set(acks.map((ack) => `${ack.seq}/${ack.ts}`)).size).toBe(1);
    expect((await client.sync(conv, 0)).msgs).toHaveLength(1);
  });

  it('gives different senders with the same cmid different seqs', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const a = (await fx.session(alice)).client;
    const b = (await fx.session(bob)).client;
    const fromAlice = await a.mustSend(conv, 'shared-cmid', 'from alice');
    const fromBob = await b.mustSend(conv, 'shared-cmid', 'from bob');
    expect(fromAlice.seq).not.toBe(fromBob.seq);
    const msgs = (await a.sync(conv, 0)).msgs;
    expect(msgs.map((m) => [m.from, m.body])).toEqual([
      [alice, 'from alice'],
      [bob, 'from bob'],
    ]);
  });

  it('treats the same cmid in two conversations as two messages', async () => {
    const alice = fx.id('alice');
    const one = await fx.conversation([alice]);
    const two = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    expect((await client.mustSend(one, 'k', 'in one')).seq).toBe(1);
    expect((await client.mustSend(two, 'k', 'in two')).seq).toBe(1);
    expect((await client.sync(two, 0)).msgs.map((m) => m.body)).toEqual(['in two']);
  });

  it('accepts a body of exactly 4096 UTF-8 bytes and refuses 4097 with too_large, counting multi-byte characters', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    const euros = `${'€'.repeat(1365)}a`; // 1365 * 3 + 1 = 4096 bytes in 1366 UTF-16 units
    const emoji = '😀'.repeat(1024); // 4096 bytes in 2048 UTF-16 units
    expect((await client.sendMessage(conv, 'euros-ok', euros)).t).toBe('ack');
    expect((await client.sendMessage(conv, 'emoji-ok', emoji)).t).toBe('ack');
    const tooManyEuros = await client.sendMessage(conv, 'euros-big', `${'€'.repeat(1365)}ab`);
    expect(tooManyEuros).toMatchObject({ t: 'err', code: 'too_large', ref: 'euros-big' });
    const tooManyEmoji = await client.sendMessage(conv, 'emoji-big', `${emoji}😀`);
    expect(tooManyEmoji).toMatchObject({ t: 'err', code: 'too_large', ref: 'emoji-big' });
    const stored = (await client.sync(conv, 0)).msgs;
    expect(stored.map((m) => m.body)).toEqual([euros, emoji]);
    expect(client.isOpen).toBe(true);
  });

  it('answers a send to a conversation that does not exist with not_found', async () => {
    const { client } = await fx.session(fx.id('alice'));
    expect(await client.sendMessage('no-such-conv', 'c1', 'x')).toMatchObject({
      t: 'err',
      code: 'not_found',
      ref: 'c1',
    });
  });

  it('answers a non-member with forbidden, stores nothing, and keeps the connection', async () => {
    const [alice, mallory] = [fx.id('alice'), fx.id('mallory')];
    const conv = await fx.conversation([alice]);
    const own = await fx.conversation([mallory]);
    const { client } = await fx.session(mallory);
    expect(await client.sendMessage(conv, 'intrude', 'x')).toMatchObject({
      t: 'err',
      code: 'forbidden',
      ref: 'intrude',
    });
    expect((await client.mustSend(own, 'fine', 'still here')).seq).toBe(1);
    const { client: owner } = await fx.session(alice);
    expect((await owner.sync(conv, 0)).lastSeq).toBe(0);
  });

  it('answers malformed sends with bad_request and keeps the connection', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    const bad = [
      { t: 'send', conv, cmid: 'has space', body: 'x' },
      { t: 'send', conv, cmid: 'x'.repeat(65), body: 'x' },
      { t: 'send', conv, cmid: 'ok', body: 42 },
      { t: 'send', conv: '', cmid: 'ok', body: 'x' },
      { t: 'send', cmid: 'ok', body: 'x' },
    ];
    for (const frame of bad) {
      client.send(frame);
      expect((await client.waitFor('err')).code).toBe('bad_request');
    }
    expect((await client.mustSend(conv, 'x'.repeat(64), 'a 64-character cmid is fine')).seq).toBe(1);
  });
});
