import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { interleavedDisplays } from './interleaved-displays.ts';
import { createNoDuplicatesChecker } from './no-duplicates.ts';
import type { WitnessCase } from './witness-list.ts';

const judge = (events: HistoryEvent[]) =>
  checkHistory([createNoDuplicatesChecker()], events, finalStateFixture())[0]!;

const ann = device('ann');
const m = (seq: number, conv = 'g') => message(conv, seq, 'bob');

describe('no-duplicates', () => {
  it('passes each seq displayed once per device, even out of order or on two devices', () => {
    const result = judge([
      history.display(1, ann, m(2)),
      history.display(2, ann, m(1)),
      history.display(3, device('ann', 'd2'), m(1)),
      history.display(4, ann, m(1, 'h')),
    ]);
    expect(result).toMatchObject({ property: 'no-duplicates', verdict: 'pass', witness: [] });
  });

  it('fails a repeat of the newest display, naming both displays', () => {
    const again = history.display(2, ann, m(1), 'sync');
    const result = judge([history.display(1, ann, m(1)), again]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 displayed twice/);
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([
      { k: 'display', at: 1, user: 'ann', device: 'd1', conv: 'g', seq: 1 },
      again,
    ]);
  });

  it('fails a repeat of an older display', () => {
    const again = history.display(4, ann, m(2), 'resume');
    const result = judge([
      history.display(1, ann, m(1)),
      history.display(2, ann, m(2)),
      history.display(3, ann, m(3)),
      again,
    ]);
    expect(result.verdict).toBe('fail');
    expect((result.witness as WitnessCase[])[0]!.path.at(-1)).toBe(again);
  });

  it('passes any interleaving of devices displaying in order, and fails it once one display repeats', () => {
    fc.assert(
      fc.property(interleavedDisplays(), fc.nat(), fc.nat(), ({ events }, pick, at) => {
        expect(judge(events).verdict).toBe('pass');
        const displays = events.filter((event) => event.k === 'display');
        const repeated = { ...displays[pick % displays.length]! };
        const later = events.indexOf(displays[pick % displays.length]!) + 1 + (at % events.length);
        const broken = [...events.slice(0, later), repeated, ...events.slice(later)];
        const result = judge(broken);
        expect(result.verdict).toBe('fail');
        expect((result.witness as WitnessCase[])[0]!.path.at(-1)).toBe(repeated);
      }),
    );
  });
});
