import { describe, expect, it } from 'vitest';
import type { DeviceRef, HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history } from './history-fixture.ts';
import { createPresenceChangesChecker } from './presence-changes.ts';

const ann = device('ann');
const bob = device('bob');
const judge = (events: HistoryEvent[]) =>
  checkHistory([createPresenceChangesChecker()], events, finalStateFixture())[0]!;

const session = (at: number, by: DeviceRef): HistoryEvent => ({
  k: 'session',
  at,
  connectMs: 1,
  first: true,
  ...by,
});
const seen = (at: number, online: boolean, lastSeen: number): HistoryEvent => ({
  k: 'presence-seen',
  at,
  of: 'bob',
  online,
  lastSeen,
  node: 'n1',
  ...ann,
});
/** ann watches bob; bob's session began at 2000; the server clock runs 10 ms ahead (from an ack). */
const start: HistoryEvent[] = [
  session(1000, ann),
  session(2000, bob),
  history.ack(2100, bob, { conv: 'd', seq: 1, from: 'bob', cmid: 'c1', body: 'x', ts: 2110 }, 2090),
  history.watchSent(2200, ann, ['bob']),
  seen(2210, true, 0),
];

describe('presence-changes', () => {
  it('passes frames that change, with lastSeen moving forward and after the session it ends', () => {
    const result = judge([
      ...start,
      seen(5000, false, 4990),
      seen(6000, true, 4990),
      seen(7000, false, 6990),
    ]);
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/^3 presence frames judged/);
  });

  it('fails a frame that repeats the state within one session, but not the answer to a new watch', () => {
    expect(judge([...start, seen(5000, true, 0)]).details).toMatch(/1 no change/);
    const rewatch: HistoryEvent[] = [
      session(4000, ann),
      history.watchSent(4000, ann, ['bob']),
      seen(4010, true, 0),
    ];
    expect(judge([...start, ...rewatch]).verdict).toBe('pass');
  });

  it('fails a lastSeen that goes back, or falls before the session the user was last seen in', () => {
    expect(judge([...start, seen(5000, false, 4990), seen(6000, true, 3000)]).details).toMatch(
      /lastSeen went back/,
    );
    expect(judge([...start, seen(5000, false, 0)]).details).toMatch(/1 lastSeen before the last session/);
  });

  it('does not judge lastSeen across a clock fault or a crash of the node the frame came from', () => {
    const clock: HistoryEvent = { k: 'fault', at: 3000, type: 'clock-offset', phase: 'start', nodes: ['n1'] };
    expect(judge([...start, clock, seen(5000, false, 0)]).verdict).toBe('pass');
    const crash: HistoryEvent[] = [
      { k: 'fault', at: 5500, type: 'node-crash', phase: 'start', nodes: ['n1'] },
      { k: 'fault', at: 5600, type: 'node-crash', phase: 'heal', nodes: ['n1'] },
    ];
    expect(judge([...start, seen(5000, false, 4990), ...crash, seen(6000, true, 0)]).verdict).toBe('pass');
  });

  it('cannot pass when nobody watched or no watched user came or went, and fails when a change got no frame', () => {
    expect(judge([]).verdict).toBe('unknown');
    // ann watches bob, who stays online: the first answer is all there is to see.
    expect(judge(start).verdict).toBe('unknown');
    // bob's only device goes: ann must be told.
    const gone: HistoryEvent = { k: 'session-lost', at: 3000, reason: 'client', ...bob };
    const silent = judge([...start, gone]);
    expect(silent.verdict).toBe('fail');
    expect(silent.details).toMatch(/nothing judged: 1 changes of a watched user/);
    expect(judge([...start, gone, seen(3010, false, 3000)]).verdict).toBe('pass');
  });
});
