import { describe, expect, it } from 'vitest';
import { ClientDriver, summary } from './client-driver.ts';

const conv = 'c1';

function sends(driver: ClientDriver) {
  return driver.take().filter((f) => f.t === 'send');
}

describe('outbox', () => {
  it('resends every unacked message under the same cmid after reconnecting, reporting send once', () => {
    const d = new ClientDriver({ jitter: false, reconnectBaseMs: 100 });
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'hello', d.now));
    expect(sends(d)).toEqual([{ t: 'send', conv, cmid: 'd1-1', body: 'hello' }]);

    d.disconnect(null);
    d.apply(d.client.sendMessage(conv, 'while away', d.now));
    expect(sends(d)).toEqual([]);
    d.advance(100);
    expect(d.connects).toBe(2);
    d.open([summary(conv, 0)]);
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-1', 'd1-2']);

    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    expect(d.history('send').map((e) => e.cmid)).toEqual(['d1-1', 'd1-2']);
    expect(d.history('ack')).toMatchObject([{ cmid: 'd1-1', seq: 1, ts: 5, user: 'u1', device: 'd1' }]);
    expect(d.client.status('d1-1')).toBe('sent');
    expect(d.client.status('d1-2')).toBe('sending');
  });

  it('keeps sends made before the first connection and sends them after the welcome', () => {
    const d = new ClientDriver();
    d.apply(d.client.sendMessage(conv, 'early', d.now));
    expect(d.sent).toEqual([]);
    d.open([summary(conv, 0)]);
    expect(sends(d)).toHaveLength(1);
  });

  it('resends on ack timeout while the connection still pings, then fails after sendAttemptsMax', () => {
    const d = new ClientDriver({ ackTimeoutMs: 1000, sendAttemptsMax: 3, sendPatienceMs: 0 });
    // The server pings every 500 ms: the connection is alive, only the acks do not come.
    const wait = (ms: number) => {
      for (let t = 0; t < ms; t += 500) {
        d.advance(500);
        d.client.heard(d.now);
      }
    };
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'x', d.now));
    expect(sends(d)).toHaveLength(1);
    d.advance(500);
    d.client.heard(d.now);
    d.advance(499);
    expect(sends(d)).toHaveLength(0);
    d.advance(1);
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-1']);
    wait(1000);
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-1']);
    expect(d.client.counters.resent).toBe(2);
    wait(1000);
    expect(sends(d)).toEqual([]);
    expect(d.history('failed')).toMatchObject([{ cmid: 'd1-1', code: 'timeout', at: 3000 }]);
    expect(d.client.status('d1-1')).toBe('failed');
    expect(d.client.outboxSize).toBe(0);
  });

  it('takes an ack timeout on a connection silent since the send for a dead connection, not an attempt', () => {
    // A blackhole (Toxiproxy timeout, a dropped NAT entry): no ack, no ping. The client reconnects at
    // the ack deadline instead of the idle timeout and resends; the wait does not use up an attempt.
    const d = new ClientDriver({
      ackTimeoutMs: 1000,
      sendAttemptsMax: 2,
      jitter: false,
      reconnectBaseMs: 100,
    });
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'x', d.now));
    expect(sends(d)).toHaveLength(1);
    d.advance(1000);
    expect(d.history('session-lost')).toMatchObject([{ reason: 'idle', at: 1000 }]);
    expect(sends(d)).toEqual([]);
    d.advance(100);
    expect(d.connects).toBe(2);
    d.open([summary(conv, 0)]);
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-1']);
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    expect(d.history('failed')).toEqual([]);
    expect(d.client.status('d1-1')).toBe('sent');
  });

  it('names, when its session ends, when the oldest request still unanswered on it was sent', () => {
    const d = new ClientDriver({ jitter: false, reconnectBaseMs: 100 });
    d.open([summary(conv, 0)]);
    d.advance(100);
    d.apply(d.client.sendMessage(conv, 'x', d.now));
    d.advance(100);
    d.apply(d.client.sendMessage(conv, 'y', d.now));
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    d.client.heard(d.now);
    d.advance(100);
    // A notify past what it holds: the view syncs at once.
    d.receive({ t: 'notify', conv, lastSeq: 3 });
    expect(d.take().filter((f) => f.t === 'sync')).toHaveLength(1);
    d.advance(200);
    d.disconnect(null);
    // d1-2 went at 200 (d1-1 was acked), the sync at 300; heard from last at 300 (the notify).
    expect(d.history('session-lost')).toMatchObject([{ at: 500, unansweredSince: 200, heardAt: 300 }]);
    // An `err` answers: a send refused `unavailable` waits to be sent again, and is not awaited.
    d.advance(100);
    d.open([summary(conv, 1)]);
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-2']);
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'd1-2' });
    d.disconnect(null);
    const [, second] = d.history('session-lost');
    expect(second).toMatchObject({ at: 600 });
    expect(second).not.toHaveProperty('unansweredSince');
    expect(second).not.toHaveProperty('heardAt');
  });

  it('waits retryAfterMs after rate_limited, holding every send meanwhile', () => {
    const d = new ClientDriver({ sendWindow: 4 });
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'a', d.now));
    sends(d);
    d.receive({ t: 'err', code: 'rate_limited', message: 'slow down', ref: 'd1-1', retryAfterMs: 300 });
    d.apply(d.client.sendMessage(conv, 'b', d.now));
    expect(sends(d)).toEqual([]);
    d.advance(299);
    expect(sends(d)).toEqual([]);
    d.advance(1);
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-1', 'd1-2']);
    expect(d.history('failed')).toEqual([]);
  });

  it('fails after rateLimitedRetriesMax rate_limited answers', () => {
    const d = new ClientDriver({ rateLimitedRetriesMax: 2 });
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'a', d.now));
    for (let i = 0; i < 3; i++) {
      expect(sends(d)).toHaveLength(1);
      d.receive({ t: 'err', code: 'rate_limited', message: '', ref: 'd1-1', retryAfterMs: 10 });
      d.advance(10);
    }
    expect(d.history('failed')).toMatchObject([{ cmid: 'd1-1', code: 'rate_limited' }]);
  });

  it('retries unavailable with exponential backoff and gives up after sendAttemptsMax', () => {
    const d = new ClientDriver({
      jitter: false,
      sendRetryBaseMs: 100,
      sendAttemptsMax: 3,
      sendPatienceMs: 0,
    });
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'a', d.now));
    sends(d);
    d.receive({ t: 'err', code: 'unavailable', message: '', ref: 'd1-1' });
    d.advance(99);
    expect(sends(d)).toEqual([]);
    d.advance(1);
    expect(sends(d)).toHaveLength(1);
    d.receive({ t: 'err', code: 'unavailable', message: '', ref: 'd1-1' });
    d.advance(199);
    expect(sends(d)).toEqual([]);
    d.advance(1);
    expect(sends(d)).toHaveLength(1);
    d.receive({ t: 'err', code: 'unavailable', message: '', ref: 'd1-1' });
    expect(d.history('failed')).toMatchObject([{ cmid: 'd1-1', code: 'unavailable' }]);
  });

  it('keeps retrying unavailable until sendPatienceMs has passed, with one attempt at that deadline', () => {
    const d = new ClientDriver({
      jitter: false,
      sendRetryBaseMs: 1000,
      sendRetryCapMs: 60_000,
      sendAttemptsMax: 3,
      sendPatienceMs: 10_000,
    });
    const refuse = () => d.receive({ t: 'err', code: 'unavailable', message: '', ref: 'd1-1' });
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'a', d.now));
    const at: number[] = [d.now];
    sends(d);
    refuse();
    // Backoff 1 s, 2 s, 4 s, then 8 s would land at 15 s: the last wait is cut to the 10 s deadline.
    for (let t = 0; t < 20_000; t += 50) {
      d.advance(50);
      if (sends(d).length === 0) continue;
      at.push(d.now);
      refuse();
    }
    expect(at).toEqual([0, 1000, 3000, 7000, 10_000]);
    expect(d.history('failed')).toMatchObject([{ cmid: 'd1-1', code: 'unavailable', at: 10_000 }]);
  });

  it('acks a send the store refused for longer than its attempts but shorter than its patience', () => {
    const d = new ClientDriver({
      jitter: false,
      sendRetryBaseMs: 100,
      sendAttemptsMax: 2,
      sendPatienceMs: 5000,
    });
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'a', d.now));
    let attempts = 0;
    for (let t = 0; t < 4000; t += 10) {
      if (sends(d).length > 0) {
        attempts++;
        d.receive({ t: 'err', code: 'unavailable', message: '', ref: 'd1-1' });
      }
      d.advance(10);
    }
    expect(attempts).toBeGreaterThan(2);
    expect(d.history('failed')).toEqual([]);
    for (let t = 0; t < 5000 && sends(d).length === 0; t += 10) d.advance(10);
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    expect(d.client.status('d1-1')).toBe('sent');
    expect(d.history('failed')).toEqual([]);
  });

  it.each(['forbidden', 'not_found', 'too_large', 'bad_request'])('fails at once on %s', (code) => {
    const d = new ClientDriver();
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'a', d.now));
    d.receive({ t: 'err', code, message: '', ref: 'd1-1' });
    expect(d.history('failed')).toMatchObject([{ cmid: 'd1-1', code }]);
    d.advance(60_000);
    expect(sends(d)).toHaveLength(1);
  });

  it('keeps at most sendWindow sends in flight; an ack lets the next one go', () => {
    const d = new ClientDriver({ sendWindow: 2 });
    d.open([summary(conv, 0)]);
    for (let i = 0; i < 5; i++) d.apply(d.client.sendMessage(conv, `m${i}`, d.now));
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-1', 'd1-2']);
    d.receive({ t: 'ack', conv, cmid: 'd1-2', seq: 1, ts: 1 });
    expect(sends(d).map((f) => f.cmid)).toEqual(['d1-3']);
    expect(d.client.outboxSize).toBe(4);
  });

  it('fails a send beyond outboxMax at once', () => {
    const d = new ClientDriver({ outboxMax: 2 });
    for (let i = 0; i < 3; i++) d.apply(d.client.sendMessage(conv, `m${i}`, d.now));
    expect(d.history('failed')).toMatchObject([{ cmid: 'd1-3', code: 'outbox_full' }]);
    expect(d.history('send')).toHaveLength(3);
  });

  it('displays its own acked message via own once contiguous, and follows receipts to delivered and read', () => {
    const d = new ClientDriver();
    d.open([summary(conv, 1)]);
    d.take();
    d.apply(d.client.sendMessage(conv, 'mine', d.now));
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 2, ts: 7 });
    expect(d.displayed(conv)).toEqual([]);
    d.receive({
      t: 'batch',
      conv,
      msgs: [{ conv, seq: 1, from: 'u2', cmid: 'x', body: 'first', ts: 3 }],
      lastSeq: 2,
      more: false,
    });
    expect(d.history('display').map((e) => [e.message.seq, e.via])).toEqual([
      [1, 'sync'],
      [2, 'own'],
    ]);
    expect(d.history('display')[1]!.message).toEqual({
      conv,
      seq: 2,
      from: 'u1',
      cmid: 'd1-1',
      body: 'mine',
      ts: 7,
    });
    d.receive({ t: 'receipt', conv, user: 'u1', kind: 'read', seq: 2 });
    expect(d.client.status('d1-1')).toBe('sent');
    d.receive({ t: 'receipt', conv, user: 'u2', kind: 'delivered', seq: 2 });
    expect(d.client.status('d1-1')).toBe('delivered');
    d.receive({ t: 'receipt', conv, user: 'u3', kind: 'read', seq: 5 });
    expect(d.client.status('d1-1')).toBe('read');
  });

  it('remembers the last settledKeptMax settled sends, the oldest forgotten first', () => {
    const d = new ClientDriver({ settledKeptMax: 3 });
    d.open([summary(conv, 0)]);
    for (let n = 1; n <= 5; n++) {
      d.apply(d.client.sendMessage(conv, `m${n}`, d.now));
      d.receive({ t: 'ack', conv, cmid: `d1-${n}`, seq: n, ts: n });
      // While the ring fills, every settled send so far is remembered.
      if (n <= 3) for (let k = 1; k <= n; k++) expect(d.client.status(`d1-${k}`), `after ${n}`).toBe('sent');
    }
    expect(d.client.status('d1-1')).toBeUndefined();
    expect(d.client.status('d1-2')).toBeUndefined();
    expect(['d1-3', 'd1-4', 'd1-5'].map((cmid) => d.client.status(cmid))).toEqual(['sent', 'sent', 'sent']);
  });
});
