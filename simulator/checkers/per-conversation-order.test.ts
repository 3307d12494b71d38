import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { FinalState, HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture, membersFromStart } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { interleavedDisplays } from './interleaved-displays.ts';
import { createPerConversationOrderChecker } from './per-conversation-order.ts';
import type { WitnessCase } from './witness-list.ts';

const fromStart = finalStateFixture({
  membership: { g: membersFromStart('ann', 'bob', 'u0', 'u1', 'u2', 'u3') },
});
const judge = (events: HistoryEvent[], final: FinalState = fromStart) =>
  checkHistory([createPerConversationOrderChecker()], events, final)[0]!;

type DisplayEvent = Extract<HistoryEvent, { k: 'display' }>;

const ann = device('ann');
const m = (seq: number) => message('g', seq, 'bob');

describe('per-conversation-order', () => {
  it('passes displays in seq order, skipping only seqs the user could not read', () => {
    const events = [
      history.display(1, ann, m(1)),
      history.display(2, ann, m(2)),
      history.display(5, ann, m(6)),
      history.display(6, device('ann', 'd2'), m(1)),
    ];
    const final = finalStateFixture({
      membership: {
        g: {
          ann: [
            { from: 1, to: 2 },
            { from: 6, to: null },
          ],
          bob: [{ from: 1, to: null }],
        },
      },
    });
    expect(judge(events, final)).toMatchObject({
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
    const final = finalStateFixture({ membership: { g: { ann: [{ from: 3, to: null }] } } });
    const result = judge([history.display(2, ann, m(4))], final);
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
