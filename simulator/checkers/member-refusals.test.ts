// Member refusals, judged by the authorization checker (member-refusals.ts feeds it): a "you may not"
// answer to a user surely a member from when it sent the frame fails; other refusals do not.

import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { createAuthorizationChecker } from './authorization.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const ann = device('ann');
const bob = device('bob');
const cat = device('cat');

/** ann and bob from the start, ann's seq 3 acked; bob removed (sent t=100, answered t=105, "after seq 3"). */
const setup: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.ack(90, ann, message('g', 3, 'ann'), 80),
  history.membersSent(100, 1, 'g', { remove: ['bob'] }),
  history.membersAnswered(105, 1, 200, 3),
];
/** cat added: sent at t=200, answered at t=210 saying "after 4". */
const addCat = [history.membersSent(200, 2, 'g', { add: ['cat'] }), history.membersAnswered(210, 2, 200, 4)];

const judge = (events: HistoryEvent[]) =>
  checkHistory([createAuthorizationChecker()], [...setup, ...events], finalStateFixture())[0]!;

describe('a member is not refused', () => {
  const problems = (result: { witness: unknown[] }) =>
    (result.witness as WitnessCase[]).map((w) => w.problem).join('\n');

  it('fails a refusal of a member from the creation, whatever the frame', () => {
    for (const refusal of [
      history.refused(300, ann, 'g', 'sync', 'forbidden'),
      history.refused(300, ann, 'g', 'typing', 'not_found'),
      history.cursorRefused(300, ann, 'g', 'read', 'forbidden'),
      history.failed(300, ann, 'g', 'a9', 'forbidden'),
      history.resentErr(300, ann, message('g', 3, 'ann'), 'forbidden', undefined, 290),
    ]) {
      const result = judge([refusal]);
      expect(result.verdict).toBe('fail');
      expect(problems(result)).toMatch(
        /ann\/d1 was refused its (sync|typing|read|send|send made again) on g with/,
      );
    }
  });

  it('passes refusals that are not "you may not", and refusals of a removed member', () => {
    const result = judge([
      history.refused(300, ann, 'g', 'sync', 'unavailable'),
      history.cursorRefused(300, ann, 'g', 'read', 'unavailable'),
      history.failed(300, ann, 'g', 'a9', 'rate_limited'),
      history.session(150, bob),
      history.typingSent(160, bob, 'g'),
      history.refused(170, bob, 'g', 'typing', 'forbidden'),
      // bob's send made again at 102, while his removal (sent 100, answered 105) was under way.
      history.resentErr(106, bob, message('g', 2, 'bob'), 'forbidden', undefined, 102),
      history.resentErr(300, ann, message('g', 3, 'ann'), 'unavailable', undefined, 290),
    ]);
    expect(result.verdict).toBe('pass');
  });

  it('dates a sync pipelined before the welcome by when it was sent, in the session that welcome opens', () => {
    // cat's sync sent at 220, after its add was answered (210), right after the hello: its welcome at 225.
    const pipelined: HistoryEvent = {
      k: 'sync-sent',
      at: 220,
      conv: 'g',
      after: 0,
      beforeWelcome: true,
      ...cat,
    };
    const result = judge([
      ...addCat,
      pipelined,
      history.session(225, cat),
      history.refused(230, cat, 'g', 'sync', 'forbidden'),
    ]);
    expect(result.verdict).toBe('fail');
    expect(problems(result)).toMatch(/cat\/d1 was refused its sync on g/);
  });

  it('dates a frame by when it was sent: refused after the add was answered is a violation', () => {
    const cat1 = [history.session(150, cat), ...addCat];
    // cat's typing sent at 205, before the add was answered (210): a refusal may be right.
    expect(
      judge([
        ...cat1,
        history.typingSent(205, cat, 'g'),
        history.refused(215, cat, 'g', 'typing', 'forbidden'),
      ]).verdict,
    ).toBe('pass');
    // The first typing of the session on g sent at 220, after the answer: it must be served.
    const late = judge([
      ...cat1,
      history.typingSent(220, cat, 'g'),
      history.refused(230, cat, 'g', 'typing', 'forbidden'),
    ]);
    expect(late.verdict).toBe('fail');
    expect(problems(late)).toMatch(
      /cat\/d1 was refused its typing on g with forbidden at 230, though surely a member from 220/,
    );
    // A send is dated by its own cmid, a cursor by the session's first cursor of that kind.
    const sends = [
      history.send(205, cat, message('g', 9, 'cat', { cmid: 'early' })),
      history.send(220, cat, message('g', 9, 'cat', { cmid: 'late' })),
    ];
    expect(judge([...cat1, ...sends, history.failed(230, cat, 'g', 'early', 'forbidden', 205)]).verdict).toBe(
      'pass',
    );
    expect(judge([...cat1, ...sends, history.failed(230, cat, 'g', 'late', 'forbidden', 220)]).verdict).toBe(
      'fail',
    );
    expect(
      judge([
        ...cat1,
        history.cursorSent(206, cat, 'g', 'read', 5),
        history.cursorSent(220, cat, 'g', 'read', 6),
        history.cursorRefused(230, cat, 'g', 'read', 'forbidden'),
      ]).verdict,
    ).toBe('pass');
  });

  it('starts over with each session, and leaves an undated refusal unjudged', () => {
    const events = [
      history.session(150, cat),
      ...addCat,
      history.syncSent(205, cat, 'g', 0),
      history.session(300, cat),
      history.syncSent(310, cat, 'g', 4),
      history.refused(320, cat, 'g', 'sync', 'forbidden'),
    ];
    expect(judge(events).verdict).toBe('fail');
    const undated = judge([
      history.session(150, cat),
      ...addCat,
      history.refused(320, cat, 'g', 'sync', 'forbidden'),
    ]);
    expect(undated.verdict).toBe('pass');
    expect(undated.details).toMatch(/0 refusals of members' frames judged \(1 more undated, not judged\)/);
  });

  it('fails a removed member refused a sync of its own past, and only then', () => {
    // bob was a member through seq 3 (removal answered "after 3"): he may read 1..3 for good.
    const past = judge([
      history.session(150, bob),
      history.syncSent(160, bob, 'g', 1),
      history.refused(170, bob, 'g', 'sync', 'forbidden'),
    ]);
    expect(past.verdict).toBe('fail');
    expect(problems(past)).toMatch(
      /bob\/d1 was refused its sync on g with forbidden at 170, though it asked for seqs 2\.\.3, which existed then/,
    );
    expect(past.details).toMatch(/1 read of its own past refused/);
    for (const events of [
      // Asked from 3 on: nothing of his past.
      [history.session(150, bob), history.syncSent(160, bob, 'g', 3)],
      // Which sync the err answers is not known: one asked from 3 bounds them all.
      [history.session(150, bob), history.syncSent(160, bob, 'g', 0), history.syncSent(165, bob, 'g', 3)],
      // A sync of an earlier session answers nothing on this one.
      [history.session(150, bob), history.syncSent(160, bob, 'g', 0), history.session(166, bob)],
      // `not_found`/`forbidden` only: "not now" may answer anyone.
      [
        history.session(150, bob),
        history.syncSent(160, bob, 'g', 0),
        history.refused(168, bob, 'g', 'sync', 'unavailable'),
      ],
    ])
      expect(judge([...events, history.refused(170, bob, 'g', 'typing', 'forbidden')]).verdict).toBe('pass');
    for (const events of [
      [history.session(150, bob), history.syncSent(160, bob, 'g', 3)],
      [history.session(150, bob), history.syncSent(160, bob, 'g', 0), history.syncSent(165, bob, 'g', 3)],
      [history.session(150, bob), history.syncSent(160, bob, 'g', 0), history.session(166, bob)],
    ])
      expect(judge([...events, history.refused(170, bob, 'g', 'sync', 'not_found')]).verdict).toBe('pass');
    // A user never a member may be refused anything.
    expect(
      judge([
        history.session(150, cat),
        history.syncSent(160, cat, 'g', 0),
        history.refused(170, cat, 'g', 'sync', 'forbidden'),
      ]).verdict,
    ).toBe('pass');
  });

  it('passes a refusal while a removal was in flight', () => {
    const result = judge([
      history.session(150, cat),
      ...addCat,
      history.cursorSent(395, cat, 'g', 'read', 4),
      history.membersSent(400, 3, 'g', { remove: ['cat'] }),
      history.cursorRefused(405, cat, 'g', 'read', 'forbidden'),
      history.membersAnswered(410, 3, 200),
    ]);
    expect(result.verdict).toBe('pass');
  });
});
