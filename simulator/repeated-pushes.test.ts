import { describe, expect, it } from 'vitest';
import { device, history, message } from './checkers/history-fixture.ts';
import type { HistoryEvent } from './history.ts';
import { RepeatedPushes } from './repeated-pushes.ts';

const ann = device('ann');
const bob = device('bob');

function measure(events: HistoryEvent[]) {
  const meter = new RepeatedPushes();
  for (const event of events) meter.observe(event);
  return meter.source();
}

describe('repeatedPushes (threshold metric)', () => {
  it('counts a push of a seq the device already displayed, by push, sync or as its sender', () => {
    const m1 = message('g', 1, 'bob');
    const m2 = message('g', 2, 'ann');
    expect(
      measure([
        history.convFrame(1, ann, 'g', 'msg', [1]),
        history.display(1, ann, m1),
        history.convFrame(2, ann, 'g', 'msg', [1]),
        history.display(3, ann, m2, 'own'),
        history.convFrame(4, ann, 'g', 'msg', [2]),
        history.display(5, bob, m2, 'sync'),
        history.convFrame(6, bob, 'g', 'msg', [2]),
      ]),
    ).toEqual({ count: 3, rate: 3 / 4 });
  });

  it('does not count a first push, one out of order, nor a seq another device displayed', () => {
    const m1 = message('g', 1, 'bob');
    expect(
      measure([
        history.convFrame(1, ann, 'g', 'msg', [2]),
        history.convFrame(2, ann, 'g', 'msg', [1]),
        history.display(2, ann, m1),
        history.display(2, ann, message('g', 2, 'bob')),
        history.convFrame(3, bob, 'g', 'msg', [1, 2]),
        history.convFrame(3, ann, 'h', 'msg', [1]),
      ]),
    ).toEqual({ count: 0, rate: 0 });
  });

  it('measures nothing when nothing was pushed', () => {
    expect(measure([history.display(1, ann, message('g', 1, 'ann'), 'own')])).toEqual({});
  });
});
