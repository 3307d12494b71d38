import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { interleavedDisplays } from './interleaved-displays.ts';
import { createPerConversationOrderChecker } from './per-conversation-order.ts';
import type { WitnessCase } from './witness-list.ts';

const fromStart = [history.conv(0, 'g', ['ann', 'bob', 'u0', 'u1', 'u2', 'u3'])];
/** `setup` says who is a member when (by default everyone from the start). */
const judge = (events: HistoryEvent[], setup: HistoryEvent[] = fromStart) =>
  checkHistory([createPerConversationOrderChecker()], [...setup, ...events], finalStateFixture())[0]!;

type DisplayEvent = Extract<HistoryEvent, { k: 'display' }>;

const ann = device('ann');
const m = (seq: number) => message('g', seq, 'bob');

describe('per-conversation-order', () => {
  it('passes displays in seq order, skipping only seqs the user could not read', () => {
    // ann reads 1..2, is removed, and re-added once seq 5 exists: she reads 6 on.
    const events = [
      history.conv(0, 'g', ['ann', 'bob']),
      history.display(1, ann, m(1)),
      history.display(2, ann, m(2)),
      history.membersSent(3, 1, 'g', { remove: ['ann'] }),
      history.membersAnswered(3.1, 1, 200, 2),
      history.ack(3.5, device('bob'), m(5), 3.2),
      history.membersSent(4, 2, 'g', { add: ['ann'] }),
      history.membersAnswered(4.1, 2, 200, 5),
      history.display(5, ann, m(6)),
      history.display(6, device('ann', 'd2'), m(1)),
    ];
    expect(judge(events, [])).toMatchObject({
      property: 'per-conversation-order',
      verdict: 'pass',
      witness: [],
    });
  });

  it('fails a display that skips a readable seq, naming it and the display before', () => {
    const result = judge([history.display(1, ann, m(1)), history.display(3, ann, m(3))]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 gap/);
    const [gap] = result.witness as WitnessCase[];
    expect(gap!.path).toEqual([
      expect.objectContaining({ k: 'display', seq: 1, at: 1, user: 'ann', conv: 'g' }),
      expect.objectContaining({ k: 'display', seq: 3, at: 3, user: 'ann', device: 'd1', conv: 'g' }),
    ]);
  });

  it('fails a first display that is not the first readable seq', () => {
    const joinAfter2 = [
      history.conv(0, 'g', ['bob']),
      history.ack(0.5, device('bob'), m(2), 0.4),
      history.membersSent(1, 1, 'g', { add: ['ann'] }),
      history.membersAnswered(1.1, 1, 200, 2),
    ];
    const result = judge([history.display(2, ann, m(4))], joinAfter2);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([expect.objectContaining({ seq: 4, at: 2 })]);
  });

  it('fails a display that goes backwards, and one that repeats', () => {
    const back = history.display(3, ann, m(1));
    const again = history.display(4, ann, m(2));
    const result = judge([history.display(1, ann, m(1)), history.display(2, ann, m(2)), back, again]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 out of order, 1 repeated/);
    expect((result.witness as WitnessCase[]).map((c) => c.path.at(-1))).toEqual([back, again]);
  });

  it('passes any interleaving of devices displaying in order', () => {
    fc.assert(
      fc.property(interleavedDisplays(), ({ events }) => {
        expect(judge(events).verdict).toBe('pass');
      }),
    );
  });

  it('fails any interleaving once one display is dropped from the middle', () => {
    fc.assert(
      fc.property(
        interleavedDisplays().filter(({ lastSeq }) => lastSeq >= 2),
        fc.nat(),
        fc.nat(),
        ({ events, lastSeq }, pickSeq, pickDisplay) => {
          const seq = 1 + (pickSeq % (lastSeq - 1));
          const candidates = events.flatMap((event, i) =>
            event.k === 'display' && event.message.seq === seq ? [i] : [],
          );
          const dropped = events[candidates[pickDisplay % candidates.length]!] as DisplayEvent;
          const result = judge(events.filter((event) => event !== dropped));
          expect(result.verdict).toBe('fail');
          const offending = (result.witness as WitnessCase[])[0]!.path.at(-1);
          expect(offending).toMatchObject({
            k: 'display',
            seq: seq + 1,
            user: dropped.user,
            device: dropped.device,
          });
        },
      ),
    );
  });
});
