import { describe, expect, it } from 'vitest';
import { ClientDriver, summary } from './client-driver.ts';
import { ResendingClient } from './resending-client.ts';

const conv = 'c1';
const resending = () =>
  new ClientDriver({ jitter: false, reconnectBaseMs: 100 }, {}, (options) => new ResendingClient(options));

describe('a device that lost its last ack (ResendingClient)', () => {
  it('sends its last acked message again on each later session and records the answer beside the first ack', () => {
    const d = resending();
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'hello', d.now));
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    expect(d.take().filter((f) => f.t === 'send')).toHaveLength(1);

    for (const [seq, ts] of [
      [1, 5],
      [2, 9],
    ] as const) {
      d.disconnect(null);
      d.advance(100);
      d.open([summary(conv, 1)]);
      expect(d.take().filter((f) => f.t === 'send')).toEqual([
        { t: 'send', conv, cmid: 'd1-1', body: 'hello' },
      ]);
      d.advance(20);
      d.receive({ t: 'ack', conv, cmid: 'd1-1', seq, ts });
    }
    expect(d.history('resent-ack')).toEqual([
      expect.objectContaining({ cmid: 'd1-1', seq: 1, ts: 5, first: { seq: 1, ts: 5 }, resentAt: 100 }),
      expect.objectContaining({ cmid: 'd1-1', seq: 2, ts: 9, first: { seq: 1, ts: 5 }, resentAt: 220 }),
    ]);
    // Not a new message: no second send or ack, no display of its own.
    expect(d.history('send')).toHaveLength(1);
    expect(d.history('ack')).toHaveLength(1);
    expect(d.history('display')).toEqual([
      expect.objectContaining({ via: 'own', message: expect.objectContaining({ seq: 1 }) }),
    ]);
  });

  it('sends nothing again on its first session, and an answer after the session it was sent on is lost is not its', () => {
    const d = resending();
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'hello', d.now));
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    d.take();
    d.disconnect(null);
    d.advance(100);
    d.open([summary(conv, 1)]);
    d.disconnect(null);
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    expect(d.history('resent-ack')).toEqual([]);
  });

  /** A device acked once for 'hello', on its second session now, its send made again at `resentAt`. */
  const resent = () => {
    const d = resending();
    d.open([summary(conv, 0)]);
    d.apply(d.client.sendMessage(conv, 'hello', d.now));
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    d.disconnect(null);
    d.advance(100);
    d.open([summary(conv, 1)]);
    d.take();
    return d;
  };

  it('sends it again on "not now" by the outbox\'s rule, and takes the ack that comes at last', () => {
    const d = resent();
    const sends = () => d.take().filter((f) => f.t === 'send');
    d.advance(20);
    d.receive({ t: 'err', code: 'unavailable', message: 'busy', ref: 'd1-1', conv });
    // Without jitter the first unavailable waits the outbox's base (250 ms); rate_limited its retryAfterMs.
    d.advance(249);
    expect(sends()).toEqual([]);
    d.advance(1);
    expect(sends()).toEqual([{ t: 'send', conv, cmid: 'd1-1', body: 'hello' }]);
    d.receive({ t: 'err', code: 'rate_limited', message: 'slow down', ref: 'd1-1', conv, retryAfterMs: 700 });
    d.advance(699);
    expect(sends()).toEqual([]);
    d.advance(1);
    expect(sends()).toEqual([{ t: 'send', conv, cmid: 'd1-1', body: 'hello' }]);
    // Nothing recorded yet: a "not now" is no answer.
    expect(d.history('resent-err')).toEqual([]);
    expect(d.client.resendPending).toBe(true);
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    expect(d.history('resent-ack')).toEqual([expect.objectContaining({ resentAt: 100, seq: 1, ts: 5 })]);
    expect(d.client.resendPending).toBe(false);
  });

  it('records a send made again that "not now" answered until its retries gave up, with its tries', () => {
    const d = resent();
    const { sendAttemptsMax, sendPatienceMs } = d.client.config;
    while (d.history('resent-err').length === 0 && d.now < 100 + 2 * sendPatienceMs) {
      d.advance(10);
      d.client.heard(d.now);
      d.receive({ t: 'err', code: 'unavailable', message: 'busy', ref: 'd1-1', conv });
      while (d.take().filter((f) => f.t === 'send').length === 0 && d.history('resent-err').length === 0)
        d.advance(50);
    }
    const [givenUp] = d.history('resent-err');
    expect(givenUp).toMatchObject({ code: 'unavailable', resentAt: 100, first: { seq: 1, ts: 5 } });
    expect(givenUp!.tries).toBeGreaterThanOrEqual(sendAttemptsMax);
    expect(givenUp!.at - 100).toBeGreaterThanOrEqual(sendPatienceMs);
    expect(d.client.resendPending).toBe(false);
    // No silence after it either.
    d.advance(20_000);
    expect(d.history('unanswered')).toEqual([]);
  });

  it('records an err answering the send made again beside the first ack', () => {
    const d = resent();
    d.advance(20);
    d.receive({ t: 'err', code: 'bad_request', message: 'duplicate cmid', ref: 'd1-1', conv });
    expect(d.history('resent-err')).toEqual([
      expect.objectContaining({
        conv,
        cmid: 'd1-1',
        code: 'bad_request',
        resentAt: 100,
        first: { seq: 1, ts: 5 },
      }),
    ]);
    // Not the outbox's: nothing fails, and the wait ends (no silence after it).
    expect(d.history('failed')).toEqual([]);
    d.client.heard(d.now + 5000);
    d.advance(20_000);
    expect(d.history('unanswered')).toEqual([]);
  });

  it('records silence when neither ack nor err comes within the ack timeout on a connection heard from', () => {
    const d = resent();
    expect(d.pendingTimers('resend')).toEqual([100 + d.client.config.ackTimeoutMs]);
    d.advance(5000);
    d.client.heard(d.now);
    d.advance(5000);
    expect(d.history('unanswered')).toEqual([
      expect.objectContaining({ asked: 'send', askedAt: 100, conv, at: 100 + d.client.config.ackTimeoutMs }),
    ]);
    // A late ack is not taken for the answer any more.
    d.receive({ t: 'ack', conv, cmid: 'd1-1', seq: 1, ts: 5 });
    expect(d.history('resent-ack')).toEqual([]);
  });

  it('records no silence on a connection silent since the send (dead), nor after the session was lost', () => {
    const dead = resent();
    dead.advance(10_000);
    expect(dead.history('unanswered')).toEqual([]);

    const cut = resent();
    cut.advance(2000);
    cut.disconnect(null);
    cut.client.heard(cut.now);
    cut.advance(8000);
    expect(cut.history('unanswered')).toEqual([]);
    expect(cut.history('resent-err')).toEqual([]);
  });
});
