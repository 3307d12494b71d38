import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { createAuthorizationChecker } from './authorization.ts';
import { checkHistory } from './check-history.ts';
import { type FinalStateData, finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const ann = device('ann');
const bob = device('bob');
const cat = device('cat');
const eve = device('eve');

/** ann throughout; bob removed after seq 3 at t=100; cat added after seq 4 (reported late, at t=210). */
const final: FinalStateData = {
  membership: {
    g: { ann: [{ from: 1, to: null }], bob: [{ from: 1, to: 3 }], cat: [{ from: 5, to: null }] },
  },
};
const setup: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.durable(10, message('g', 2, 'bob')),
  history.members(100, 'g', { remove: ['bob'], atSeq: 3 }),
];

const judge = (events: HistoryEvent[]) =>
  checkHistory([createAuthorizationChecker()], [...setup, ...events], finalStateFixture(final))[0]!;
const lastOf = (result: { witness: unknown[] }) => (result.witness as WitnessCase[])[0]!.path.at(-1);

describe('authorization', () => {
  it('passes frames to members, to the removed within the grace window, and refused attempts', () => {
    const result = judge([
      history.convFrame(110, ann, 'g', 'msg', [4]),
      history.convFrame(120, ann, 'g', 'batch', [1, 2, 3, 4]),
      history.convFrame(130, ann, 'g', 'receipt', [4]),
      // A paused node tells bob, long after his removal, of a cursor at a seq he could read: no leak.
      history.convFrame(5000, bob, 'g', 'receipt', [3]),
      history.convFrame(600, bob, 'g', 'typing'),
      history.convFrame(700, bob, 'g', 'batch', [1, 2, 3]),
      history.attempt(900, eve, 1, 'foreign-send', 'g'),
      history.outcome(901, 1, 'forbidden'),
      history.attempt(910, eve, 2, 'forged-token', ''),
      history.outcome(911, 2, 'closed:4401'),
    ]);
    expect(result).toMatchObject({ property: 'authorization', verdict: 'pass', witness: [] });
    expect(result.details).toMatch(/1 forbidden, 1 closed:4401/);
  });

  it('forgives frames that reached a member whose join the stream reported late', () => {
    const result = judge([
      history.convFrame(200, cat, 'g', 'msg', [5]),
      history.convFrame(205, cat, 'g', 'typing'),
      history.members(210, 'g', { add: ['cat'], atSeq: 4 }),
    ]);
    expect(result.verdict).toBe('pass');
  });

  it('fails a receipt about a seq the removed member could not read', () => {
    const leak = history.convFrame(5000, bob, 'g', 'receipt', [4]);
    const result = judge([leak]);
    expect(result.verdict).toBe('fail');
    expect(lastOf(result)).toBe(leak);
  });

  it('fails a message pushed to a removed member past its span, naming the frame', () => {
    const leak = history.convFrame(110, bob, 'g', 'msg', [4]);
    const result = judge([leak]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 unreadable seqs/);
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([
      { k: 'membership', conv: 'g', user: 'bob', spans: [{ from: 1, to: 3 }] },
      leak,
    ]);
  });

  it('fails a batch holding seqs from before a join', () => {
    const early = history.convFrame(300, cat, 'g', 'batch', [3, 4, 5]);
    const result = judge([history.members(210, 'g', { add: ['cat'], atSeq: 4 }), early]);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.problem).toMatch(/seqs 3, 4 in a batch/);
  });

  it('fails typing relayed to a removed member after the grace window', () => {
    const late = history.convFrame(1101, bob, 'g', 'typing');
    const result = judge([late]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 frame to a non-member/);
    expect(lastOf(result)).toBe(late);
  });

  it('fails a message whose sender was not a member when it was sequenced', () => {
    const foreign = history.durable(120, message('g', 4, 'bob'));
    const result = judge([foreign]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 message from a non-member/);
    expect(lastOf(result)).toBe(foreign);
  });

  it('fails an attempt the server accepted, naming the attempt and its outcome', () => {
    const attempt = history.attempt(900, eve, 7, 'foreign-sync', 'g');
    const outcome = history.outcome(905, 7, 'accepted');
    const result = judge([attempt, outcome]);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([attempt, outcome]);
  });

  it('cannot tell about an attempt left unanswered from before the settle phase', () => {
    const result = judge([history.attempt(900, eve, 1, 'foreign-send', 'g'), history.phase(1000, 'settle')]);
    expect(result.verdict).toBe('unknown');
    expect(result.details).toMatch(/1 unanswered \(1 from before the settle phase/);
    const inFlight = judge([
      history.phase(1000, 'settle'),
      history.attempt(1900, eve, 1, 'foreign-send', 'g'),
    ]);
    expect(inFlight.verdict).toBe('pass');
  });
});
