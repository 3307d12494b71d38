// Conformance: push (protocol.md, `msg` and `notify`; guarantees 3-5). Every online connection of
// every member gets each message (the sender's other devices included) with the body and seq of its
// ack; non-members get nothing; groups over the large-group threshold get `notify` and pull with sync.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';
import type { MsgFrame } from '../protocol/frames.ts';

const largeGroupThreshold = 3;

describe.each(serverTargets)('fan-out (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({
      target,
      limits: { largeGroupThreshold, userSendBurst: 1000, userSendsPerSec: 1000 },
    });
  });
  afterAll(() => fx.close());

  it('pushes a message to the other members and to the sender’s other devices, as acked', async () => {
    const [alice, bob, carol] = [fx.id('alice'), fx.id('bob'), fx.id('carol')];
    const conv = await fx.conversation([alice, bob, carol]);
    const laptop = (await fx.session(alice, { device: 'laptop' })).client;
    const phone = (await fx.session(alice, { device: 'phone' })).client;
    const bob1 = (await fx.session(bob, { device: 'one' })).client;
    const bob2 = (await fx.session(bob, { device: 'two' })).client;
    const carol1 = (await fx.session(carol)).client;
    const ack = await laptop.mustSend(conv, 'hello-1', 'hello all');
    const expected: MsgFrame = {
      t: 'msg',
      conv,
      seq: ack.seq,
      from: alice,
      cmid: 'hello-1',
      body: 'hello all',
      ts: ack.ts,
    };
    for (const client of [phone, bob1, bob2, carol1]) expect(await client.waitFor('msg')).toEqual(expected);
  });

  it('pushes nothing to users who are not members', async () => {
    const [alice, bob, eve] = [fx.id('alice'), fx.id('bob'), fx.id('eve')];
    const conv = await fx.conversation([alice, bob]);
    await fx.conversation([alice, eve]);
    const sender = (await fx.session(alice)).client;
    const outsider = (await fx.session(eve)).client;
    const member = (await fx.session(bob)).client;
    await sender.mustSend(conv, 'secret', 'not for eve');
    await member.waitFor('msg');
    await outsider.barrier();
    expect(outsider.received('msg')).toEqual([]);
  });

  it('shows every member the same body at the same seq while all of them send at once', async () => {
    const users = [fx.id('u'), fx.id('u'), fx.id('u')];
    const conv = await fx.conversation(users);
    const clients = await Promise.all(users.map(async (user) => (await fx.session(user)).client));
    const perClient = 40;
    const acks = await Promise.all(
      clients.flatMap((client, c) =>
        Array.from({ length: perClient }, (_, i) => client.mustSend(conv, `m${c}-${i}`, `${c}:${i}`)),
      ),
    );
    const total = acks.length;
    for (const [c, client] of clients.entries()) {
      // Everyone else's messages arrive as pushes; this connection's own arrive as acks.
      for (const ack of acks) {
        if (ack.cmid.startsWith(`m${c}-`)) continue;
        const msg = await client.waitFor('msg', (m) => m.conv === conv && m.seq === ack.seq);
        expect(msg.body).toBe(ack.cmid.slice(1).replace('-', ':'));
      }
    }
    const seqs = acks.map((ack) => ack.seq).sort((a, b) => a - b);
    expect(seqs).toEqual(Array.from({ length: total }, (_, i) => i + 1));
  });

  it('sends notify instead of msg in a group over the large-group threshold, and sync returns the message', async () => {
    const members = [fx.id('big'), fx.id('big'), fx.id('big'), fx.id('big')];
    expect(members.length).toBeGreaterThan(largeGroupThreshold);
    const conv = await fx.conversation(members);
    const sender = (await fx.session(members[0]!)).client;
    const reader = (await fx.session(members[1]!)).client;
    const ack = await sender.mustSend(conv, 'big-1', 'to the crowd');
    const notify = await reader.waitFor('notify', (n) => n.conv === conv && n.lastSeq >= ack.seq);
    expect(notify).toEqual({ t: 'notify', conv, lastSeq: ack.seq });
    const batch = await reader.sync(conv, 0);
    expect(batch.msgs).toEqual([
      { conv, seq: ack.seq, from: members[0], cmid: 'big-1', body: 'to the crowd', ts: ack.ts },
    ]);
    await reader.barrier();
    expect(reader.received('msg')).toEqual([]);
  });

  it('pushes msg again once a large group shrinks to the threshold', async () => {
    const members = [fx.id('g'), fx.id('g'), fx.id('g'), fx.id('g')];
    const conv = await fx.conversation(members);
    await fx.changeMembers(conv, { remove: [members[3]!] });
    const sender = (await fx.session(members[0]!)).client;
    const reader = (await fx.session(members[1]!)).client;
    const ack = await sender.mustSend(conv, 'small-again', 'hi');
    expect(await reader.waitFor('msg')).toMatchObject({ conv, seq: ack.seq, body: 'hi' });
  });
});
