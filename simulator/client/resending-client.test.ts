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
});
