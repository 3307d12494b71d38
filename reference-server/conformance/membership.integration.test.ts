// Conformance: membership changes (protocol.md, guarantee 6 and the admin members endpoint). A change
// applies to messages sequenced after it: a removed member keeps reading what was sequenced while it
// was a member and gets nothing newer; an added member reads from its join on.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';

describe.each(serverTargets)('membership (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target });
  });
  afterAll(() => fx.close());

  it('lets a new member read from its join on, by push, sync, resume and HTTP', async () => {
    const [alice, bob, carol] = [fx.id('alice'), fx.id('bob'), fx.id('carol')];
    const conv = await fx.conversation([alice, bob]);
    const writer = (await fx.session(alice)).client;
    await writer.mustSend(conv, 'before', 'before carol');
    const carolOnline = (await fx.session(carol)).client;
    await fx.changeMembers(conv, { add: [carol] });
    const after = await writer.mustSend(conv, 'after', 'after carol');
    expect(await carolOnline.waitFor('msg')).toMatchObject({ conv, seq: after.seq, body: 'after carol' });
    await carolOnline.barrier();
    expect(carolOnline.received('msg')).toHaveLength(1);
    expect((await carolOnline.sync(conv, 0)).msgs.map((m) => m.body)).toEqual(['after carol']);

    const { client: resumed, welcome } = await fx.session(carol, { resume: { [conv]: 0 } });
    expect(welcome.convs).toEqual([
      { conv, lastSeq: 2, delivered: expect.any(Number), read: expect.any(Number) },
    ]);
    expect((await resumed.waitFor('batch')).msgs.map((m) => m.seq)).toEqual([after.seq]);

    const http = await fx.http.messages(await fx.token(carol), conv);
    expect(http.status).toBe(200);
    expect(http.body.messages.map((m) => m.body)).toEqual(['after carol']);
    expect((await carolOnline.mustSend(conv, 'hello', 'carol here')).seq).toBe(3);
  });

  it('stops pushing to a removed member, who can still read what was sequenced while a member', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const writer = (await fx.session(alice)).client;
    const removed = (await fx.session(bob)).client;
    await writer.mustSend(conv, 'm1', 'one');
    await removed.waitFor('msg', (m) => m.seq === 1);
    await fx.changeMembers(conv, { remove: [bob] });
    await writer.mustSend(conv, 'm2', 'two');
    await removed.barrier();
    expect(removed.received('msg').map((m) => m.seq)).toEqual([1]);

    expect((await removed.sync(conv, 0)).msgs.map((m) => m.body)).toEqual(['one']);
    const http = await fx.http.messages(await fx.token(bob), conv);
    expect(http.status).toBe(200);
    expect(http.body.messages.map((m) => m.body)).toEqual(['one']);
    // A device that was away during the whole membership still learns of the conversation, up to
    // the removal: lastSeq stops at what the removed member may read. That is a v1.1 addition
    // (protocol.md's last section); the minimal server speaks v1, whose welcome lists current
    // memberships only.
    const { welcome } = await fx.session(bob, { device: 'later' });
    const listed = welcome.convs.map((c) => [c.conv, c.lastSeq, c.member]);
    expect(listed).toEqual(target === 'reference' ? [[conv, 1, false]] : []);
  });

  it('forbids a removed member to send, type or move cursors, keeping the connection', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const removed = (await fx.session(bob)).client;
    await fx.changeMembers(conv, { remove: [bob] });
    expect(await removed.sendMessage(conv, 'late', 'x')).toMatchObject({
      t: 'err',
      code: 'forbidden',
      ref: 'late',
    });
    removed.send({ t: 'typing', conv, on: true });
    expect((await removed.waitFor('err')).code).toBe('forbidden');
    removed.send({ t: 'read', conv, seq: 0 });
    expect((await removed.waitFor('err')).code).toBe('forbidden');
    expect((await fx.http.receipts(await fx.token(bob), conv)).status).toBe(403);
    const writer = (await fx.session(alice)).client;
    expect((await writer.mustSend(conv, 'still', 'alone')).seq).toBe(1);
  });

  it('lets a member removed and added again read both spans but not the gap between them', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const writer = (await fx.session(alice)).client;
    await writer.mustSend(conv, 'a', 'first span');
    await fx.changeMembers(conv, { remove: [bob] });
    await writer.mustSend(conv, 'b', 'the gap');
    await fx.changeMembers(conv, { add: [bob] });
    await writer.mustSend(conv, 'c', 'second span');
    const reader = (await fx.session(bob)).client;
    const seen: string[] = [];
    for (let after = 0, page = 0; page < 5; page++) {
      const batch = await reader.sync(conv, after);
      seen.push(...batch.msgs.map((m) => m.body));
      if (!batch.more) break;
      after = batch.msgs.at(-1)?.seq ?? after;
    }
    expect(seen).toEqual(['first span', 'second span']);
    // lastSeq is the conversation's newest seq, so a client paging HTTP reads on past its first span.
    const firstPage = await fx.http.messages(await fx.token(bob), conv);
    expect(firstPage.body.lastSeq).toBe(3);
    const http = await fx.http.allMessages(await fx.token(bob), conv);
    expect(http.map((m) => m.body)).toEqual(['first span', 'second span']);
  });

  it('answers a member change of an unknown conversation with 404', async () => {
    const response = await fx.http.changeMembers(await fx.adminToken(), 'never-created', { add: ['x'] });
    expect(response.status).toBe(404);
    expect(response.body).toMatchObject({ code: 'not_found' });
  });
});
