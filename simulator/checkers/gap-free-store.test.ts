import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent, ReplayCheck } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { type FinalStateData, finalStateFixture } from './final-state-fixture.ts';
import { createGapFreeStoreChecker } from './gap-free-store.ts';
import { device, history, message } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const judge = (events: HistoryEvent[], final: FinalStateData) =>
  checkHistory([createGapFreeStoreChecker()], events, finalStateFixture(final))[0]!;
const m = (seq: number, conv = 'g') => message(conv, seq, 'bob');

describe('gap-free-store', () => {
  it('passes seqs 1..lastSeq, made durable in any order, in every conversation', () => {
    const events = [
      history.durable(1, m(2)),
      history.durable(2, m(1)),
      history.durable(3, m(1, 'h')),
      history.durable(4, m(3)),
    ];
    const result = judge(events, { messages: [m(1), m(2), m(3), m(1, 'h')] });
    expect(result).toMatchObject({ property: 'gap-free-store', verdict: 'pass', witness: [] });
  });

  it('fails a durable seq reported past a seq never made durable, naming it', () => {
    const result = judge([history.durable(1, m(1)), history.durable(5, m(4))], {
      messages: [m(1), m(4)],
      lastSeq: { g: 1 },
    });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 seqs never made durable/);
    const [gap] = result.witness as WitnessCase[];
    expect(gap!.problem).toMatch(/seqs 2\.\.3/);
    expect(gap!.path).toEqual([{ k: 'durable', at: 5, conv: 'g', seq: 4 }]);
  });

  it('fails a final read whose store refused to recover, unless the run damaged synced bytes', () => {
    const events = [history.send(1, device('ann'), m(1)), history.durable(2, m(1))];
    const withReplay = (storeReplay: ReplayCheck) =>
      checkHistory([createGapFreeStoreChecker()], events, { ...finalStateFixture({}), storeReplay })[0]!;
    const details = 'the store refused to recover for the final read: membership change of x does not apply';
    const refused = withReplay({ outcome: 'refused', details });
    expect(refused.verdict).toBe('fail');
    expect(refused.details).toMatch(/1 the store refused to recover/);
    expect((refused.witness as WitnessCase[])[0]!.problem).toContain(details);
    const excused = withReplay({ outcome: 'excused', details: 'the run damaged synced bytes, and ...' });
    expect(excused.details).not.toMatch(/refused to recover/);
  });

  it('fails a store whose final read misses seqs below its lastSeq', () => {
    const result = judge([], { messages: [m(1), m(2), m(5)] });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 seqs missing from the store/);
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([
      { k: 'stored', conv: 'g', lastSeq: 5, missing: [3, 4], next: m(5) },
    ]);
  });

  it('fails a store that answers a seq with a message of another seq', () => {
    const final = finalStateFixture({ messages: [m(1), m(2)] });
    const result = checkHistory([createGapFreeStoreChecker()], [], {
      ...final,
      storedMessage: (conv, seq) => (seq === 2 ? m(1) : final.storedMessage(conv, seq)),
    })[0]!;
    expect(result.verdict).toBe('fail');
  });
});

describe('gap-free-store over random histories', () => {
  it('passes seqs made durable in any order, and fails once one below the newest never is', () => {
    fc.assert(
      fc.property(
        fc.integer({ min: 2, max: 30 }).chain((lastSeq) =>
          fc.tuple(
            fc.shuffledSubarray(
              Array.from({ length: lastSeq }, (_, i) => i + 1),
              { minLength: lastSeq },
            ),
            fc.nat(lastSeq - 2),
          ),
        ),
        ([order, skipIndex]) => {
          const lastSeq = order.length;
          const messages = order.map((seq) => m(seq));
          expect(
            judge(
              order.map((seq, at) => history.durable(at, m(seq))),
              { messages },
            ).verdict,
          ).toBe('pass');
          const skipped = [...order].sort((a, b) => a - b)[skipIndex]!;
          const kept = order.filter((seq) => seq !== skipped);
          const result = judge(
            kept.map((seq, at) => history.durable(at, m(seq))),
            { messages, lastSeq: { g: lastSeq } },
          );
          expect(result.verdict).toBe('fail');
          expect((result.witness as WitnessCase[])[0]!.problem).toContain(`seqs ${skipped}..${skipped}`);
        },
      ),
    );
  });
});
