import { describe, expect, it } from 'vitest';
import { checkHistory } from '../checkers/check-history.ts';
import { finalStateFixture } from '../checkers/final-state-fixture.ts';
import { device } from '../checkers/history-fixture.ts';
import { createRateLimitChecker } from '../checkers/rate-limit.ts';
import type { HistoryEvent } from '../history.ts';
import { PressWatch } from './press-watch.ts';

// burst 10 at 10/s, as rate-limit.test.ts.
const ann = device('ann');
const press = (at: number): HistoryEvent => ({ k: 'press', at, conv: 'd0-1', count: 15, ...ann });
const ack = (at: number, n: number, sentAt: number): HistoryEvent => ({
  k: 'ack',
  at,
  conv: 'd0-1',
  cmid: `c${n}`,
  seq: n,
  ts: at,
  sentAt,
  ...ann,
});
const lost = (at: number, reason = 'reset'): HistoryEvent => ({ k: 'session-lost', at, reason, ...ann });
const session = (at: number): HistoryEvent => ({ k: 'session', at, connectMs: 5, first: false, ...ann });
const acks = (at: number, from: number, to: number, sentAt: number): HistoryEvent[] =>
  Array.from({ length: to - from + 1 }, (_, i) => ack(at, from + i, sentAt));

/** Runs `events` through a watch; where it asks, the presser presses again at the next event's time. */
function watched(
  events: HistoryEvent[],
  againMax = 3,
  stalledAt = Number.NEGATIVE_INFINITY,
): { asked: number; history: HistoryEvent[] } {
  const history: HistoryEvent[] = [];
  let asked = 0;
  const watch = new PressWatch(
    10,
    againMax,
    () => asked++,
    (at) => stalledAt >= at,
  );
  for (const event of events) {
    history.push(event);
    watch.observe(event);
  }
  return { asked, history };
}

const rateLimit = (events: HistoryEvent[]) =>
  checkHistory(
    [createRateLimitChecker({ sendLimits: { burst: 10, perSec: 10 }, answerWithinMs: 100 })],
    events,
    finalStateFixture(),
  )[0]!;

describe('PressWatch: a press cut off is pressed again (live)', () => {
  it('asks again when the session was lost before a burst was acked, once the next session opens', () => {
    const cut = [press(1000), ...acks(1010, 1, 4, 1000), lost(1100), session(1500)];
    expect(watched(cut).asked).toBe(1);
    // Not before the session opens, and not once a burst was acked.
    expect(watched(cut.slice(0, 3)).asked).toBe(0);
    expect(watched([press(1000), ...acks(1010, 1, 10, 1000), lost(1100), session(1500)]).asked).toBe(0);
    // Acks of sends issued before the press do not count toward it.
    expect(watched([press(1000), ...acks(1010, 1, 10, 900), lost(1100), session(1500)]).asked).toBe(1);
  });

  it('never asks again after a silent server (idle) unless this generator stalled, and at most againMax times', () => {
    expect(watched([press(1000), lost(3000, 'idle'), session(3500)]).asked).toBe(0);
    // A stall before the press says nothing of the silence after it.
    expect(watched([press(1000), lost(3000, 'idle'), session(3500)], 3, 900).asked).toBe(0);
    // The generator's own loop stalled after the press: the silence may be its own.
    expect(watched([press(1000), lost(3000, 'idle'), session(3500)], 3, 2500).asked).toBe(1);
    const again = (at: number): HistoryEvent[] => [press(at), lost(at + 100), session(at + 200)];
    expect(watched([...again(1000), ...again(2000), ...again(3000), ...again(4000)], 2).asked).toBe(2);
    // The old press's backlog, resent after the reconnect, does not make the next press judgeable.
    expect(
      watched([press(1000), lost(1100), session(1200), ...acks(1300, 1, 10, 1000), lost(1400), session(1500)])
        .asked,
    ).toBe(2);
  });

  it('turns a run the rate-limit checker could not judge into one it judges, by its own rules', () => {
    const cutOff = [press(1000), ...acks(1010, 1, 4, 1000), lost(1100), session(1500)];
    expect(rateLimit(cutOff).verdict).toBe('unknown');
    // The press again: judged as any press, the one cut off still counted.
    const again = [...cutOff, press(1600), ...acks(1610, 5, 14, 1600)];
    const passed = rateLimit(again);
    expect(passed.verdict).toBe('pass');
    expect(passed.details).toMatch(/1 of 2 presses judged.*1 presses cut off/);
    // And a server serving the second press past its burst still fails.
    expect(rateLimit([...cutOff, press(1600), ...acks(1610, 5, 24, 1600)]).verdict).toBe('fail');
  });
});
