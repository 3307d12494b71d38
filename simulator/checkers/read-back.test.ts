// The checkers that judge against the store (durable-ack, agreement, idempotency, no-loss) judge as
// strictly with reads during the run (Checker.checkpoint, which drops their state for what a read
// showed) as with the final read alone: a message lost, changed or duplicated after its read is still
// caught at the end, and on random histories the verdicts are those of the final read alone (never
// weaker; stricter only where a read saw a wrong message that was gone by the end).

import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { Message } from '../../reference-server/protocol/frames.ts';
import type { Checker, CheckResult, HistoryEvent, StoreRead } from '../history.ts';
import { createAgreementChecker } from './agreement.ts';
import { createDurableAckChecker } from './durable-ack.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { createIdempotencyChecker } from './idempotency.ts';
import { createNoLossChecker } from './no-loss.ts';
import { ReadBack } from './read-back.ts';
import type { WitnessCase } from './witness-list.ts';

const ann = device('ann');
const bob = device('bob');
const devices = [ann, bob];

/** A read during the run showing `messages`. */
type Read = { read: Message[]; at: number };
type Step = HistoryEvent | Read;

function storeRead({ read, at }: Read): StoreRead {
  const conversations = new Map<string, Map<number, Message>>();
  for (const m of read) {
    const conv = conversations.get(m.conv) ?? new Map<number, Message>();
    conv.set(m.seq, m);
    conversations.set(m.conv, conv);
  }
  return { at, conversations };
}

const fourCheckers = (): Checker[] => [
  createDurableAckChecker(),
  createAgreementChecker(),
  createIdempotencyChecker(),
  createNoLossChecker(),
];

/** Runs the four checkers over `steps` (reads included unless `reads` is false); results by property. */
function judge(steps: Step[], stored: Message[], reads = true): Record<string, CheckResult> {
  const checkers = fourCheckers();
  for (const step of steps) {
    if ('read' in step) {
      if (reads) for (const c of checkers) c.checkpoint?.(storeRead(step));
    } else for (const c of checkers) c.observe(step);
  }
  const final = finalStateFixture({ devices, messages: stored });
  return Object.fromEntries(checkers.map((c) => [c.property, c.finish(final)]));
}

const verdicts = (results: Record<string, CheckResult>) =>
  Object.fromEntries(Object.entries(results).map(([p, r]) => [p, r.verdict]));

/** ann sends m, it is acked and shown on both devices. */
const delivered = (at: number, m: Message): HistoryEvent[] => [
  history.send(at, ann, m),
  history.ack(at + 1, ann, m),
  history.display(at + 1, ann, m, 'own'),
  history.display(at + 2, bob, m),
];

const setup: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.session(1, ann),
  history.session(1, bob),
];
const m1 = message('g', 1, 'ann');
const m2 = message('g', 2, 'ann');
const m3 = message('g', 3, 'ann');

describe('judging against reads during the run', () => {
  it('passes a clean run and says how much it judged as it went', () => {
    const steps: Step[] = [...setup, ...delivered(10, m1), ...delivered(20, m2), { read: [m1, m2], at: 100 }];
    const results = judge(steps, [m1, m2]);
    expect(verdicts(results)).toEqual({
      'durable-ack': 'pass',
      agreement: 'pass',
      idempotency: 'pass',
      'no-loss': 'pass',
    });
    expect(results['durable-ack']!.details).toMatch(
      /2 acks read back from the store \(2 seqs judged during the run\)/,
    );
  });

  it('fails a message acked, read back, then lost from the store before the final read', () => {
    // bob never shows m2: no-loss owes it to him and must still know it was acked.
    const steps: Step[] = [
      ...setup,
      ...delivered(10, m1),
      history.send(20, ann, m2),
      history.ack(21, ann, m2),
      { read: [m1, m2], at: 100 },
    ];
    const results = judge(steps, [m1]);
    expect(results['durable-ack']!.verdict).toBe('fail');
    expect(results['durable-ack']!.details).toMatch(/1 acked message missing from the store/);
    expect((results['durable-ack']!.witness as WitnessCase[])[0]!.problem).toMatch(
      /g#2 was acked and read back at 100 ms, but the store's final read has no such seq/,
    );
    expect(results['no-loss']!.verdict).toBe('fail');
    expect(results['no-loss']!.details).toMatch(/lost from the store/);
    // The same verdicts as without the read.
    expect(verdicts(results)).toEqual(verdicts(judge(steps, [m1], false)));
  });

  it('fails a body changed after its read', () => {
    const steps: Step[] = [...setup, ...delivered(10, m1), ...delivered(20, m2), { read: [m1, m2], at: 100 }];
    const results = judge(steps, [m1, { ...m2, body: 'rewritten' }]);
    expect(results.agreement!.verdict).toBe('fail');
    expect(results.agreement!.details).toMatch(/stored disagreeing on body/);
    expect(results['durable-ack']!.verdict).toBe('pass');
    expect(verdicts(results)).toEqual(verdicts(judge(steps, [m1, { ...m2, body: 'rewritten' }], false)));
  });

  it('fails a seq that holds another message after its read', () => {
    const steps: Step[] = [...setup, ...delivered(10, m1), { read: [m1], at: 100 }];
    const other = message('g', 1, 'bob');
    const results = judge(steps, [other]);
    expect(results['durable-ack']!.details).toMatch(/acked seq holding another message/);
    expect(results.idempotency!.details).toMatch(/seq given to two keys/);
    expect(results.agreement!.details).toMatch(/stored disagreeing on from\+cmid/);
    expect(verdicts(results)).toEqual(verdicts(judge(steps, [other], false)));
  });

  it('fails a send acked twice under two seqs, the first judged and dropped before the second', () => {
    const dup = { ...m1, seq: 3 };
    const steps: Step[] = [
      ...setup,
      ...delivered(10, m1),
      ...delivered(20, m2),
      { read: [m1, m2], at: 100 },
      history.ack(200, ann, dup),
      history.display(201, bob, dup),
    ];
    const results = judge(steps, [m1, m2, dup]);
    expect(results.idempotency!.verdict).toBe('fail');
    expect(results.idempotency!.details).toMatch(/key with two seqs/);
    expect(verdicts(results)).toEqual(verdicts(judge(steps, [m1, m2, dup], false)));
  });

  it('fails at once a read that shows another message than the ack named', () => {
    const checkers = fourCheckers();
    for (const e of [...setup, history.send(10, ann, m1), history.ack(11, ann, m1)])
      for (const c of checkers) c.observe(e);
    const durableAck = checkers[0]!;
    durableAck.checkpoint!(storeRead({ read: [message('g', 1, 'bob')], at: 50 }));
    expect(durableAck.violationsSoFar!()).toBe(1);
  });

  it('keeps judging a seq the read did not show, with the ack in its witness', () => {
    const steps: Step[] = [...setup, ...delivered(10, m1), ...delivered(20, m2), { read: [m1], at: 100 }];
    const results = judge(steps, [m1]);
    expect(results['durable-ack']!.verdict).toBe('fail');
    const [lost] = results['durable-ack']!.witness as WitnessCase[];
    expect(lost!.path[0]).toMatchObject({ k: 'ack', user: 'ann', device: 'd1', conv: 'g', seq: 2 });
  });

  it('judges a claim that comes after its seq was dropped against the final read', () => {
    const late = { ...m1, body: 'another body' };
    const steps: Step[] = [
      ...setup,
      ...delivered(10, m1),
      { read: [m1], at: 100 },
      history.display(300, bob, late),
    ];
    const results = judge(steps, [m1]);
    expect(results.agreement!.verdict).toBe('fail');
    expect(verdicts(results)).toEqual(verdicts(judge(steps, [m1], false)));
  });

  it('passes the same history whether read once, twice or never during the run', () => {
    const steps: Step[] = [
      ...setup,
      ...delivered(10, m1),
      { read: [m1], at: 50 },
      ...delivered(60, m2),
      ...delivered(70, m3),
      { read: [m2], at: 150 },
      { read: [m3], at: 250 },
    ];
    expect(verdicts(judge(steps, [m1, m2, m3]))).toEqual(verdicts(judge(steps, [m1, m2, m3], false)));
    expect(judge(steps, [m1, m2, m3])['durable-ack']!.details).toMatch(/3 seqs judged during the run/);
  });
});

describe('ReadBack', () => {
  it('finds a seq lost and a block changed, and nothing where the final read matches', () => {
    const readBack = new ReadBack(1);
    for (let seq = 1; seq <= 70; seq++) readBack.fold(0, seq, 0, seq * 7, 10);
    const report = (final: (seq: number) => number | undefined) => {
      const found: { lo: number; missing: number[]; changed: boolean | undefined }[] = [];
      readBack.verify(
        0,
        (_conv, seq) => final(seq),
        ({ lo, missing, changed }) => found.push({ lo, missing, changed }),
      );
      return found;
    };
    expect(report((seq) => seq * 7)).toEqual([]);
    expect(report((seq) => (seq === 40 ? undefined : seq * 7))).toEqual([
      { lo: 32, missing: [40], changed: undefined },
    ]);
    expect(report((seq) => (seq === 65 ? 1 : seq * 7))).toEqual([{ lo: 64, missing: [], changed: true }]);
    // Two seqs swapping their messages is a change too.
    expect(report((seq) => (seq === 3 ? 4 * 7 : seq === 4 ? 3 * 7 : seq * 7))).toEqual([
      { lo: 0, missing: [], changed: true },
    ]);
    expect(readBack.has(0, 70, 0)).toBe(true);
    expect(readBack.has(0, 71, 0)).toBe(false);
    expect(readBack.count).toBe(70);
  });
});

// Random histories of one group: sends acked (sometimes under a wrong seq, sometimes twice), shown on
// some devices (sometimes with a wrong body), a store that may already be wrong, a read during the run
// of part of it, and maybe one loss or change after that read. The four properties must come out as
// they do with the final read alone when the store did not change after the read, and never weaker
// when it did (a read may have seen a wrong message that was lost before the end: that still fails).
describe('reads during the run, on random histories', () => {
  it('give the verdicts of the final read alone, never weaker', () => {
    const messageArb = fc.record({
      from: fc.constantFrom('ann', 'bob'),
      stored: fc.constantFrom('same', 'same', 'same', 'absent', 'other-body', 'other-cmid'),
      acked: fc.boolean(),
      ackSeqShift: fc.constantFrom(0, 0, 0, 0, 1),
      retriedAs: fc.option(fc.integer({ min: 1, max: 10 }), { freq: 5 }),
      shownOn: fc.subarray(['ann', 'bob']),
      wrongBody: fc.constantFrom(false, false, false, false, true),
    });
    fc.assert(
      fc.property(
        fc.array(messageArb, { minLength: 1, maxLength: 10 }),
        fc.integer({ min: 0, max: 60 }),
        fc.array(fc.boolean(), { minLength: 10, maxLength: 10 }),
        fc.record({
          kind: fc.constantFrom('none', 'lose', 'body', 'cmid'),
          seq: fc.integer({ min: 1, max: 10 }),
        }),
        (specs, readAfter, readSeqs, afterRead) => {
          const sent = specs.map((spec, i) => message('g', i + 1, spec.from));
          const original: Message[] = [];
          specs.forEach((spec, i) => {
            const m = sent[i]!;
            if (spec.stored === 'same') original.push(m);
            if (spec.stored === 'other-body') original.push({ ...m, body: 'the store changed it' });
            if (spec.stored === 'other-cmid') original.push({ ...m, cmid: 'someone-else' });
          });
          const events: HistoryEvent[] = [...setup];
          specs.forEach((spec, i) => {
            const m = sent[i]!;
            const by = device(spec.from);
            const at = 10 + i * 10;
            events.push(history.send(at, by, m));
            if (spec.acked) events.push(history.ack(at + 1, by, { ...m, seq: m.seq + spec.ackSeqShift }));
            for (const user of spec.shownOn)
              events.push(
                history.display(at + 2, device(user), spec.wrongBody ? { ...m, body: 'shown wrong' } : m),
              );
            if (spec.retriedAs !== null) events.push(history.ack(at + 3, by, { ...m, seq: spec.retriedAs }));
          });
          const read = original.filter((m) => readSeqs[m.seq - 1]);
          const at = Math.min(readAfter, events.length);
          const steps: Step[] = [...events.slice(0, at), { read, at: 1000 }, ...events.slice(at)];
          const final = original
            .filter((m) => !(afterRead.kind === 'lose' && m.seq === afterRead.seq))
            .map((m) =>
              m.seq !== afterRead.seq
                ? m
                : afterRead.kind === 'body'
                  ? { ...m, body: 'changed later' }
                  : afterRead.kind === 'cmid'
                    ? { ...m, cmid: 'changed-later' }
                    : m,
            );
          const withReads = verdicts(judge(steps, final));
          const finalOnly = verdicts(judge(steps, final, false));
          if (afterRead.kind === 'none') expect(withReads).toEqual(finalOnly);
          // A store that changed after the read: never weaker than the final read alone; stricter only
          // where the read itself showed a message disagreeing with a claim (then lost or changed).
          else
            for (const [property, verdict] of Object.entries(finalOnly))
              if (verdict === 'fail') expect(withReads[property], property).toBe('fail');
        },
      ),
      { numRuns: 400 },
    );
  });
});
