import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import { ClientDriver, message, summary } from './client-driver.ts';

const conv = 'c1';

function syncs(d: ClientDriver) {
  return d.take().filter((f) => f.t === 'sync');
}

function push(d: ClientDriver, seq: number) {
  d.receive({ t: 'msg', ...message(conv, seq) });
}

describe('display', () => {
  it('shows any permutation of pushes 1..n, with duplicates, exactly once and in order', () => {
    const pushes = fc.integer({ min: 1, max: 40 }).chain((n) =>
      fc
        .tuple(
          fc.shuffledSubarray(
            [...Array(n).keys()].map((i) => i + 1),
            { minLength: n, maxLength: n },
          ),
          fc.array(fc.integer({ min: 1, max: n }), { maxLength: 20 }),
        )
        .chain(([perm, dups]) =>
          fc
            .shuffledSubarray([...perm, ...dups], {
              minLength: perm.length + dups.length,
              maxLength: perm.length + dups.length,
            })
            .map((all) => ({ n, all })),
        ),
    );
    fc.assert(
      fc.property(pushes, ({ n, all }) => {
        const d = new ClientDriver({ gapTimeoutMs: 1_000_000 });
        d.open([summary(conv, 0)]);
        for (const seq of all) push(d, seq);
        expect(d.displayed(conv)).toEqual([...Array(n).keys()].map((i) => i + 1));
        expect(d.history('display').every((e) => e.via === 'push')).toBe(true);
        expect(d.client.displayedUpTo(conv)).toBe(n);
        expect(d.client.counters.duplicates).toBe(all.length - n);
      }),
    );
  });

  it('pulls a gap that persists gapTimeoutMs with sync after displayedUpTo', () => {
    const d = new ClientDriver({ gapTimeoutMs: 500 });
    d.open([summary(conv, 0)]);
    push(d, 1);
    push(d, 3);
    push(d, 4);
    d.take();
    d.advance(499);
    expect(syncs(d)).toEqual([]);
    d.advance(1);
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 1 }]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 2), message(conv, 3)], lastSeq: 4, more: false });
    expect(d.history('display').map((e) => [e.message.seq, e.via])).toEqual([
      [1, 'push'],
      [2, 'sync'],
      [3, 'push'],
      [4, 'push'],
    ]);
    d.advance(10_000);
    expect(syncs(d)).toEqual([]);
  });

  it('does not sync when the gap fills in time', () => {
    const d = new ClientDriver({ gapTimeoutMs: 500 });
    d.open([summary(conv, 0)]);
    push(d, 2);
    d.advance(400);
    push(d, 1);
    d.advance(10_000);
    expect(syncs(d)).toEqual([]);
    expect(d.displayed(conv)).toEqual([1, 2]);
  });

  it('follows batch.more with the next sync, one in flight at a time', () => {
    const d = new ClientDriver({ syncLimit: 2 });
    d.open([summary(conv, 5)]);
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 0, limit: 2 }]);
    d.receive({ t: 'notify', conv, lastSeq: 5 });
    expect(syncs(d)).toEqual([]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 1), message(conv, 2)], lastSeq: 5, more: true });
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 2, limit: 2 }]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 3), message(conv, 4)], lastSeq: 5, more: true });
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 4, limit: 2 }]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 5)], lastSeq: 5, more: false });
    expect(syncs(d)).toEqual([]);
    expect(d.displayed(conv)).toEqual([1, 2, 3, 4, 5]);
  });

  it('answers notify past what it displayed with sync', () => {
    const d = new ClientDriver();
    d.open([summary(conv, 0)]);
    d.receive({ t: 'notify', conv, lastSeq: 0 });
    expect(syncs(d)).toEqual([]);
    d.receive({ t: 'notify', conv, lastSeq: 3 });
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 0 }]);
    expect(d.history('conv-frame').map((e) => e.t)).toEqual(['notify', 'notify']);
  });

  it('re-sends an unanswered sync after syncTimeoutMs, then restarts the connection', () => {
    const d = new ClientDriver({
      syncTimeoutMs: 1000,
      syncRetriesMax: 1,
      jitter: false,
      reconnectBaseMs: 50,
    });
    d.open([summary(conv, 2)]);
    expect(syncs(d)).toHaveLength(1);
    d.advance(1000);
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 0 }]);
    d.advance(1000);
    expect(d.closes).toBe(1);
    d.advance(50);
    expect(d.connects).toBe(2);
    // Each give-up is recorded as silence, for read-pages to judge.
    expect(d.history('unanswered').map((e) => [e.asked, e.askedAt, e.at])).toEqual([
      ['sync', 0, 1000],
      ['sync', 1000, 2000],
    ]);
  });

  it('records a resume the welcome said was behind and no batch answered, then syncs', () => {
    const d = new ClientDriver({ jitter: false, syncTimeoutMs: 1000 });
    d.open([summary(conv, 0)]);
    push(d, 1);
    d.disconnect(1006);
    d.advance(10_000);
    d.apply(d.client.connected(d.now));
    d.receive({
      t: 'welcome',
      user: 'u1',
      conn: 'n2:7',
      node: 'n2',
      heartbeatMs: 10_000,
      convs: [summary(conv, 3)],
    });
    const welcomedAt = d.now;
    d.take();
    expect(d.history('unanswered')).toEqual([]);
    d.advance(1000);
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 1 }]);
    expect(d.history('unanswered')).toMatchObject([{ asked: 'resume', askedAt: welcomedAt, conv }]);
  });

  it('after welcome, syncs conversations behind that the resume did not cover', () => {
    const d = new ClientDriver({ jitter: false });
    d.open([summary(conv, 0)]);
    push(d, 1);
    d.take();
    d.disconnect(1006);
    d.advance(10_000);
    d.apply(d.client.connected(d.now));
    const hello = d.take()[0];
    expect(hello).toMatchObject({ t: 'hello', device: 'd1', resume: { c1: 1 } });
    d.receive({
      t: 'welcome',
      user: 'u1',
      conn: 'n2:7',
      node: 'n2',
      heartbeatMs: 10_000,
      convs: [summary(conv, 3), summary('c2', 2)],
    });
    expect(syncs(d)).toEqual([{ t: 'sync', conv: 'c2', after: 0 }]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 2), message(conv, 3)], lastSeq: 3, more: false });
    d.receive({
      t: 'batch',
      conv: 'c2',
      msgs: [message('c2', 1), message('c2', 2)],
      lastSeq: 2,
      more: false,
    });
    expect(d.history('display').map((e) => [e.message.conv, e.message.seq, e.via])).toEqual([
      [conv, 1, 'push'],
      [conv, 2, 'resume'],
      [conv, 3, 'resume'],
      ['c2', 1, 'sync'],
      ['c2', 2, 'sync'],
    ]);
    expect(d.client.node).toBe('n2');
  });

  it('after welcome, syncs a resumed conversation the welcome no longer lists (removed, maybe behind)', () => {
    const d = new ClientDriver({ jitter: false });
    d.open([summary(conv, 0)]);
    push(d, 1);
    d.take();
    d.disconnect(1006);
    d.advance(10_000);
    d.apply(d.client.connected(d.now));
    expect(d.take()[0]).toMatchObject({ t: 'hello', resume: { c1: 1 } });
    d.receive({ t: 'welcome', user: 'u1', conn: 'n2:7', node: 'n2', heartbeatMs: 10_000, convs: [] });
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 1 }]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 2)], lastSeq: 2, more: false });
    expect(d.displayed(conv)).toEqual([1, 2]);
  });

  it('a new member moves past the seqs it may not read (the batch starts after its join)', () => {
    const d = new ClientDriver();
    d.open([summary(conv, 52)]);
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 0 }]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 51), message(conv, 52)], lastSeq: 52, more: false });
    expect(d.displayed(conv)).toEqual([51, 52]);
    push(d, 53);
    expect(d.displayed(conv)).toEqual([51, 52, 53]);
  });

  it('a member removed and added again skips exactly the seqs sequenced while it was out', () => {
    const d = new ClientDriver({ gapTimeoutMs: 100 });
    d.open([summary(conv, 1)]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 1)], lastSeq: 1, more: false });
    push(d, 3);
    d.take();
    d.advance(100);
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 1 }]);
    d.receive({ t: 'batch', conv, msgs: [message(conv, 3)], lastSeq: 3, more: false });
    push(d, 4);
    expect(d.displayed(conv)).toEqual([1, 3, 4]);
  });

  it('an empty batch that ends past `after` means nothing there is readable', () => {
    const d = new ClientDriver();
    d.open([summary(conv, 50)]);
    syncs(d);
    d.receive({ t: 'batch', conv, msgs: [], lastSeq: 50, more: false });
    push(d, 51);
    expect(d.displayed(conv)).toEqual([51]);
  });

  it('keeps at most reorderBufferMax messages ahead of a gap and recovers the rest by sync', () => {
    const d = new ClientDriver({ reorderBufferMax: 2, gapTimeoutMs: 100 });
    d.open([summary(conv, 0)]);
    for (const seq of [5, 4, 3, 2]) push(d, seq);
    d.advance(100);
    expect(syncs(d)).toEqual([{ t: 'sync', conv, after: 0 }]);
    d.receive({
      t: 'batch',
      conv,
      msgs: [1, 2, 3, 4, 5].map((s) => message(conv, s)),
      lastSeq: 5,
      more: false,
    });
    expect(d.displayed(conv)).toEqual([1, 2, 3, 4, 5]);
  });
});

describe('cursors, receipts and evidence', () => {
  it('sends delivered at most once per cursorIntervalMs, and read on markRead', () => {
    const d = new ClientDriver({ cursorIntervalMs: 200 });
    d.open([summary(conv, 0)]);
    d.take();
    push(d, 1);
    expect(d.take()).toEqual([{ t: 'delivered', conv, seq: 1 }]);
    push(d, 2);
    push(d, 3);
    expect(d.take()).toEqual([]);
    d.advance(200);
    expect(d.take()).toEqual([{ t: 'delivered', conv, seq: 3 }]);
    d.apply(d.client.markRead(conv, d.now));
    expect(d.take()).toEqual([{ t: 'read', conv, seq: 3 }]);
    d.apply(d.client.markRead(conv, d.now));
    expect(d.take()).toEqual([]);
    expect(d.history('cursor-sent').map((e) => [e.kind, e.seq])).toEqual([
      ['delivered', 1],
      ['delivered', 3],
      ['read', 3],
    ]);
  });

  it('records a cursor the server refused (an err naming its kind and conversation)', () => {
    const d = new ClientDriver({ cursorIntervalMs: 200 });
    d.open([summary(conv, 0)]);
    push(d, 1);
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'delivered', conv });
    // Without `conv` (a v1 server) the err says nothing about which cursor it was.
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'read' });
    expect(d.history('cursor-refused').map((e) => [e.conv, e.kind, e.code])).toEqual([
      [conv, 'delivered', 'unavailable'],
    ]);
  });

  it('sends a cursor refused `unavailable` or `rate_limited` again, its newest value, after the backoff', () => {
    // protocol.md: `unavailable` and `rate_limited` ask for a retry. A cursor frame has no other answer,
    // so one dropped here stays lost until the cursor moves again (store-outage seed 1: 29 read cursors).
    const d = new ClientDriver({ cursorIntervalMs: 200, jitter: false, sendRetryBaseMs: 250 });
    d.open([summary(conv, 0)]);
    push(d, 1);
    d.apply(d.client.markRead(conv, d.now));
    d.take();
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'read', conv });
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'delivered', conv });
    push(d, 2);
    d.apply(d.client.markRead(conv, d.now));
    expect(d.take()).toEqual([]);
    // Two refusals: the backoff doubled once (250 ms, then 500).
    d.advance(499);
    expect(d.take()).toEqual([]);
    d.advance(1);
    expect(d.take()).toEqual([
      { t: 'read', conv, seq: 2 },
      { t: 'delivered', conv, seq: 2 },
    ]);
    // Refused again: the backoff doubles, and an err's retryAfterMs is a floor.
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'read', conv });
    d.advance(999);
    expect(d.take()).toEqual([]);
    d.advance(1);
    expect(d.take()).toEqual([{ t: 'read', conv, seq: 2 }]);
    d.receive({ t: 'err', code: 'rate_limited', message: 'slow', ref: 'read', conv, retryAfterMs: 3000 });
    d.advance(2999);
    expect(d.take()).toEqual([]);
    d.advance(1);
    expect(d.take()).toEqual([{ t: 'read', conv, seq: 2 }]);
    // A refusal as not allowed is not retried.
    d.receive({ t: 'err', code: 'forbidden', message: 'no', ref: 'read', conv });
    d.advance(10_000);
    expect(d.take()).toEqual([]);
  });

  it("sends every conversation's cursor of that kind again after an err without `conv` (a v1 server)", () => {
    const d = new ClientDriver({ cursorIntervalMs: 200, jitter: false, sendRetryBaseMs: 250 });
    d.open([summary(conv, 0), summary('c2', 0)]);
    push(d, 1);
    d.receive({ t: 'msg', ...message('c2', 1) });
    d.apply(d.client.markRead(conv, d.now));
    d.apply(d.client.markRead('c2', d.now));
    d.take();
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'read' });
    d.advance(250);
    expect(d.take()).toEqual([
      { t: 'read', conv, seq: 1 },
      { t: 'read', conv: 'c2', seq: 1 },
    ]);
  });

  it('re-sends cursors the welcome shows the server lacks', () => {
    const d = new ClientDriver({ jitter: false });
    d.open([summary(conv, 0)]);
    push(d, 1);
    d.disconnect(null);
    d.apply(d.client.markRead(conv, d.now));
    d.advance(60_000);
    d.take();
    d.open([summary(conv, 1, 0, 0)]);
    expect(d.take()).toEqual([
      { t: 'hello', token: 'token-at-60000', device: 'd1', resume: { c1: 1 } },
      { t: 'read', conv, seq: 1 },
      { t: 'delivered', conv, seq: 1 },
    ]);
  });

  it('records cursor-seen from welcome and receipts, and conv-frame for every conversation frame', () => {
    const d = new ClientDriver();
    d.open([summary(conv, 4, 2, 1)]);
    d.receive({ t: 'receipt', conv, user: 'u2', kind: 'read', seq: 3 });
    d.receive({ t: 'typing', conv, user: 'u2', on: true, ttlMs: 3000 });
    d.receive({ t: 'batch', conv, msgs: [message(conv, 1), message(conv, 2)], lastSeq: 4, more: true });
    expect(d.history('cursor-seen').map((e) => [e.of, e.kind, e.seq, e.lastSeq, e.source])).toEqual([
      ['u1', 'delivered', 2, 4, 'welcome'],
      ['u1', 'read', 1, 4, 'welcome'],
      ['u2', 'read', 3, 4, 'receipt'],
    ]);
    expect(d.history('conv-frame').map((e) => [e.t, e.seqs])).toEqual([
      ['receipt', [3]],
      ['typing', undefined],
      ['batch', [1, 2]],
    ]);
  });

  it('forgets a typing user after ttlMs or when told so', () => {
    const d = new ClientDriver();
    d.open([summary(conv, 0)]);
    d.receive({ t: 'typing', conv, user: 'u2', on: true, ttlMs: 3000 });
    d.receive({ t: 'typing', conv, user: 'u3', on: true, ttlMs: 3000 });
    expect(d.client.typingUsers(conv, d.now)).toEqual(['u2', 'u3']);
    d.receive({ t: 'typing', conv, user: 'u3', on: false, ttlMs: 3000 });
    expect(d.client.typingUsers(conv, d.now + 2999)).toEqual(['u2']);
    expect(d.client.typingUsers(conv, d.now + 3000)).toEqual([]);
  });

  it('sends typing and watch, re-sends watch after every welcome, records presence-seen', () => {
    const d = new ClientDriver({ jitter: false });
    d.open([]);
    d.take();
    d.apply(d.client.setTyping(conv, true, d.now));
    d.apply(d.client.watch(['u2', 'u3'], d.now));
    expect(d.take()).toEqual([
      { t: 'typing', conv, on: true },
      { t: 'watch', users: ['u2', 'u3'] },
    ]);
    d.receive({ t: 'presence', user: 'u2', online: false, lastSeen: 77 });
    expect(d.history('presence-seen')).toMatchObject([{ of: 'u2', online: false, lastSeen: 77 }]);
    d.disconnect(1001);
    d.advance(60_000);
    d.open([]);
    expect(d.take().slice(1)).toEqual([{ t: 'watch', users: ['u2', 'u3'] }]);
  });
});

describe('displays and conv-frames taken by their fields (ClientServices.display, .convFrame)', () => {
  const carried = (seq: number) => ({ ...message(conv, seq) });
  function driver(takes: boolean) {
    const taken: unknown[][] = [];
    const d = new ClientDriver(
      {},
      {
        deviceIndex: 7,
        display: (...fields) => {
          taken.push(['display', ...fields]);
          return takes;
        },
        convFrame: (...fields) => {
          taken.push(['conv-frame', ...fields]);
          return takes;
        },
      },
    );
    d.open([summary(conv, 0)]);
    return { d, taken };
  }

  it('a push goes as its frame and fields, counted as displayed, with no event recorded', () => {
    const { d, taken } = driver(true);
    const frame = { t: 'msg' as const, tp: '00-ab', ...carried(1) };
    d.receive(frame);
    d.receive({ t: 'notify', conv, lastSeq: 1 });
    expect(taken).toEqual([
      ['conv-frame', 7, 0, conv, 'msg', 1, 'n1', 'u1', 'd1'],
      ['display', 7, 0, 'push', frame, 'u1', 'd1'],
    ]);
    expect(taken[1]![4]).toBe(frame);
    expect(d.history('display')).toEqual([]);
    // A notify is an event with its lastSeq (delivery-mode judges how soon it names a seq): the
    // services' fields carry one seq, not a lastSeq.
    expect(d.history('conv-frame')).toEqual([
      { k: 'conv-frame', at: 0, conv, t: 'notify', node: 'n1', user: 'u1', device: 'd1', lastSeq: 1 },
    ]);
    expect(d.client.counters.displayed).toBe(1);
  });

  it('refused, they are recorded as events, the display holding the Message the frame carried', () => {
    const { d, taken } = driver(false);
    d.receive({ t: 'msg', tp: '00-ab', ...carried(1) });
    d.receive({ t: 'notify', conv, lastSeq: 1 });
    expect(taken).toHaveLength(2);
    const shown = d.history('display');
    expect(shown).toEqual([
      { k: 'display', at: 0, via: 'push', message: carried(1), user: 'u1', device: 'd1' },
    ]);
    expect(Object.keys(shown[0]!.message)).toEqual(['conv', 'seq', 'from', 'cmid', 'body', 'ts']);
    expect(d.history('conv-frame')).toEqual([
      { k: 'conv-frame', at: 0, conv, t: 'msg', seqs: [1], node: 'n1', user: 'u1', device: 'd1' },
      { k: 'conv-frame', at: 0, conv, t: 'notify', node: 'n1', user: 'u1', device: 'd1', lastSeq: 1 },
    ]);
    expect(d.client.counters.displayed).toBe(1);
  });
});
