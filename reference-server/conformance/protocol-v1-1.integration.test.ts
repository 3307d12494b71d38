// Conformance to the v1.1 additions of protocol.md: `member: false` on the past memberships a welcome
// lists (current ones omit it), and `conv` on every `err` about a conversation. Reference server only:
// v1.1 is optional, and the minimal server speaks v1 (its conformance runs prove the harness needs
// nothing of v1.1).

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFixture } from '../../test-support/server-fixture.ts';

describe('protocol v1.1 (reference server)', () => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ limits: { userSendBurst: 2, userSendsPerSec: 1 } });
  });
  afterAll(() => fx.close());

  it('lists a past membership with member: false and lastSeq at the removal; current ones omit member', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const left = await fx.conversation([alice, bob]);
    const stays = await fx.conversation([alice, bob]);
    const writer = (await fx.session(alice)).client;
    await writer.mustSend(left, 'before', 'while bob was a member');
    await fx.changeMembers(left, { remove: [bob] });
    await writer.mustSend(left, 'after', 'after bob left');
    const { welcome } = await fx.session(bob);
    expect(welcome.convs).toEqual(
      expect.arrayContaining([
        { conv: left, lastSeq: 1, delivered: 0, read: 0, member: false },
        { conv: stays, lastSeq: 0, delivered: 0, read: 0 },
      ]),
    );
    expect(welcome.convs).toHaveLength(2);
    await fx.changeMembers(left, { add: [bob] });
    const again = await fx.session(bob, { device: 'after-re-add' });
    const current = again.welcome.convs.find((c) => c.conv === left);
    expect(current).toMatchObject({ conv: left, lastSeq: 2 });
    expect(current).not.toHaveProperty('member');
  });

  it('names the conversation on every err about one: send, sync, resume, cursors, typing, rate limit', async () => {
    const [alice, mallory] = [fx.id('alice'), fx.id('mallory')];
    const conv = await fx.conversation([alice]);
    const own = await fx.conversation([mallory]);
    const { client } = await fx.session(mallory, { resume: { [conv]: 0 } });
    expect(await client.waitFor('err')).toMatchObject({ code: 'forbidden', ref: 'hello', conv });
    expect(await client.sendMessage('never-created', 'c1', 'x')).toMatchObject({
      code: 'not_found',
      ref: 'c1',
      conv: 'never-created',
    });
    expect(await client.sendMessage(conv, 'c2', 'x')).toMatchObject({ code: 'forbidden', ref: 'c2', conv });
    client.send({ t: 'sync', conv, after: 0 });
    expect(await client.waitFor('err')).toMatchObject({ code: 'forbidden', ref: 'sync', conv });
    client.send({ t: 'read', conv, seq: 1 });
    expect(await client.waitFor('err')).toMatchObject({ code: 'forbidden', conv });
    client.send({ t: 'typing', conv, on: true });
    expect(await client.waitFor('err')).toMatchObject({ code: 'forbidden', conv });
    const answers = await Promise.all(
      Array.from({ length: 4 }, (_, i) => client.sendMessage(own, `burst-${i}`, 'x')),
    );
    expect(answers.find((a) => a.t === 'err')).toMatchObject({ code: 'rate_limited', conv: own });
  });

  it('keeps conv off errs about no conversation', async () => {
    const { client } = await fx.session(fx.id('carol'));
    client.send({ t: 'watch', users: 'not an array' });
    const err = await client.waitFor('err');
    expect(err.code).toBe('bad_request');
    expect(err).not.toHaveProperty('conv');
  });
});
