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
const failed = (at: number, user: string, code: string, conv = 'g1'): HistoryEvent => ({
  k: 'failed',
  at,
  conv,
  cmid: `${user}-${at}`,
  code,
  sentAt: at,
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
    expect(sends.source()).toEqual({ count: 2, rate: 1 });
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
      failed(3, 'a', 'forbidden', 'g2'),
      failed(4, 'a', 'unavailable'),
      { k: 'members-sent', at: 5, id: 2, conv: 'g1', add: ['a'], remove: [] },
      failed(6, 'a', 'forbidden'),
    ]);
    expect(sends.source()).toMatchObject({ count: 3 });
    expect(sends.refusedAfterRemoval).toBe(0);
  });

  it('counts a refusal after a removal the server refused (nothing changed)', () => {
    const sends = run([
      send(1, 'a'),
      { k: 'members-sent', at: 2, id: 1, conv: 'g1', add: [], remove: ['a'] },
      { k: 'members-answered', at: 3, id: 1, status: 404 },
      failed(4, 'a', 'forbidden'),
    ]);
    expect(sends.source()).toEqual({ count: 1, rate: 1 });
  });

  it('measures nothing when nothing was sent', () => {
    expect(run([]).source()).toEqual({});
  });
});
