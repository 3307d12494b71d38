import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { interleavedDisplays } from './interleaved-displays.ts';
import { createPerConversationOrderChecker } from './per-conversation-order.ts';
import type { WitnessCase } from './witness-list.ts';

const judge = (events: HistoryEvent[]) =>
  checkHistory([createPerConversationOrderChecker()], events, finalStateFixture())[0]!;

const ann = device('ann');
const m = (seq: number) => message('g', seq, 'bob');

describe('per-conversation-order', () => {
  it('passes displays in seq order, skipping only seqs the user could not read', () => {
    const result = judge([
      history.conv(0, 'g', ['ann', 'bob']),
      history.display(1, ann, m(1)),
      history.display(2, ann, m(2)),
      history.members(3, 'g', { remove: ['ann'], atSeq: 2 }),
      history.members(4, 'g', { add: ['ann'], atSeq: 5 }),
      history.display(5, ann, m(6)),
      history.display(6, device('ann', 'd2'), m(1)),
    ]);
    expect(result).toMatchObject({ property: 'per-conversation-order', verdict: 'pass', witness: [] });
  });

  it('fails a display that skips a readable seq, naming it and the display before', () => {
    const skip = history.display(3, ann, m(3));
    const result = judge([history.conv(0, 'g', ['ann', 'bob']), history.display(1, ann, m(1)), skip]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 gap/);
    const [gap] = result.witness as WitnessCase[];
    expect(gap!.path).toEqual([expect.objectContaining({ k: 'display', seq: 1, at: 1 }), skip]);
  });

  it('fails a first display that is not the first readable seq', () => {
    const late = history.display(2, ann, m(4));
    const result = judge([
      history.conv(0, 'g', ['bob']),
      history.members(1, 'g', { add: ['ann'], atSeq: 2 }),
      late,
    ]);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([late]);
  });

  it('fails a display that goes backwards, and one that repeats', () => {
    const back = history.display(3, ann, m(1));
    const again = history.display(4, ann, m(2));
    const result = judge([
      history.conv(0, 'g', ['ann', 'bob']),
      history.display(1, ann, m(1)),
      history.display(2, ann, m(2)),
      back,
      again,
    ]);
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
        ({ events }, pick) => {
          const candidates = events.flatMap((event, i) =>
            event.k === 'display' && event.message.seq === 1 ? [i] : [],
          );
          const dropped = candidates[pick % candidates.length]!;
          const broken = events.filter((_, i) => i !== dropped);
          const result = judge(broken);
          expect(result.verdict).toBe('fail');
          const offending = (result.witness as WitnessCase[])[0]!.path.at(-1) as HistoryEvent;
          expect(offending).toMatchObject({ k: 'display', message: { seq: 2 } });
        },
      ),
    );
  });
});
