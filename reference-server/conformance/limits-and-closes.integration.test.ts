// Conformance: the bounds a server enforces and the close codes it uses for them (protocol.md, error
// and close codes): bad frames (4400 on the 11th), frame size (1009), slow consumers (4509), send rate
// (rate_limited with retryAfterMs) and graceful drain (drain, then 1012).

import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { eventually } from '../../test-support/eventually.ts';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';
import { CloseCode } from '../protocol/codes.ts';

const frameBytesMax = 64 * 1024;

describe.each(serverTargets)('bad frames and frame size (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target });
  });
  afterAll(() => fx.close());

  it('answers 10 bad frames with bad_request each, keeps working, and closes with 4400 on the 11th', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    const bad: (string | object)[] = [
      'not json',
      '[1,2,3]',
      '"a string"',
      '{}',
      { t: 42 },
      { t: 'no-such-type' },
      { t: 'sync', conv, after: 'zero' },
      { t: 'delivered', conv, seq: -1 },
      { t: 'send', conv, cmid: 'ok' },
      { t: 'watch', users: [1, 2] },
    ];
    for (const frame of bad) {
      client.sendRaw(typeof frame === 'string' ? frame : JSON.stringify(frame));
      expect((await client.waitFor('err')).code, JSON.stringify(frame)).toBe('bad_request');
    }
    expect((await client.mustSend(conv, 'still-open', 'yes')).seq).toBe(1);
    client.sendRaw('{"t":');
    expect((await client.waitClosed()).code).toBe(CloseCode.tooManyBadFrames);
    expect(client.received('err')).toHaveLength(10);
  });

  it('answers an unknown frame type with bad_request naming it', async () => {
    const { client } = await fx.session(fx.id('alice'));
    client.send({ t: 'shout', text: 'hi' });
    expect(await client.waitFor('err')).toMatchObject({ code: 'bad_request' });
    expect(client.isOpen).toBe(true);
  });

  it('answers a binary frame with bad_request', async () => {
    const { client } = await fx.session(fx.id('alice'));
    client.sendRaw(Buffer.from(JSON.stringify({ t: 'watch', users: [] })));
    expect((await client.waitFor('err')).code).toBe('bad_request');
    await client.barrier();
    expect(client.isOpen).toBe(true);
  });

  it('takes a frame of exactly 64 KiB and closes with 1009 on one byte more', async () => {
    const alice = fx.id('alice');
    const { client } = await fx.session(alice);
    const frame = (size: number) => {
      const head = JSON.stringify({ t: 'watch', users: [alice] });
      return `${head.slice(0, -1)}${' '.repeat(size - head.length)}}`;
    };
    expect(Buffer.byteLength(frame(frameBytesMax))).toBe(frameBytesMax);
    client.sendRaw(frame(frameBytesMax));
    expect(await client.waitFor('presence')).toMatchObject({ user: alice, online: true });
    client.sendRaw(frame(frameBytesMax + 1));
    expect((await client.waitClosed()).code).toBe(CloseCode.frameTooBig);
  });

  it('closes with 1009 for a frame over 64 KiB even before hello', async () => {
    const client = await fx.connect();
    client.sendRaw('x'.repeat(frameBytesMax + 1));
    expect((await client.waitClosed()).code).toBe(CloseCode.frameTooBig);
  });
});

describe.each(serverTargets)('slow consumer (%s server)', (target) => {
  const sendBufferBytesMax = 256 * 1024;
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({
      target,
      limits: { sendBufferBytesMax, userSendBurst: 10_000, userSendsPerSec: 10_000 },
      closeTimeoutMs: 20_000,
    });
  });
  afterAll(() => fx.close());

  it('closes with 4509 a connection that stops reading once its send buffer passes the bound, and it can resume', async () => {
    const [alice, bob] = [fx.id('alice'), fx.id('bob')];
    const conv = await fx.conversation([alice, bob]);
    const writer = (await fx.session(alice)).client;
    const body = 'x'.repeat(4000);
    await Promise.all(Array.from({ length: 100 }, (_, i) => writer.mustSend(conv, `fill-${i}`, body)));
    const { client: slow } = await fx.session(bob);
    slow.pauseReading();
    // Every sync answers with ~400 KB the paused client does not read; the kernel's socket buffers
    // absorb a few MB before the server's own send buffer starts to grow.
    const slowCloses = fx.slowConsumerCloses();
    for (let round = 0; round < 200 && fx.slowConsumerCloses() === slowCloses; round++) {
      slow.send({ t: 'sync', conv, after: 0, limit: 100 });
      await new Promise((resolve) => setTimeout(resolve, 5));
    }
    await eventually(() => expect(fx.slowConsumerCloses()).toBeGreaterThan(slowCloses));
    slow.resumeReading();
    expect((await slow.waitClosed(15_000)).code).toBe(CloseCode.slowConsumer);
    // Others in the conversation are unaffected, and the slow client reconnects and resumes.
    expect((await writer.mustSend(conv, 'after', 'still flowing')).seq).toBe(101);
    const { client: again } = await fx.session(bob, { resume: { [conv]: 100 } });
    expect((await again.waitFor('batch')).msgs.map((m) => m.body)).toEqual(['still flowing']);
  });
});

describe.each(serverTargets)('send rate (%s server)', (target) => {
  let fx: ServerFixture;
  beforeAll(async () => {
    fx = await ServerFixture.start({ target, limits: { userSendBurst: 3, userSendsPerSec: 2 } });
  });
  afterAll(() => fx.close());

  it('answers sends past the burst with rate_limited and retryAfterMs; the same cmid succeeds after that delay', async () => {
    const alice = fx.id('alice');
    const conv = await fx.conversation([alice]);
    const { client } = await fx.session(alice);
    const answers = await Promise.all(
      Array.from({ length: 5 }, (_, i) => client.sendMessage(conv, `r${i}`, `m${i}`)),
    );
    const acked = answers.filter((a) => a.t === 'ack');
    const limited = answers.filter((a) => a.t === 'err');
    expect(acked.length).toBeGreaterThanOrEqual(3);
    expect(limited.length).toBeGreaterThanOrEqual(1);
    const refused = limited[0]!;
    expect(refused).toMatchObject({ t: 'err', code: 'rate_limited', ref: expect.any(String) });
    expect(refused.t === 'err' && refused.retryAfterMs).toBeGreaterThan(0);
    // Nothing was stored for the refused sends.
    expect((await client.sync(conv, 0)).lastSeq).toBe(acked.length);
    await new Promise((resolve) =>
      setTimeout(resolve, (refused.t === 'err' ? refused.retryAfterMs! : 0) + 20),
    );
    const retry = await client.sendMessage(conv, refused.t === 'err' ? refused.ref! : '', 'retried');
    expect(retry).toMatchObject({ t: 'ack', seq: acked.length + 1 });
  });

  it('limits per user, not per connection', async () => {
    const bob = fx.id('bob');
    const conv = await fx.conversation([bob]);
    const one = (await fx.session(bob, { device: 'one' })).client;
    const two = (await fx.session(bob, { device: 'two' })).client;
    const answers = await Promise.all([
      ...Array.from({ length: 3 }, (_, i) => one.sendMessage(conv, `one-${i}`, 'x')),
      ...Array.from({ length: 3 }, (_, i) => two.sendMessage(conv, `two-${i}`, 'x')),
    ]);
    expect(answers.filter((a) => a.t === 'err' && a.code === 'rate_limited').length).toBeGreaterThanOrEqual(
      2,
    );
  });
});

describe.each(serverTargets)('graceful drain (%s server)', (target) => {
  let fx: ServerFixture | null = null;
  afterEach(async () => {
    await fx?.close();
    fx = null;
  });

  it('sends drain with reconnectInMs to every connection, then closes each with 1012', async () => {
    fx = await ServerFixture.start({ target, limits: { drainReconnectMs: 700 } });
    const clients = [(await fx.session(fx.id('alice'))).client, (await fx.session(fx.id('bob'))).client];
    const drained = fx.drain();
    for (const client of clients) {
      expect(await client.waitFor('drain')).toEqual({ t: 'drain', reconnectInMs: 700 });
      expect((await client.waitClosed()).code).toBe(CloseCode.restart);
    }
    await drained;
  });
});
