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
