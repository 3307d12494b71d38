// Conformance: authentication (protocol.md, "Authentication"). The first frame must be a hello with
// a valid token, in time; anything else closes the connection with 4401 or 4408, never with a welcome.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';
import { mintTestToken } from '../../test-support/tokens.ts';
import { CloseCode } from '../protocol/codes.ts';

const helloTimeoutMs = 300;

describe.each(serverTargets)('authentication (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target, limits: { helloTimeoutMs, heartbeatMs: 10_000 } });
  });
  afterAll(() => fx.close());

  it('answers a valid hello with a welcome that lists the user, connection, node, heartbeat and conversations', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice, fx.id('bob')]);
    const { client, welcome } = await fx.session(alice);
    expect(welcome.user).toBe(alice);
    expect(typeof welcome.conn).toBe('string');
    expect(welcome.conn.length).toBeGreaterThan(0);
    expect(typeof welcome.node).toBe('string');
    expect(welcome.heartbeatMs).toBe(10_000);
    expect(welcome.convs).toEqual([{ conv, lastSeq: 0, delivered: 0, read: 0 }]);
    await client.mustSend(conv, 'm1', 'hi');
    const again = await fx.session(alice, { device: 'phone' });
    expect(again.welcome.convs).toEqual([{ conv, lastSeq: 1, delivered: 0, read: 0 }]);
    expect(again.welcome.conn).not.toBe(welcome.conn);
  });

  it('lists only the conversations the user is a member of', async () => {
    const carol = fx.id('carol');
    const { welcome } = await fx.session(carol);
    expect(welcome.convs).toEqual([]);
  });

  it('closes with 4401 for a hello without a token', async () => {
    const client = await fx.connect();
    client.send({ t: 'hello' });
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
    expect(client.received('welcome')).toEqual([]);
  });

  it('closes with 4401 for an empty token', async () => {
    const client = await fx.connect();
    client.send({ t: 'hello', token: '' });
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
  });

  it('closes with 4401 for a token that is not a JWT', async () => {
    const client = await fx.connect();
    client.send({ t: 'hello', token: 'not-a-jwt' });
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
    expect(client.received('welcome')).toEqual([]);
  });

  it('closes with 4401 for a token signed with another secret', async () => {
    const client = await fx.connect();
    client.send({
      t: 'hello',
      token: await mintTestToken(fx.secret, 'mallory', { secret: 'another-secret' }),
    });
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
    expect(client.received('welcome')).toEqual([]);
  });

  it('closes with 4401 for an expired token', async () => {
    const client = await fx.connect();
    client.send({ t: 'hello', token: await fx.token(fx.id('late'), { expiresInSec: -60 }) });
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
    expect(client.received('welcome')).toEqual([]);
  });

  it('closes with 4401 for a token without a subject', async () => {
    const client = await fx.connect();
    client.send({ t: 'hello', token: await fx.token('ignored', { noSubject: true }) });
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
  });

  it('closes with 4401 when the first frame is not a hello', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const client = await fx.connect();
    client.send({ t: 'send', conv, cmid: 'c1', body: 'before hello' });
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
    const { client: reader } = await fx.session(alice);
    expect((await reader.sync(conv, 0)).msgs).toEqual([]);
  });

  it('closes with 4401 when the first frame is not JSON', async () => {
    const client = await fx.connect();
    client.sendRaw('{"t":"hello", token');
    expect((await client.waitClosed()).code).toBe(CloseCode.unauthorized);
  });

  it('closes with 4408 when no hello arrives in time', async () => {
    const client = await fx.connect();
    expect((await client.waitClosed()).code).toBe(CloseCode.helloTimeout);
    expect(client.frames).toEqual([]);
  });

  it('keeps an authenticated connection open past the hello timeout', async () => {
    const { client } = await fx.session(fx.id('dave'));
    await new Promise((resolve) => setTimeout(resolve, helloTimeoutMs * 2));
    await client.barrier();
    expect(client.isOpen).toBe(true);
  });

  it('answers a second hello with bad_request and keeps the connection', async () => {
    const erin = fx.id('erin');
    const { client } = await fx.session(erin);
    client.send({ t: 'hello', token: await fx.token(erin) });
    expect((await client.waitFor('err')).code).toBe('bad_request');
    await client.barrier();
    expect(client.isOpen).toBe(true);
  });
});
