import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { device, history, message } from './history-fixture.ts';
import { IdTable } from './id-table.ts';
import { MemberSessions } from './member-sessions.ts';
import { PushReach } from './push-reach.ts';
import { WitnessList } from './witness-list.ts';

const ann = device('ann');
const bob = device('bob');
const dueMs = 3000;

/** A push reach judgement alone, fed through member sessions of its own. */
function pushReach(witness: WitnessList) {
  const sessions = new MemberSessions(new IdTable(), 256, witness, dueMs);
  const judgement = new PushReach(sessions);
  return {
    observe: (event: HistoryEvent) => sessions.observe(event),
    finish: (at: number) => sessions.finish(at),
    get judged() {
      return judgement.judged;
    },
    get heldBeyondNewest() {
      return judgement.heldBeyondNewest;
    },
    get pastMemberJudged() {
      return judgement.pastMemberJudged;
    },
    owing: () => [...judgement.owing()].map((id) => sessions.ids.deviceName(id).user),
  };
}

/** ann holds one session through `count` messages bob sends in `small`, each pushed to her (ack after push). */
function soak(count: number) {
  const witness = new WitnessList();
  const reach = pushReach(witness);
  reach.observe(history.conv(0, 'small', ['ann', 'bob']));
  reach.observe(history.session(10, ann));
  reach.observe(history.session(10, bob));
  for (let seq = 1; seq <= count; seq++) {
    const at = 100 + seq * 10;
    if (seq % 2 === 0) reach.observe(history.convFrame(at, ann, 'small', 'msg', [seq]));
    reach.observe(history.ack(at + 1, bob, message('small', seq, 'bob')));
    if (seq % 2 === 1) reach.observe(history.convFrame(at + 2, ann, 'small', 'msg', [seq]));
  }
  return { reach, witness };
}

describe('push reach over a long session', () => {
  it('holds one number per (device, conv), not one per pushed message', () => {
    const { reach } = soak(10_000);
    expect(reach.judged).toBe(10_000);
    // The seqs below the first push of the session (none here) and nothing per message.
    expect(reach.heldBeyondNewest).toBe(0);
  });

  it('still fails a message never pushed after thousands that were, and one pushed out of order holds only its gap', () => {
    const { reach, witness } = soak(10_000);
    const at = 200_000;
    // seq 10001 is never pushed; 10002 comes, then the session goes on being heard past the due time.
    reach.observe(history.ack(at, bob, message('small', 10_001, 'bob')));
    reach.observe(history.convFrame(at + 5, ann, 'small', 'msg', [10_002]));
    reach.observe(history.ack(at + 6, bob, message('small', 10_002, 'bob')));
    expect(reach.heldBeyondNewest).toBe(1);
    reach.observe(history.convFrame(at + dueMs + 1000, ann, 'small', 'receipt'));
    reach.finish(at + dueMs + 2000);
    const result = witness.result('delivery-mode', '');
    expect(witness.count).toBe(1);
    expect((result.witness[0] as { problem: string }).problem).toMatch(
      /ann\/d1 .*small seq 10001.* never pushed/,
    );
  });

  it("holds a device's own sends as pushed: a soak of sends from both sides holds nothing beyond the newest", () => {
    const witness = new WitnessList();
    const reach = pushReach(witness);
    reach.observe(history.conv(0, 'small', ['ann', 'bob']));
    reach.observe(history.session(10, ann));
    reach.observe(history.session(10, bob));
    for (let seq = 1; seq <= 100; seq++) {
      const [sender, receiver] = seq % 3 === 0 ? [ann, bob] : [bob, ann];
      reach.observe(history.convFrame(100 + seq * 10, receiver, 'small', 'msg', [seq]));
      reach.observe(history.ack(101 + seq * 10, sender, message('small', seq, sender.user)));
    }
    expect(reach.judged).toBe(100);
    expect(reach.heldBeyondNewest).toBe(0);
    reach.finish(5000);
    expect(witness.count).toBe(0);
  });

  it('forgets what a session was pushed when it ends: a new session owes pushes afresh', () => {
    const { reach, witness } = soak(3);
    reach.observe({ k: 'session-lost', at: 500, reason: 'client', ...ann });
    expect(reach.heldBeyondNewest).toBe(0);
    reach.observe(history.session(600, ann));
    // Sent in the new session; seq 2 was pushed in the old one, which counts for nothing now.
    reach.observe(history.ack(700, bob, message('small', 2, 'bob'), 650));
    reach.observe(history.convFrame(5000, ann, 'small', 'receipt'));
    reach.finish(6000);
    expect(witness.count).toBe(1);
  });
});

describe('the devices owed something', () => {
  const carol = device('carol');

  it('are only those owed a push now, in the order each was first owed in its session', () => {
    const witness = new WitnessList();
    const reach = pushReach(witness);
    reach.observe(history.conv(0, 'g', ['ann', 'bob', 'carol']));
    for (const d of [ann, bob, carol]) reach.observe(history.session(10, d));
    // bob's seq 1 is owed to ann, then carol; ann is pushed it (owed nothing), then owed seq 2.
    reach.observe(history.ack(100, bob, message('g', 1, 'bob')));
    expect(reach.owing()).toEqual(['ann', 'carol']);
    reach.observe(history.convFrame(110, ann, 'g', 'msg', [1]));
    expect(reach.owing()).toEqual(['carol']);
    reach.observe(history.ack(200, bob, message('g', 2, 'bob')));
    // ann was first owed in this session before carol: listed first, as the run's end judges them.
    expect(reach.owing()).toEqual(['ann', 'carol']);
    for (const d of [ann, carol]) reach.observe(history.convFrame(210, d, 'g', 'msg', [1, 2]));
    expect(reach.owing()).toEqual([]);
    // A session's end starts ann's place afresh: carol, first owed before it in a session still open, comes first.
    reach.observe({ k: 'session-lost', at: 300, reason: 'client', ...ann });
    reach.observe(history.session(310, ann));
    reach.observe(history.ack(400, bob, message('g', 3, 'bob')));
    expect(reach.owing()).toEqual(['carol', 'ann']);
    expect(witness.count).toBe(0);
  });
});

describe('push reach in a conversation whose membership the harness changed', () => {
  const carol = device('carol');
  /**
   * ann, bob and carol in `g`; bob's seq 1 acked at 500; carol's removal (or, `added`, dave's add) asked
   * at 1000; bob's seq 2 acked at 2000; every device heard at 9000.
   */
  function changed(pushedToAnn: boolean, removal = true, pushedToCarol = false, added = false) {
    const witness = new WitnessList();
    const reach = pushReach(witness);
    reach.observe(history.conv(0, 'g', ['ann', 'bob', 'carol']));
    for (const d of [ann, bob, carol]) reach.observe(history.session(10, d));
    reach.observe(history.ack(500, bob, message('g', 1, 'bob')));
    if (removal) reach.observe(history.membersSent(1000, 1, 'g', { remove: ['carol'] }));
    if (added) reach.observe(history.membersSent(1000, 1, 'g', { add: ['carol'] }));
    reach.observe(history.ack(2000, bob, message('g', 2, 'bob')));
    if (pushedToAnn) reach.observe(history.convFrame(2100, ann, 'g', 'msg', [1, 2]));
    if (pushedToCarol) reach.observe(history.convFrame(2100, carol, 'g', 'msg', [1]));
    for (const d of [ann, bob, carol]) reach.observe(history.convFrame(9000, d, 'g', 'msg', [9]));
    reach.finish(9500);
    const problems = witness
      .result('delivery-mode', '')
      .witness.map((w) => (w as { problem: string }).problem);
    return { problems, reach };
  }
  const of = (user: string, problems: string[]) => problems.filter((p) => p.startsWith(`${user}/`));

  it('owes the members no change named every push, as in a conversation never changed', () => {
    const ownProblems = of('ann', changed(false).problems);
    expect(ownProblems).toHaveLength(2);
    expect(ownProblems.every((p) => /a member throughout/.test(p))).toBe(true);
    expect(of('ann', changed(true).problems)).toEqual([]);
  });

  it('owes a user a change removes what was acked before it was asked (a push to a past member), nothing after', () => {
    // Without the removal carol is owed both messages.
    expect(of('carol', changed(true, false).problems)).toHaveLength(2);
    const { problems, reach } = changed(true);
    expect(of('carol', problems)).toHaveLength(1);
    expect(of('carol', problems)[0]).toMatch(
      /g seq 1 .*a member until a removal the admin asked for after that ack/,
    );
    expect(reach.pastMemberJudged).toBe(1);
    const pushed = changed(true, true, true);
    expect(pushed.problems).toEqual([]);
    expect(pushed.reach.pastMemberJudged).toBe(1);
  });

  it('owes nothing to a user a change adds, from before the change or after it', () => {
    expect(of('carol', changed(true, false, false, true).problems)).toEqual([]);
  });
});

describe('a live ping heard after the due time', () => {
  /** bob's last message to ann is never pushed; after it nothing but `after` reaches ann's session. */
  function lastMessageDropped(after: HistoryEvent[]) {
    const witness = new WitnessList();
    const reach = pushReach(witness);
    reach.observe(history.conv(0, 'small', ['ann', 'bob']));
    reach.observe(history.session(10, ann));
    reach.observe(history.session(10, bob));
    reach.observe(history.convFrame(100, ann, 'small', 'msg', [1]));
    reach.observe(history.ack(101, bob, message('small', 1, 'bob')));
    reach.observe(history.ack(200, bob, message('small', 2, 'bob')));
    for (const event of after) reach.observe(event);
    reach.finish(200 + dueMs + 5000);
    return { reach, witness };
  }

  it('judges the push it follows: the server sent nothing before it on that connection', () => {
    const { reach, witness } = lastMessageDropped([{ k: 'ping', at: 200 + dueMs + 10, ...ann }]);
    expect(witness.count).toBe(1);
    expect(reach.judged).toBe(2);
  });

  it('without one (the frames stopped), the push is not judged either way', () => {
    const { reach, witness } = lastMessageDropped([]);
    expect(witness.count).toBe(0);
    expect(reach.judged).toBe(1);
  });

  it('before the due time, or on a session that ended, proves nothing', () => {
    expect(lastMessageDropped([{ k: 'ping', at: 200 + dueMs - 10, ...ann }]).witness.count).toBe(0);
    const lost = lastMessageDropped([
      { k: 'session-lost', at: 300, reason: 'reset', ...ann },
      { k: 'ping', at: 200 + dueMs + 10, ...ann },
    ]);
    expect(lost.witness.count).toBe(0);
  });
});
