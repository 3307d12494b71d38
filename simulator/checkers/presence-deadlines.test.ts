import { describe, expect, it } from 'vitest';
import { type MissedChange, PresenceDeadlines } from './presence-deadlines.ts';

// One watcher device (0) on slot 0 watches user 0, in session 1 since before anything happens.
function deadlines(lastFrame: { online: boolean; session: number } | undefined, faultIn = false) {
  const missed: MissedChange[] = [];
  const judge = new PresenceDeadlines(
    { answerWithinMs: 1000, deadConnectionWithinMs: 30_000, nodeDeadWithinMs: 7000 },
    {
      deviceOf: () => 0,
      sessionOf: () => 1,
      lastFrame: () => lastFrame,
      faultIn: () => faultIn,
    },
    (miss) => missed.push(miss),
  );
  judge.asked(0, 0, 500);
  return { judge, missed };
}

describe('PresenceDeadlines', () => {
  it('names a change that held past its deadline and that the watcher was never told', () => {
    const { judge, missed } = deadlines({ online: true, session: 1 });
    judge.lost(0, 'client', 1000);
    judge.change(0, false, 1000);
    judge.end(5000);
    expect(judge.judged).toBe(1);
    expect(missed).toEqual([
      { slot: 0, user: 0, online: false, changedAt: 1000, deadline: 2000, heldUntil: 5000 },
    ]);
  });

  it('passes a change the watcher was told while it held', () => {
    const { judge, missed } = deadlines({ online: false, session: 1 });
    judge.lost(0, 'client', 1000);
    judge.change(0, false, 1000);
    judge.shown(0, false, 1100, true);
    judge.end(5000);
    expect(judge.judged).toBe(1);
    expect(missed).toEqual([]);
  });

  it('waits for the heartbeats when the client gave up on the connection (idle), and not across a fault', () => {
    const idle = deadlines({ online: true, session: 1 });
    idle.judge.lost(0, 'idle', 1000);
    idle.judge.change(0, false, 1000);
    idle.judge.end(20_000);
    expect(idle.judge.judged).toBe(0);
    const faulted = deadlines({ online: true, session: 1 }, true);
    faulted.judge.lost(0, 'client', 1000);
    faulted.judge.change(0, false, 1000);
    faulted.judge.end(5000);
    expect(faulted.judge.judged).toBe(0);
    expect([...idle.missed, ...faulted.missed]).toEqual([]);
  });

  it('does not judge a watch never answered, or one asked after the change', () => {
    const unanswered = deadlines(undefined);
    unanswered.judge.change(0, true, 1000);
    unanswered.judge.end(5000);
    expect(unanswered.judge.judged).toBe(0);
    const late = deadlines({ online: false, session: 1 });
    late.judge.unasked(0);
    late.judge.asked(0, 0, 2000);
    late.judge.change(0, true, 1000);
    late.judge.end(5000);
    expect(late.judge.judged).toBe(0);
  });

  it('judges every watcher of a user, in the order they first asked, each once however often it asked', () => {
    const missed: MissedChange[] = [];
    const judge = new PresenceDeadlines(
      { answerWithinMs: 1000, deadConnectionWithinMs: 30_000, nodeDeadWithinMs: 7000 },
      {
        deviceOf: (slot) => slot,
        sessionOf: () => 1,
        lastFrame: () => ({ online: true, session: 1 }),
        faultIn: () => false,
      },
      (miss) => missed.push(miss),
    );
    // Slots 5, 2 and 7 watch user 3 (5 asks twice); slot 2 is told.
    for (const slot of [5, 2, 5, 7]) judge.asked(slot, 3, 500);
    judge.lost(3, 'client', 1000);
    judge.change(3, false, 1000);
    judge.shown(2, false, 1100, true);
    judge.end(5000);
    expect(judge.judged).toBe(3);
    expect(missed.map((miss) => miss.slot)).toEqual([5, 7]);
  });
});
