// Conformance: typing indicators (protocol.md, `typing`). Relayed to the other online members with a
// ttlMs, at most one per throttle window per (user, conv); member-only.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';

describe.each(serverTargets)('typing with the default throttle (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target });
  });
  afterAll(() => fx.close());

  it('relays typing to the other members with the default ttlMs', async () => {
    const [alice, bob, carol] = [fx.id('alice'), fx.id('bob'), fx.id('carol')];
    const conv = await fx.conversation([alice, bob, carol]);
    const typist = (await fx.session(alice)).client;
    const bob1 = (await fx.session(bob)).client;
    const carol1 = (await fx.session(carol)).client;
    typist.send({ t: 'typing', conv, on: true });
    const expected = { t: 'typing', conv, user: alice, on: true, ttlMs: 3000 };
    expect(await bob1.waitFor('typing')).toEqual(expected);
    expect(await carol1.waitFor('typing')).toEqual(expected);
    await typist.barrier();
    expect(typist.received('typing')).toEqual([]);
  });

  it('relays at most one typing per (user, conv) within 2 s and drops the rest', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const other = await fx.conversation([alice, bob]);
    const typist = (await fx.session(alice)).client;
    const watcher = (await fx.session(bob)).client;
    typist.send({ t: 'typing', conv, on: true });
    typist.send({ t: 'typing', conv, on: false });
    typist.send({ t: 'typing', conv, on: true });
    // Another conversation has its own throttle; its relay arrives after anything the first three made.
    typist.send({ t: 'typing', conv: other, on: true });
    expect(await watcher.waitFor('typing', (f) => f.conv === other)).toMatchObject({ user: alice, on: true });
    await watcher.barrier();
    expect(watcher.received('typing', (f) => f.conv === conv)).toEqual([
      { t: 'typing', conv, user: alice, on: true, ttlMs: 3000 },
    ]);
  });

  it('throttles each user separately', async () => {
    const [alice, bob, carol] = [fx.id('alice'), fx.id('bob'), fx.id('carol')];
    const conv = await fx.conversation([alice, bob, carol]);
    const a = (await fx.session(alice)).client;
    const b = (await fx.session(bob)).client;
    const c = (await fx.session(carol)).client;
    a.send({ t: 'typing', conv, on: true });
    b.send({ t: 'typing', conv, on: true });
    expect(await c.waitFor('typing', (f) => f.user === alice)).toMatchObject({ conv, on: true });
    expect(await c.waitFor('typing', (f) => f.user === bob)).toMatchObject({ conv, on: true });
  });

  it('answers typing from a non-member with forbidden and keeps the connection', async () => {
    const [alice, mallory] = [fx.id('alice'), fx.id('mallory')];
    const conv = await fx.conversation([alice]);
    const member = (await fx.session(alice)).client;
    const { client } = await fx.session(mallory);
    client.send({ t: 'typing', conv, on: true });
    expect((await client.waitFor('err')).code).toBe('forbidden');
    client.send({ t: 'typing', conv: 'never-created', on: true });
    expect((await client.waitFor('err')).code).toBe('not_found');
    await member.barrier();
    expect(member.received('typing')).toEqual([]);
    expect(client.isOpen).toBe(true);
  });

  it('answers typing with a non-boolean on with bad_request', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    client.send({ t: 'typing', conv, on: 'yes' });
    expect((await client.waitFor('err')).code).toBe('bad_request');
  });
});

describe.each(serverTargets)('typing with a short throttle (%s server)', (target) => {
  const typingThrottleMs = 150;
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target, limits: { typingThrottleMs, typingTtlMs: 1234 } });
  });
  afterAll(() => fx.close());

  it('relays again once the throttle window has passed, with the configured ttlMs', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const typist = (await fx.session(alice)).client;
    const watcher = (await fx.session(bob)).client;
    typist.send({ t: 'typing', conv, on: true });
    expect(await watcher.waitFor('typing')).toEqual({
      t: 'typing',
      conv,
      user: alice,
      on: true,
      ttlMs: 1234,
    });
    await new Promise((resolve) => setTimeout(resolve, typingThrottleMs * 2));
    typist.send({ t: 'typing', conv, on: false });
    expect(await watcher.waitFor('typing')).toEqual({
      t: 'typing',
      conv,
      user: alice,
      on: false,
      ttlMs: 1234,
    });
  });
});
