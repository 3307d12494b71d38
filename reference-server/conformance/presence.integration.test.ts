// Conformance: presence (protocol.md, `watch` and `presence`). A watch is answered with one presence
// per user; afterwards a watcher hears each change: online while any connection lives, offline with a
// lastSeen when the last one goes. lastSeen is 0 for a user never seen.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';

describe.each(serverTargets)('presence (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target });
  });
  afterAll(() => fx.close());

  it('answers watch with one presence per user, 0 lastSeen for users never seen', async () => {
    const [online, never] = [fx.id('online'), fx.id('never')];
    await fx.session(online);
    const { client: watcher } = await fx.session(fx.id('watcher'));
    watcher.send({ t: 'watch', users: [online, never] });
    expect(await watcher.waitFor('presence', (p) => p.user === online)).toMatchObject({ online: true });
    expect(await watcher.waitFor('presence', (p) => p.user === never)).toEqual({
      t: 'presence',
      user: never,
      online: false,
      lastSeen: 0,
    });
  });

  it('tells a watcher when a user comes online and, after the last device leaves, goes offline with lastSeen', async () => {
    const carol = fx.id('carol');
    const { client: watcher } = await fx.session(fx.id('watcher'));
    watcher.send({ t: 'watch', users: [carol] });
    expect(await watcher.waitFor('presence')).toEqual({
      t: 'presence',
      user: carol,
      online: false,
      lastSeen: 0,
    });

    const laptop = (await fx.session(carol, { device: 'laptop' })).client;
    expect(await watcher.waitFor('presence')).toMatchObject({ user: carol, online: true });
    const phone = (await fx.session(carol, { device: 'phone' })).client;

    const before = Date.now();
    await laptop.close();
    // Still online through the phone: the next change the watcher hears is the phone leaving.
    await phone.close();
    const offline = await watcher.waitFor('presence');
    expect(offline).toMatchObject({ t: 'presence', user: carol, online: false });
    expect(offline.lastSeen).toBeGreaterThanOrEqual(before - 60_000);
    expect(offline.lastSeen).toBeLessThanOrEqual(Date.now() + 60_000);
    await watcher.barrier();
    expect(watcher.received('presence', (p) => p.user === carol)).toHaveLength(3);

    // A later watch reports the stamped lastSeen.
    const { client: late } = await fx.session(fx.id('late'));
    late.send({ t: 'watch', users: [carol] });
    expect(await late.waitFor('presence')).toEqual({
      t: 'presence',
      user: carol,
      online: false,
      lastSeen: offline.lastSeen,
    });
  });

  it('answers watch with more than 500 users or a bad id with bad_request', async () => {
    const { client } = await fx.session(fx.id('watcher'));
    client.send({ t: 'watch', users: Array.from({ length: 501 }, (_, i) => `u${i}`) });
    expect((await client.waitFor('err')).code).toBe('bad_request');
    client.send({ t: 'watch', users: ['ok', 'not ok'] });
    expect((await client.waitFor('err')).code).toBe('bad_request');
    client.send({ t: 'watch', users: 'alice' });
    expect((await client.waitFor('err')).code).toBe('bad_request');
    client.send({ t: 'watch', users: Array.from({ length: 500 }, (_, i) => `w${i}`) });
    await client.waitFor('presence', (p) => p.user === 'w499');
    expect(client.received('presence')).toHaveLength(500);
  });
});

describe.each(serverTargets)('heartbeats (%s server)', (target) => {
  const heartbeatMs = 150;
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target, limits: { heartbeatMs } });
  });
  afterAll(() => fx.close());

  it('terminates a connection that stops answering pings, and its user goes offline', async () => {
    const [silent, watcherUser] = [fx.id('silent'), fx.id('watcher')];
    const { client } = await fx.session(silent);
    const { client: watcher } = await fx.session(watcherUser);
    watcher.send({ t: 'watch', users: [silent] });
    expect(await watcher.waitFor('presence')).toMatchObject({ user: silent, online: true });
    // A paused socket reads no pings, so it sends no pongs; a live one keeps answering.
    client.pauseReading();
    const offline = await watcher.waitFor('presence', (p) => p.user === silent, heartbeatMs * 40);
    expect(offline).toMatchObject({ user: silent, online: false });
    expect(watcher.isOpen).toBe(true);
  });
});
