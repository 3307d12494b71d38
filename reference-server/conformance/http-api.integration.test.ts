// Conformance: the HTTP API (protocol.md, "HTTP"). Health and metrics for anyone; admin endpoints for
// admin tokens only; member reads for members only; idempotent create (201, then 200, 409 on a
// different definition); errors as JSON `{code, message}` with the usual status.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ErrorBody, MessagesBody } from '../../test-support/http.ts';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';

describe.each(serverTargets)('HTTP API (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target });
  });
  afterAll(() => fx.close());

  function expectError(response: { status: number; body: unknown }, status: number, code: string): void {
    expect(response.status).toBe(status);
    expect(response.body).toMatchObject({ code, message: expect.any(String) });
    expect((response.body as ErrorBody).message.length).toBeGreaterThan(0);
  }

  it('answers /healthz and /readyz with 200 and /metrics with a Prometheus exposition', async () => {
    expect((await fx.http.request('GET', '/healthz')).status).toBe(200);
    expect((await fx.http.request('GET', '/readyz')).status).toBe(200);
    const metrics = await fx.http.request<string>('GET', '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.contentType).toContain('text/plain');
    expect(metrics.text).toMatch(/^# (HELP|TYPE) /m);
  });

  it('creates a conversation with 201, answers the same definition again with 200, a different one with 409', async () => {
    const admin = await fx.adminToken();
    const id = fx.id('conv');
    const spec = { id, kind: 'group' as const, members: ['alice', 'bob'] };
    expect((await fx.http.createConversation(admin, spec)).status).toBe(201);
    expect((await fx.http.createConversation(admin, spec)).status).toBe(200);
    expect((await fx.http.createConversation(admin, { ...spec, members: ['bob', 'alice'] })).status).toBe(
      200,
    );
    expectError(
      await fx.http.createConversation(admin, { ...spec, members: ['alice', 'carol'] }),
      409,
      'conflict',
    );
    expectError(await fx.http.createConversation(admin, { ...spec, kind: 'direct' }), 409, 'conflict');
  });

  it('compares a repeated create against the current members', async () => {
    const admin = await fx.adminToken();
    const id = fx.id('conv');
    await fx.http.mustCreateConversation(admin, { id, kind: 'group', members: ['alice', 'bob'] });
    await fx.changeMembers(id, { add: ['carol'] });
    expect(
      (await fx.http.createConversation(admin, { id, kind: 'group', members: ['alice', 'bob', 'carol'] }))
        .status,
    ).toBe(200);
    expectError(
      await fx.http.createConversation(admin, { id, kind: 'group', members: ['alice', 'bob'] }),
      409,
      'conflict',
    );
  });

  it('refuses admin endpoints with 401 without a valid token and 403 without the admin role', async () => {
    const spec = { id: fx.id('conv'), kind: 'group', members: ['alice'] };
    expectError(
      await fx.http.request('POST', '/v1/admin/conversations', { body: spec }),
      401,
      'unauthorized',
    );
    expectError(
      await fx.http.request('POST', '/v1/admin/conversations', { body: spec, token: 'garbage' }),
      401,
      'unauthorized',
    );
    const expired = await fx.token('root', { admin: true, expiresInSec: -60 });
    expectError(
      await fx.http.request('POST', '/v1/admin/conversations', { body: spec, token: expired }),
      401,
      'unauthorized',
    );
    const forged = await fx.token('root', { admin: true, secret: 'not-the-secret' });
    expectError(
      await fx.http.request('POST', '/v1/admin/conversations', { body: spec, token: forged }),
      401,
      'unauthorized',
    );
    const user = await fx.token('alice');
    expectError(
      await fx.http.request('POST', '/v1/admin/conversations', { body: spec, token: user }),
      403,
      'forbidden',
    );
    const conv = await fx.conversation(['alice']);
    expectError(await fx.http.changeMembers(user, conv, { add: ['mallory'] }), 403, 'forbidden');
  });

  it('refuses malformed admin bodies with 400', async () => {
    const admin = await fx.adminToken();
    const post = (body: unknown) =>
      fx.http.request('POST', '/v1/admin/conversations', { token: admin, body });
    expectError(await post({ id: 'bad id', kind: 'group', members: ['a'] }), 400, 'bad_request');
    expectError(await post({ id: fx.id('c'), kind: 'channel', members: ['a'] }), 400, 'bad_request');
    expectError(await post({ id: fx.id('c'), kind: 'group', members: 'a' }), 400, 'bad_request');
    expectError(
      await fx.http.request('POST', '/v1/admin/conversations', { token: admin, rawBody: '{"id":' }),
      400,
      'bad_request',
    );
  });

  it('reads messages for members in seq order with lastSeq, paged by after and limit', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice, fx.id('bob')]);
    const { client } = await fx.session(alice);
    const acks = [];
    for (let i = 1; i <= 5; i++) acks.push(await client.mustSend(conv, `m${i}`, `body ${i}`));
    const token = await fx.token(alice);
    const all = await fx.http.messages(token, conv);
    expect(all.status).toBe(200);
    expect(all.body.lastSeq).toBe(5);
    expect(all.body.messages).toEqual(
      acks.map((ack, i) => ({
        conv,
        seq: ack.seq,
        from: alice,
        cmid: `m${i + 1}`,
        body: `body ${i + 1}`,
        ts: ack.ts,
      })),
    );
    const page = await fx.http.messages(token, conv, 1, 2);
    expect(page.body.messages.map((m) => m.seq)).toEqual([2, 3]);
    expect(page.body.lastSeq).toBe(5);
    expectError(
      await fx.http.request('GET', `/v1/conversations/${conv}/messages?after=-1`, { token }),
      400,
      'bad_request',
    );
    expectError(
      await fx.http.request('GET', `/v1/conversations/${conv}/messages?limit=501`, { token }),
      400,
      'bad_request',
    );
  });

  it('refuses member reads with 401 without a token, 403 to non-members, 404 for unknown conversations', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const outsider = await fx.token(fx.id('mallory'));
    expectError(
      await fx.http.request('GET', `/v1/conversations/${conv}/messages?after=0`),
      401,
      'unauthorized',
    );
    expectError(await fx.http.request('GET', `/v1/conversations/${conv}/receipts`), 401, 'unauthorized');
    expectError(await fx.http.messages(outsider, conv), 403, 'forbidden');
    expectError(await fx.http.receipts(outsider, conv), 403, 'forbidden');
    const member = await fx.token(alice);
    expectError(await fx.http.messages(member, 'never-created'), 404, 'not_found');
    expectError(await fx.http.receipts(member, 'never-created'), 404, 'not_found');
  });

  it('answers the receipts endpoint with every current member’s cursors', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const response = await fx.http.receipts(await fx.token(bob), conv);
    expect(response.status).toBe(200);
    expect(response.body).toEqual({
      conv,
      lastSeq: 0,
      members: expect.arrayContaining([
        { user: alice, delivered: 0, read: 0 },
        { user: bob, delivered: 0, read: 0 },
      ]),
    });
    expect(response.body.members).toHaveLength(2);
  });

  it('answers an unknown path with 404 as JSON', async () => {
    const response = await fx.http.request<MessagesBody>('GET', '/v1/nothing-here', {
      token: await fx.token('alice'),
    });
    expectError(response, 404, 'not_found');
  });
});
