import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { type LateClose, SlowConsumerCloses } from './slow-consumer-closes.ts';

const device = { user: 'u1', device: 'u1-d0' };
const buffer = (at: number, state: 'over' | 'under' | 'closed' | 'ended', code?: number): HistoryEvent => ({
  k: 'send-buffer',
  at,
  state,
  bytes: 9000,
  ...(code === undefined ? {} : { code }),
  ...device,
});
const fault = (at: number, type: string, phase: 'start' | 'heal'): HistoryEvent => ({
  k: 'fault',
  at,
  type,
  phase,
});

function judge(events: HistoryEvent[], endAt: number, closeWithinMs = 5000) {
  const late: LateClose[] = [];
  const closes = new SlowConsumerCloses(closeWithinMs, (l) => late.push(l));
  for (const event of events) closes.observe(event);
  closes.finish(endAt);
  return { closes, late };
}

describe('SlowConsumerCloses', () => {
  it('a 4509 in time settles the episode; drained back first still owes it', () => {
    const { closes, late } = judge(
      [buffer(1000, 'over'), buffer(1010, 'under'), buffer(2000, 'closed', 4509)],
      9000,
    );
    expect([closes.episodes, closes.drained, closes.closed, closes.judged]).toEqual([1, 1, 1, 1]);
    expect(late).toEqual([]);
  });

  it('never closed, or closed 4509 past the deadline, is convicted', () => {
    expect(judge([buffer(1000, 'over')], 9000).late).toHaveLength(1);
    const { late } = judge([buffer(1000, 'over'), buffer(7000, 'closed', 4509)], 9000);
    expect(late).toEqual([expect.objectContaining({ end: expect.objectContaining({ at: 7000 }) })]);
  });

  it('ended otherwise owes nothing; still open before its deadline at the end is unresolved', () => {
    const ended = judge([buffer(1000, 'over'), buffer(1500, 'ended')], 9000);
    expect([ended.closes.endedOtherwise, ended.late.length]).toEqual([1, 0]);
    const open = judge([buffer(8000, 'over')], 9000);
    expect([open.closes.unresolved, open.late.length]).toEqual([1, 0]);
  });

  it('a fault that may hold up the node excuses; one that only slows client links does not', () => {
    const held = judge(
      [fault(500, 'node-pause', 'start'), buffer(1000, 'over'), fault(3000, 'node-pause', 'heal')],
      9000,
    );
    expect([held.closes.excused, held.late.length]).toEqual([1, 0]);
    const slowed = judge([fault(500, 'slow-consumer', 'start'), buffer(1000, 'over')], 9000);
    expect(slowed.closes.faulted).toBe(true);
    expect(slowed.late).toHaveLength(1);
  });

  it('a 4509 under the bound is convicted only with convictEarly; a pass of it clears at the session end', () => {
    const lost = (at: number, reason: string): HistoryEvent => ({ k: 'session-lost', at, reason, ...device });
    const early: HistoryEvent[] = [];
    const closes = new SlowConsumerCloses(
      5000,
      () => {},
      (e) => early.push(e),
    );
    for (const event of [
      buffer(100, 'over'),
      buffer(100, 'closed', 4509),
      lost(150, '4509'),
      lost(400, 'reset'),
      lost(900, '4509'),
    ])
      closes.observe(event);
    expect(early).toEqual([expect.objectContaining({ at: 900 })]);
    expect(closes.early).toBe(1);
    const unjudged = new SlowConsumerCloses(5000, () => {});
    unjudged.observe(lost(900, '4509'));
    expect(unjudged.early).toBe(0);
  });
});
