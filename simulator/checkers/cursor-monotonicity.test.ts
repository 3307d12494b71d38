import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { createCursorMonotonicityChecker } from './cursor-monotonicity.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const ann = device('ann');
const bob = device('bob');
const stored: HistoryEvent[] = [1, 2, 3].map((seq) => history.durable(seq, message('g', seq, 'bob')));
const judge = (events: HistoryEvent[]) =>
  checkHistory([createCursorMonotonicityChecker()], [...stored, ...events], finalStateFixture())[0]!;
const path = (result: { witness: unknown[] }) => (result.witness as WitnessCase[])[0]!.path;
const seen = (seq: number, lastSeq = 3, of = 'bob', kind: 'delivered' | 'read' = 'read') => ({
  conv: 'g',
  of,
  kind,
  seq,
  lastSeq,
});

describe('cursor-monotonicity', () => {
  it('passes cursors that only move forward, per kind, member and observer', () => {
    const result = judge([
      history.cursorSent(10, ann, 'g', 'delivered', 3),
      history.cursorSent(11, ann, 'g', 'read', 1),
      history.cursorSent(12, ann, 'g', 'read', 2),
      history.cursorSeen(13, ann, seen(2)),
      history.cursorSeen(14, ann, seen(1, 3, 'cat')),
      history.cursorSeen(15, ann, seen(1, 3, 'bob', 'delivered')),
      history.cursorSeen(16, device('ann', 'd2'), seen(1)),
      history.cursorSeen(17, ann, seen(2, 3, 'ann'), 'welcome'),
      history.cursorSeen(18, ann, seen(3)),
    ]);
    expect(result).toMatchObject({ property: 'cursor-monotonicity', verdict: 'pass', witness: [] });
  });

  it('fails a sent cursor that moves back, naming both sends', () => {
    const back = history.cursorSent(12, ann, 'g', 'read', 1);
    const result = judge([history.cursorSent(11, ann, 'g', 'read', 2), back]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 sent cursor moving back/);
    expect(path(result)).toEqual([expect.objectContaining({ k: 'cursor-sent', at: 11, seq: 2 }), back]);
  });

  it('fails a sent cursor past the store lastSeq', () => {
    const past = history.cursorSent(12, ann, 'g', 'delivered', 4);
    const result = judge([past]);
    expect(result.verdict).toBe('fail');
    expect(path(result)).toEqual([past]);
  });

  describe('live: no durable events, the store known from what the harness got', () => {
    const judgeLive = (events: HistoryEvent[]) =>
      checkHistory([createCursorMonotonicityChecker()], events, finalStateFixture())[0]!;
    // Seqs 1..6 displayed; 7 and 8 stored, but nobody displayed them yet when cy joins g at 8 and
    // the members are told cy's cursors start there (live churn, seed 1).
    const shown = [1, 2, 3, 4, 5, 6].map((seq) => history.display(seq, ann, message('g', seq, 'bob')));
    const joinReceipt = (at: number, seq = 8) => history.cursorSeen(at, ann, seen(seq, 8, 'cy', 'delivered'));

    it('takes a seq pushed to a device but not yet shown, an ack or a welcome lastSeq as stored', () => {
      expect(judgeLive([...shown, joinReceipt(20)]).details).toMatch(/1 seen cursor past lastSeq/);
      const pushed = history.convFrame(10, ann, 'g', 'msg', [8]);
      expect(judgeLive([...shown, pushed, joinReceipt(20)]).verdict).toBe('pass');
      const acked = history.ack(10, bob, message('g', 8, 'bob'));
      expect(judgeLive([...shown, acked, joinReceipt(20)]).verdict).toBe('pass');
      const welcome = history.cursorSeen(10, bob, seen(0, 8, 'bob'), 'welcome');
      expect(judgeLive([...shown, welcome, joinReceipt(20)]).verdict).toBe('pass');
    });

    it("takes a sync answer's lastSeq as stored: an empty page past what the device may read moves it there", () => {
      // Live minimal server, churn seed 1 (01:03 UTC): u2 synced g0, the answer held no message it may read
      // and lastSeq 14, so its app moved past 14 and sent delivered 14 before any push showed seq 14.
      const sentAfter = [history.cursorSent(20, ann, 'g', 'delivered', 8), joinReceipt(21)];
      expect(judgeLive([...shown, ...sentAfter]).details).toMatch(/1 sent cursor past lastSeq/);
      const page = { ...history.convFrame(10, ann, 'g', 'batch', []), lastSeq: 8, more: false };
      expect(judgeLive([...shown, page, ...sentAfter]).verdict).toBe('pass');
      // A page says nothing past its own lastSeq.
      const past = [history.cursorSent(20, ann, 'g', 'delivered', 9), joinReceipt(21)];
      expect(judgeLive([...shown, page, ...past]).details).toMatch(/1 sent cursor past lastSeq/);
    });

    it('passes a join receipt that came before the ack of its seq, sent earlier (fleet hunt seed 22)', () => {
      // Correct two-node fleet, Redis slowed: cy joined g at the store's lastSeq 8 through one node, whose
      // devices were told cy's cursors start at 8 while seq 8's ack was still on its way from the other.
      const lateAck = history.ack(25, bob, message('g', 8, 'bob'), 15);
      const result = judgeLive([...shown, joinReceipt(20), lateAck]);
      expect(result.verdict).toBe('pass');
      expect(result.details).toMatch(/1 receipts came before the harness heard the store held their seq/);
      // The final read showing seq 8 is enough as well.
      const final = finalStateFixture({ messages: [message('g', 8, 'bob')] });
      const [byRead] = checkHistory([createCursorMonotonicityChecker()], [...shown, joinReceipt(20)], final);
      expect(byRead!.verdict).toBe('pass');
    });

    it('fails a receipt at a seq a message first sent after it was acked at: the seq did not exist yet', () => {
      const receipt = joinReceipt(20);
      const laterSend = history.ack(30, bob, message('g', 7, 'bob'), 21);
      const result = judgeLive([...shown, receipt, laterSend]);
      expect(result.verdict).toBe('fail');
      expect(result.details).toMatch(/1 seen cursor past lastSeq/);
      expect((result.witness as WitnessCase[])[0]!.problem).toMatch(
        /ann\/d1 saw cy's delivered cursor at 8 in g \(t=20\) before seq 7 existed: bob\/d1 first sent that message at t=21/,
      );
      expect(path(result)).toEqual([receipt, laterSend]);
    });

    it('still fails a receipt past every seq the harness heard of, and a notify or typing proves nothing', () => {
      const pushed = history.convFrame(10, ann, 'g', 'msg', [8]);
      const typing = history.convFrame(11, ann, 'g', 'typing');
      const result = judgeLive([...shown, pushed, typing, joinReceipt(20, 9)]);
      expect(result.details).toMatch(/1 seen cursor past lastSeq/);
      expect(path(result)).toEqual([expect.objectContaining({ seq: 9, source: 'receipt' })]);
    });
  });

  it('fails a welcome showing a cursor behind the receipt seen before it', () => {
    const welcome = history.cursorSeen(20, bob, seen(1, 3, 'bob'), 'welcome');
    const result = judge([history.cursorSeen(10, bob, seen(2, 3, 'bob')), welcome]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 seen cursor moving back/);
    expect(path(result)).toEqual([expect.objectContaining({ at: 10, seq: 2, source: 'receipt' }), welcome]);
  });

  it('fails a welcome cursor past the lastSeq in the same welcome', () => {
    const welcome = history.cursorSeen(10, ann, seen(3, 2, 'ann'), 'welcome');
    const result = judge([welcome]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 seen cursor past lastSeq/);
    expect(path(result)).toEqual([welcome]);
  });

  it('fails a receipt past the store lastSeq, not one past what a new member had heard of', () => {
    const justJoined = history.cursorSeen(10, ann, seen(3, 0));
    expect(judge([justJoined]).verdict).toBe('pass');
    const receipt = history.cursorSeen(11, ann, seen(4, 0));
    const result = judge([receipt]);
    expect(result.verdict).toBe('fail');
    expect(path(result)).toEqual([receipt]);
    // The store's own events say exactly when seq 4 was made durable: a receipt before it is past
    // lastSeq then, whatever an ack sent earlier shows later (live holds such a receipt, simulation does not).
    const later = [
      history.durable(12, message('g', 4, 'bob')),
      history.ack(13, bob, message('g', 4, 'bob'), 5),
    ];
    expect(judge([receipt, ...later]).details).toMatch(/1 seen cursor past lastSeq/);
  });

  describe('the final cursor read (GET .../receipts after settle)', () => {
    const read = (members: { user: string; delivered: number; read: number }[], lastSeq = 3, status = 200) =>
      ({
        k: 'cursor-read',
        at: 900,
        conv: 'g',
        user: 'ann',
        status,
        ...(status === 200 ? { lastSeq, members } : {}),
      }) as HistoryEvent;
    const receipt = history.cursorSeen(20, ann, seen(3));

    it('fails a cursor read below what a receipt showed a device: the store lost that move', () => {
      const lost = read([{ user: 'bob', delivered: 3, read: 2 }]);
      const result = judge([receipt, lost]);
      expect(result.verdict).toBe('fail');
      expect(result.details).toMatch(/1 cursor lost by the end/);
      expect((result.witness as WitnessCase[])[0]!.problem).toMatch(
        /ann\/d1 saw bob's read cursor in g at 3 \(receipt, t=20\); the final read \(as ann, lastSeq 3\) shows 2, below 3/,
      );
      expect(path(result)).toEqual([expect.objectContaining({ at: 20, seq: 3, source: 'receipt' }), lost]);
    });

    it('passes a cursor at or past the floor, and bounds the floor by the read lastSeq', () => {
      expect(judge([receipt, read([{ user: 'bob', delivered: 0, read: 3 }])]).verdict).toBe('pass');
      // A lastSeq below a receipt is lost messages (other checkers judge those), not a lost cursor.
      expect(judge([receipt, read([{ user: 'bob', delivered: 0, read: 2 }], 2)]).verdict).toBe('pass');
      expect(judge([receipt, read([{ user: 'bob', delivered: 0, read: 3 }])]).details).toMatch(
        /1 answered, 1 cursors judged/,
      );
    });

    it('judges a read during the run (askedAt) against the cursors seen before it was asked', () => {
      // A node answering from its own view, behind a move another node relayed (mutant 1213 of the
      // 74bbde3 seed-5 sample): bob's read cursor was seen at 3 (t=20), the read asked at t=30 shows 2.
      const during = (value: number, askedAt: number, at = askedAt + 5) =>
        ({ ...(read([{ user: 'bob', delivered: 0, read: value }]) as object), at, askedAt }) as HistoryEvent;
      const behind = judge([receipt, during(2, 30)]);
      expect(behind.verdict).toBe('fail');
      expect(behind.details).toMatch(/1 cursor read behind what was seen/);
      expect((behind.witness as WitnessCase[])[0]!.problem).toMatch(/the read asked at 30/);
      expect(judge([receipt, during(3, 30)]).verdict).toBe('pass');
      // Seen only after the read was asked: the read may have been served before the move.
      expect(judge([receipt, during(2, 15, 25)]).verdict).toBe('pass');
      // A refused or unanswered read during the run is no final read left undone.
      const refused = { ...(read([], 3, 403) as object), at: 35, askedAt: 30 } as HistoryEvent;
      expect(judge([receipt, refused, read([{ user: 'bob', delivered: 0, read: 3 }])]).verdict).toBe('pass');
    });

    it('sets no floor from before a membership change of that member', () => {
      const readded = history.membersSent(30, 1, 'g', { add: ['bob'] });
      expect(judge([receipt, readded, read([{ user: 'bob', delivered: 0, read: 0 }])]).verdict).toBe('pass');
    });

    describe("a device's own cursors", () => {
      // ann's device sends read 3 on a session that still hears the server in settle (t=500 on).
      const sentOn = (...after: HistoryEvent[]) => [
        history.session(5, ann),
        history.cursorSent(20, ann, 'g', 'read', 3),
        ...after,
        history.phase(500, 'settle'),
        history.convFrame(600, ann, 'g', 'typing'),
      ];
      // A receipt seen elsewhere, so that the checker judged something besides.
      const judgeOwn = (events: HistoryEvent[]) =>
        judge([history.cursorSeen(1, bob, seen(1, 3, 'cat')), ...events]);
      const readAnn = (value: number) => read([{ user: 'ann', delivered: 0, read: value }]);

      it('fails a cursor sent, not refused, on a session that heard the server in settle, that the read lacks', () => {
        // A server that dropped a cursor it could not store without a word (no `err`, so no retry).
        const lost = readAnn(2);
        const result = judgeOwn([...sentOn(), lost]);
        expect(result.verdict).toBe('fail');
        expect(result.details).toMatch(/1 cursor sent, not kept by the end/);
        expect((result.witness as WitnessCase[])[0]!.problem).toMatch(
          /ann\/d1 sent ann's read cursor in g at 3 \(t=20\) on a session that heard the server in the settle phase, and no refusal came; the final read \(as ann, lastSeq 3\) shows 2/,
        );
        expect(path(result)).toEqual([expect.objectContaining({ k: 'cursor-sent', at: 20, seq: 3 }), lost]);
        expect(judgeOwn([...sentOn(), readAnn(3)])).toMatchObject({ verdict: 'pass' });
        expect(judgeOwn([...sentOn(), readAnn(3)]).details).toMatch(/1 against what they sent/);
      });

      it('sets no floor from a cursor refused as not allowed, or before a membership change of its user', () => {
        expect(
          judgeOwn([...sentOn(history.cursorRefused(30, ann, 'g', 'read', 'forbidden')), readAnn(0)]).verdict,
        ).toBe('pass');
        expect(
          judgeOwn([
            ...sentOn(history.membersSent(30, 1, 'g', { remove: ['ann'], add: ['ann'] })),
            readAnn(0),
          ]).verdict,
        ).toBe('pass');
        // `unavailable` (or `rate_limited`) asks the client to send it again: sent again, the floor stands.
        for (const code of ['unavailable', 'rate_limited'])
          expect(
            judgeOwn([
              ...sentOn(
                history.cursorRefused(30, ann, 'g', 'read', code),
                history.cursorSent(40, ann, 'g', 'read', 3),
              ),
              readAnn(0),
            ]).verdict,
          ).toBe('fail');
        // Never sent again (an app that stopped sending the conversation's cursors: workload.quietRacesAtMs,
        // fleet-races seed 6 at 600 clients), it moved nothing the device knows of: no floor.
        expect(
          judgeOwn([...sentOn(history.cursorRefused(30, ann, 'g', 'read', 'unavailable')), readAnn(0)])
            .verdict,
        ).toBe('pass');
      });

      it('does not judge a cursor whose session may have lost it: ended, or not heard in settle, or sent in settle', () => {
        const notHeard = [
          history.session(5, ann),
          history.cursorSent(20, ann, 'g', 'read', 3),
          history.phase(500, 'settle'),
        ];
        expect(judgeOwn([...notHeard, readAnn(0)]).verdict).toBe('pass');
        const newSession = [
          history.session(5, ann),
          history.cursorSent(20, ann, 'g', 'read', 3),
          history.session(40, ann),
          history.phase(500, 'settle'),
          history.convFrame(600, ann, 'g', 'typing'),
        ];
        expect(judgeOwn([...newSession, readAnn(0)]).verdict).toBe('pass');
        const inSettle = [
          history.session(5, ann),
          history.phase(500, 'settle'),
          history.cursorSent(520, ann, 'g', 'read', 3),
          history.convFrame(600, ann, 'g', 'typing'),
        ];
        expect(judgeOwn([...inSettle, readAnn(0)]).verdict).toBe('pass');
      });
    });

    it('could not judge when the read got no answer and devices saw cursors there, never a pass', () => {
      const result = judge([receipt, read([], 3, 0)]);
      expect(result.verdict).toBe('unknown');
      expect(result.details).toMatch(
        /could not judge: the final cursor read got no answer for 1 conversations/,
      );
      // With no cursor seen in g there is nothing to judge: the unanswered read changes nothing.
      expect(judge([history.cursorSent(10, ann, 'g', 'read', 1), read([], 3, 0)]).verdict).toBe('fail');
    });
  });
});
