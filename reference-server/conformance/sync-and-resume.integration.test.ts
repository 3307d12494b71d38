// Conformance: pulling history (protocol.md, `sync`, `batch`, `hello.resume`; guarantee 5). Batches are
// in seq order, pages end with `more: false`, the default page is 500, and a client that resumes gets
// exactly what it lacks.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ChatClient } from '../../test-support/chat-client.ts';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';
import type { BatchFrame, Message } from '../protocol/frames.ts';

async function fill(client: ChatClient, conv: string, count: number, prefix = 'm'): Promise<void> {
  await Promise.all(
    Array.from({ length: count }, (_, i) => client.mustSend(conv, `${prefix}${i + 1}`, `body ${i + 1}`)),
  );
}

function seqsOf(messages: readonly Message[]): number[] {
  return messages.map((m) => m.seq);
}

function range(from: number, to: number): number[] {
  return Array.from({ length: to - from + 1 }, (_, i) => from + i);
}

describe.each(serverTargets)('sync and resume (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target, limits: { userSendBurst: 10_000, userSendsPerSec: 10_000 } });
  });
  afterAll(() => fx.close());

  it('returns messages after a seq in order, with lastSeq and more: false at the end', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice, fx.id('bob')]);
    const { client } = await fx.session(alice);
    await fill(client, conv, 10);
    const batch = await client.sync(conv, 4);
    expect(batch).toMatchObject({ t: 'batch', conv, lastSeq: 10, more: false });
    expect(seqsOf(batch.msgs)).toEqual(range(5, 10));
    expect(batch.msgs[0]).toMatchObject({
      conv,
      seq: 5,
      from: alice,
      body: expect.any(String),
      cmid: expect.any(String),
    });
    expect(await client.sync(conv, 10)).toMatchObject({ msgs: [], lastSeq: 10, more: false });
    expect(await client.sync(conv, 50)).toMatchObject({ msgs: [], lastSeq: 10, more: false });
  });

  it('pages with limit and more', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    await fill(client, conv, 25);
    const pages: BatchFrame[] = [];
    for (let after = 0; pages.length < 10; ) {
      const page = await client.sync(conv, after, 10);
      pages.push(page);
      if (!page.more) break;
      after = page.msgs.at(-1)!.seq;
    }
    expect(pages.map((p) => [p.msgs.length, p.more, p.lastSeq])).toEqual([
      [10, true, 25],
      [10, true, 25],
      [5, false, 25],
    ]);
    expect(pages.flatMap((p) => seqsOf(p.msgs))).toEqual(range(1, 25));
  });

  it('returns at most 500 messages per batch by default', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    await fill(client, conv, 520);
    const first = await client.sync(conv, 0);
    expect(first.msgs).toHaveLength(500);
    expect(first).toMatchObject({ lastSeq: 520, more: true });
    expect(seqsOf(first.msgs)).toEqual(range(1, 500));
    const second = await client.sync(conv, 500);
    expect(seqsOf(second.msgs)).toEqual(range(501, 520));
    expect(second.more).toBe(false);
  });

  it('answers a limit over 500 or under 1 with bad_request', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    for (const limit of [501, 0, -1, 1.5]) {
      client.send({ t: 'sync', conv, after: 0, limit });
      expect((await client.waitFor('err')).code).toBe('bad_request');
    }
    client.send({ t: 'sync', conv, after: -1 });
    expect((await client.waitFor('err')).code).toBe('bad_request');
  });

  it('answers sync of an unknown conversation with not_found and of a foreign one with forbidden, keeping the connection', async () => {
    const [alice, mallory] = [fx.id('alice'), fx.id('mallory')];
    const conv = await fx.conversation([alice]);
    const own = await fx.conversation([mallory]);
    const { client } = await fx.session(mallory);
    client.send({ t: 'sync', conv: 'never-created', after: 0 });
    expect((await client.waitFor('err')).code).toBe('not_found');
    client.send({ t: 'sync', conv, after: 0 });
    expect((await client.waitFor('err')).code).toBe('forbidden');
    expect((await client.sync(own, 0)).conv).toBe(own);
  });

  it('resumes in hello: the welcome, then the missing messages of each conversation behind the server', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const behind = await fx.conversation([alice, bob]);
    const current = await fx.conversation([alice, bob]);
    const writer = (await fx.session(alice)).client;
    await fill(writer, behind, 10);
    await fill(writer, current, 3);
    const client = await fx.connect(bob);
    const welcome = await client.hello(await fx.token(bob), { [behind]: 3, [current]: 3 });
    expect(welcome.convs).toEqual(
      expect.arrayContaining([
        { conv: behind, lastSeq: 10, delivered: 0, read: 0 },
        { conv: current, lastSeq: 3, delivered: 0, read: 0 },
      ]),
    );
    const batch = await client.waitFor('batch', (b) => b.conv === behind);
    expect(client.frames.indexOf(welcome)).toBeLessThan(client.frames.indexOf(batch));
    expect(seqsOf(batch.msgs)).toEqual(range(4, 10));
    expect(batch).toMatchObject({ lastSeq: 10, more: false });
    await client.barrier();
    expect(client.received('batch', (b) => b.conv === current)).toEqual([]);
  });

  it('resumes a long gap in pages: the resume batch says more and sync fetches the rest', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    await fill((await fx.session(alice)).client, conv, 600);
    const { client } = await fx.session(bob, { resume: { [conv]: 0 } });
    const held: Message[] = [];
    let batch = await client.waitFor('batch', (b) => b.conv === conv);
    held.push(...batch.msgs);
    while (batch.more) {
      batch = await client.sync(conv, held.at(-1)!.seq);
      held.push(...batch.msgs);
    }
    expect(seqsOf(held)).toEqual(range(1, 600));
  });

  it('opens the session and resumes the known conversations when the resume also names an unknown one', async () => {
    const carol = fx.id('carol');
    const conv = await fx.conversation([carol]);
    await (await fx.session(carol)).client.mustSend(conv, 'before', 'held by the server');
    const { client, welcome } = await fx.session(carol, { resume: { 'never-created': 0, [conv]: 0 } });
    expect(welcome.user).toBe(carol);
    expect(seqsOf((await client.waitFor('batch', (b) => b.conv === conv)).msgs)).toEqual([1]);
    expect((await client.mustSend(conv, 'after-resume', 'ok')).seq).toBe(2);
  });
});
