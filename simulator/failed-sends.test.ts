import { describe, expect, it } from 'vitest';
import { FailedSends } from './failed-sends.ts';
import type { HistoryEvent } from './history.ts';

const send = (at: number, user: string, conv = 'g1'): HistoryEvent => ({
  k: 'send',
  at,
  conv,
  cmid: `${user}-${at}`,
  body: 'x',
  user,
  device: `${user}-d0`,
});
const failed = (at: number, user: string, code: string, conv = 'g1', sentAt = at): HistoryEvent => ({
  k: 'failed',
  at,
  conv,
  cmid: `${user}-${at}`,
  code,
  sentAt,
  user,
  device: `${user}-d0`,
});

function run(events: HistoryEvent[]): FailedSends {
  const sends = new FailedSends();
  for (const event of events) sends.observe(event);
  return sends;
}

describe('failed sends (the failedSends SLO metric)', () => {
  it('counts every failure when the harness removed no one', () => {
    const sends = run([
      send(1, 'a'),
      send(2, 'b'),
      failed(3, 'a', 'forbidden'),
      failed(4, 'b', 'unavailable'),
    ]);
    expect(sends.source()).toMatchObject({ count: 2, rate: 1 });
  });

  it('leaves out a refusal of a sender the harness removed from that conversation', () => {
    const sends = run([
      send(1, 'a'),
      send(2, 'a'),
      { k: 'members-sent', at: 3, id: 1, conv: 'g1', add: [], remove: ['a'] },
      { k: 'members-answered', at: 4, id: 1, status: 200, lastSeq: 5 },
      failed(5, 'a', 'forbidden'),
      failed(6, 'a', 'not_member'),
    ]);
    expect(sends.source()).toEqual({ count: 0, rate: 0 });
    expect(sends.refusedAfterRemoval).toBe(2);
  });

  it('counts it again once the harness re-added the sender, in another conversation, or for another code', () => {
    const sends = run([
      send(1, 'a'),
      { k: 'members-sent', at: 2, id: 1, conv: 'g1', add: [], remove: ['a'] },
      { k: 'members-answered', at: 2, id: 1, status: 200, lastSeq: 1 },
      failed(3, 'a', 'forbidden', 'g2'),
      failed(4, 'a', 'unavailable'),
      { k: 'members-sent', at: 5, id: 2, conv: 'g1', add: ['a'], remove: [] },
      { k: 'members-answered', at: 6, id: 2, status: 200, lastSeq: 7 },
      failed(8, 'a', 'forbidden', 'g1', 7),
    ]);
    expect(sends.source()).toMatchObject({ count: 3 });
    expect(sends.refusedAfterRemoval).toBe(0);
  });

  it('leaves out a refusal while a re-add was still unanswered when the send went out', () => {
    // Removed (answered), the removed user's send goes out at once, and the admin re-adds it before the
    // refusal comes back: the server may refuse, since the add may not have been applied yet.
    const raced = [
      send(1, 'a'),
      { k: 'members-sent', at: 2, id: 1, conv: 'g1', add: [], remove: ['a'] },
      { k: 'members-answered', at: 3, id: 1, status: 200, lastSeq: 5 },
      { k: 'members-sent', at: 5, id: 2, conv: 'g1', add: ['a'], remove: [] },
    ] satisfies HistoryEvent[];
    const racing = run([...raced, failed(9, 'a', 'forbidden', 'g1', 4)]);
    expect(racing.source()).toMatchObject({ count: 0 });
    expect(racing.refusedAfterRemoval).toBe(1);
    // Sent after the re-add was answered: the sender was surely a member, the refusal counts.
    const late = run([
      ...raced,
      { k: 'members-answered', at: 6, id: 2, status: 200, lastSeq: 6 },
      failed(9, 'a', 'forbidden', 'g1', 7),
    ]);
    expect(late.source()).toMatchObject({ count: 1 });
  });

  it('counts a refusal after a removal the server refused (nothing changed)', () => {
    const sends = run([
      send(1, 'a'),
      { k: 'members-sent', at: 2, id: 1, conv: 'g1', add: [], remove: ['a'] },
      { k: 'members-answered', at: 3, id: 1, status: 404 },
      failed(4, 'a', 'forbidden'),
    ]);
    expect(sends.source()).toMatchObject({ count: 1, rate: 1 });
  });

  it('names what failed, by code and the first few one by one, for a breached threshold to show', () => {
    const events: HistoryEvent[] = [];
    for (let i = 0; i < 7; i++) events.push(send(i, `u${i}`));
    for (let i = 0; i < 6; i++)
      events.push(failed(10 + i, `u${i}`, i === 2 ? 'rate_limited' : 'unavailable'));
    events.push(failed(30_000, 'u6', 'timeout', 'g1', 12));
    const source = run(events).source();
    expect(source.detail).toBe(
      'by code: unavailable 5, rate_limited 1, timeout 1; first: u0-d0 in g1 (cmid u0-10) unavailable after 0 ms, at 10 ms; ' +
        'u1-d0 in g1 (cmid u1-11) unavailable after 0 ms, at 11 ms; u2-d0 in g1 (cmid u2-12) rate_limited after 0 ms, at 12 ms; ' +
        'u3-d0 in g1 (cmid u3-13) unavailable after 0 ms, at 13 ms; u4-d0 in g1 (cmid u4-14) unavailable after 0 ms, at 14 ms, and 2 more',
    );
    // Nothing failed: nothing to name.
    expect(run([send(1, 'a')]).source()).toEqual({ count: 0, rate: 0 });
  });

  it('measures nothing when nothing was sent', () => {
    expect(run([]).source()).toEqual({});
  });
});
