import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history } from './history-fixture.ts';
import { createRateLimitChecker } from './rate-limit.ts';

// burst 10 at 10/s: the whole burst refills in 1 s.
const judge = (events: HistoryEvent[]) =>
  checkHistory(
    [createRateLimitChecker({ sendLimits: { burst: 10, perSec: 10 }, answerWithinMs: 100 })],
    events,
    finalStateFixture(),
  )[0]!;

const ann = device('ann');
const press = (at: number, count: number): HistoryEvent => ({ k: 'press', at, conv: 'd0-1', count, ...ann });
const ack = (at: number, n: number, sentAt = 1000): HistoryEvent => ({
  k: 'ack',
  at,
  conv: 'd0-1',
  cmid: `c${n}`,
  seq: n,
  ts: at,
  sentAt,
  ...ann,
});
const refused = (at: number, n: number, retryAfterMs?: number): HistoryEvent => ({
  k: 'rate-limited',
  at,
  ref: `c${n}`,
  cmid: `c${n}`,
  conv: 'd0-1',
  ...(retryAfterMs === undefined ? {} : { retryAfterMs }),
  ...ann,
});
/** A correct server: 10 at once, then one every 100 ms, each refused once before. */
function served(extra: (n: number) => number = () => 100): HistoryEvent[] {
  const events: HistoryEvent[] = [press(1000, 15)];
  for (let n = 1; n <= 10; n++) events.push(ack(1010, n));
  for (let n = 11; n <= 15; n++) {
    events.push(refused(1000 + (n - 10) * 100, n, extra(n)));
    events.push(ack(1010 + (n - 10) * 100, n));
  }
  return events;
}

describe('rate-limit', () => {
  it('passes a press refused past the burst and served at the rate', () => {
    const result = judge(served());
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/1 of 1 presses judged.*5 refusals judged/);
  });

  it('judges a press with no slack when the link latency floor is known (simulator), one send over live', () => {
    // 11 acks 10 ms after the press, over 5 ms links each way: the node served them all at one instant.
    const events: HistoryEvent[] = [press(1000, 15)];
    for (let n = 1; n <= 11; n++) events.push(ack(1010, n));
    const tight = (relayDelayMs?: { min: number; max: number }) =>
      checkHistory(
        [
          createRateLimitChecker({
            sendLimits: { burst: 10, perSec: 10 },
            answerWithinMs: 100,
            ...(relayDelayMs ? { relayDelayMs } : {}),
          }),
        ],
        events,
        finalStateFixture(),
      )[0]!;
    expect(tight({ min: 5, max: 20 }).details).toMatch(/1 served over the limit/);
    expect(tight().verdict).toBe('pass');
    // A burst's worth at one instant, then one a refill later (a round trip of 10 ms added): within.
    const exact: HistoryEvent[] = [press(1000, 15)];
    for (let n = 1; n <= 10; n++) exact.push(ack(1010, n));
    exact.push(ack(1110, 11));
    expect(
      checkHistory(
        [
          createRateLimitChecker({
            sendLimits: { burst: 10, perSec: 10 },
            answerWithinMs: 100,
            relayDelayMs: { min: 5, max: 20 },
          }),
        ],
        exact,
        finalStateFixture(),
      )[0]!.verdict,
    ).toBe('pass');
  });

  it('fails a server that serves a press past its burst', () => {
    const events: HistoryEvent[] = [press(1000, 15)];
    for (let n = 1; n <= 15; n++) events.push(ack(1010, n));
    expect(judge(events).details).toMatch(/1 served over the limit/);
  });

  it('fails a refusal without retryAfterMs, or one longer than one token takes to refill', () => {
    expect(judge(served((n) => (n === 12 ? Number.NaN : 100))).details).toMatch(/1 retryAfterMs missing/);
    const events = served();
    events.push(refused(1700, 16));
    expect(judge(events).details).toMatch(/1 retryAfterMs missing/);
    expect(judge(served((n) => (n === 12 ? 101 : 100))).verdict).toBe('fail');
  });

  it('fails a refusal when the user was served far less than the burst around it, in a quiet window', () => {
    const events = [ack(5000, 1, 5000), refused(5050, 2, 100)];
    expect(judge(events).details).toMatch(/1 refused within the limit/);
  });

  it('does not judge a refusal while a fault is on, or after one of the user’s sessions was lost', () => {
    const fault: HistoryEvent[] = [
      { k: 'fault', at: 4900, type: 'partition', phase: 'start' },
      refused(5050, 2, 100),
      { k: 'fault', at: 5100, type: 'partition', phase: 'heal' },
    ];
    expect(judge([...served(), ...fault]).verdict).toBe('pass');
    const lost: HistoryEvent[] = [
      { k: 'session-lost', at: 5040, reason: 'reset', ...ann },
      refused(5050, 2, 100),
    ];
    expect(judge([...served(), ...lost]).verdict).toBe('pass');
  });

  it('fails a send given up after repeated rate_limited', () => {
    const events = served();
    events.push(history.failed(3000, ann, 'd0-1', 'c16', 'rate_limited'));
    expect(judge(events).details).toMatch(/1 never served again/);
  });

  it('does not call a give-up a violation when the server served the user a burst around it (its own sends took the tokens)', () => {
    // Ann's other device keeps sending at the limit (10/s) and is served; this device's send loses
    // every race for a token and gives up: a per-user bucket allows it. The same give-up with the
    // other device served a quarter as often is a violation (a token was left).
    const other = { user: 'ann', device: 'ann/d2' };
    const busy = (everyMs: number): HistoryEvent[] => {
      const events: HistoryEvent[] = [];
      for (let at = 2000, n = 100; at <= 4000; at += everyMs, n++)
        events.push({ ...ack(at, n, at - 10), ...other });
      return events;
    };
    const failed = history.failed(3000, ann, 'd0-1', 'c16', 'rate_limited');
    const excused = judge([...served(), ...busy(100), failed]);
    expect(excused.verdict).toBe('pass');
    expect(excused.details).toMatch(
      /1 sends given up after repeated rate_limited while the server acked a burst/,
    );
    expect(judge([...served(), ...busy(400), failed]).details).toMatch(/1 never served again/);
  });

  it('does not judge a send given up within a minute of a clock set back (the bucket stops refilling)', () => {
    const failed = history.failed(3000, ann, 'd0-1', 'c16', 'rate_limited');
    const clock: HistoryEvent[] = [
      { k: 'fault', at: 1000, type: 'clock-offset', phase: 'start', nodes: ['n1'] },
      { k: 'fault', at: 1500, type: 'clock-offset', phase: 'heal', nodes: ['n1'] },
    ];
    expect(judge([...served(), ...clock, failed]).details).not.toMatch(/never served again/);
    const late: HistoryEvent = { ...failed, at: 70_000 };
    expect(judge([...served(), ...clock, late]).details).toMatch(/1 never served again/);
  });

  it('cannot pass when nothing was pressed, and fails when a press got no answer', () => {
    expect(judge([]).verdict).toBe('unknown');
    expect(judge([press(1000, 15)]).verdict).toBe('fail');
  });

  it('cannot judge, nor pass, a press that a lost session or a clock fault cut off before any answer', () => {
    const fault = (type: string, at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type,
      phase,
    });
    const lost: HistoryEvent = { k: 'session-lost', at: 1005, reason: 'reset', ...ann };
    const cut = judge([press(1000, 15), lost]);
    expect(cut.verdict).toBe('unknown');
    expect(cut.details).toMatch(/1 presses cut off by a fault or a lost session/);
    const clock = [
      press(1000, 15),
      fault('clock-offset', 1005, 'start'),
      fault('clock-offset', 3000, 'heal'),
    ];
    expect(judge(clock).verdict).toBe('unknown');
    // Silence outside any fault is the server's doing: still a failure.
    const idle: HistoryEvent = { k: 'session-lost', at: 5000, reason: 'idle', ...ann };
    expect(judge([press(1000, 15), idle]).verdict).toBe('fail');
  });

  it('keeps judging a press through a fault that leaves its connection up (no resend, no double ack)', () => {
    const crash = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type: 'node-pause',
      phase,
    });
    const events: HistoryEvent[] = [press(1000, 15), crash(1005, 'start')];
    for (let n = 1; n <= 15; n++) events.push(ack(1010, n));
    events.push(crash(3000, 'heal'));
    expect(judge(events).details).toMatch(/1 served over the limit/);
  });
});
