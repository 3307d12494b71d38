import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { type FinalStateData, finalStateFixture, membersFromStart } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { interleavedDisplays } from './interleaved-displays.ts';
import { createNoLossChecker } from './no-loss.ts';
import type { WitnessCase } from './witness-list.ts';

const ann1 = device('ann', 'd1');
const ann2 = device('ann', 'd2');
const bob = device('bob');
const cat = device('cat');
const m1 = message('g', 1, 'bob');
const m2 = message('g', 2, 'ann');

/** ann from the start, bob removed after seq 1, cat added after it. */
const world: FinalStateData = {
  devices: [ann1, ann2, bob, cat],
  membership: {
    g: {
      ann: [{ from: 1, to: null }],
      bob: [{ from: 1, to: 1 }],
      cat: [{ from: 2, to: null }],
    },
  },
  messages: [m1, m2],
};

const sequenced: HistoryEvent[] = [
  history.durable(1, m1),
  history.ack(2, bob, m1),
  history.durable(3, m2),
  history.ack(4, ann1, m2),
];
const displaysOf = (on: ReturnType<typeof device>, ...seqs: number[]) =>
  seqs.map((seq) => history.display(10 + seq, on, seq === 1 ? m1 : m2));
const allDisplays = [
  ...displaysOf(ann1, 1, 2),
  ...displaysOf(ann2, 1, 2),
  ...displaysOf(bob, 1),
  ...displaysOf(cat, 2),
];

const judge = (events: HistoryEvent[], final: FinalStateData = world) =>
  checkHistory([createNoLossChecker()], events, finalStateFixture(final))[0]!;
const firstCase = (result: { witness: unknown[] }) => (result.witness as WitnessCase[])[0]!;

describe('no-loss', () => {
  it('passes when every member device displayed every message of its spans', () => {
    const result = judge([...sequenced, ...allDisplays, history.phase(30, 'final')]);
    expect(result).toMatchObject({ property: 'no-loss', verdict: 'pass', witness: [] });
  });

  it('fails a message never displayed on one device of a member, naming its ack and the device', () => {
    const withoutAnn2Seq2 = allDisplays.filter(
      (event) => !(event.k === 'display' && event.device === 'd2' && event.message.seq === 2),
    );
    const result = judge([...sequenced, ...withoutAnn2Seq2]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 never delivered/);
    expect(firstCase(result).path).toEqual([
      { k: 'durable', at: 3, conv: 'g', seq: 2 },
      { k: 'ack', at: 4, user: 'ann', device: 'd1', conv: 'g', seq: 2 },
      { k: 'missing', user: 'ann', device: 'd2', conv: 'g', seq: 2, newestDisplayed: 1 },
    ]);
  });

  it('does not count displays made after the final phase began', () => {
    const late = allDisplays.filter((event) => !(event.k === 'display' && event.user === 'cat'));
    const result = judge([...sequenced, ...late, history.phase(30, 'final'), ...displaysOf(cat, 2)]);
    expect(result.verdict).toBe('fail');
    expect(firstCase(result).path.at(-1)).toMatchObject({ user: 'cat', seq: 2, newestDisplayed: 0 });
  });

  it('classifies an acked message missing from the store as lost from the store', () => {
    const m3 = message('g', 3, 'cat');
    const result = judge([...sequenced, history.ack(20, cat, m3), ...allDisplays]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/^3 violations: 3 lost from the store/);
    expect(firstCase(result).path).toEqual([
      { k: 'ack', at: 20, user: 'cat', device: 'd1', conv: 'g', seq: 3 },
      expect.objectContaining({ k: 'missing', seq: 3 }),
    ]);
  });

  it('counts a durable message no one acked as one every member must see', () => {
    const m3 = message('g', 3, 'cat');
    const result = judge([...sequenced, history.durable(20, m3), ...allDisplays], {
      ...world,
      messages: [m1, m2, m3],
    });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/3 never delivered/);
  });

  it('says unknown, not fail, for undelivered messages when the run did not settle', () => {
    const result = judge(sequenced, { ...world, settledAt: null });
    expect(result.verdict).toBe('unknown');
    expect(result.details).toMatch(/did not settle/);
    expect(result.witness.length).toBeGreaterThan(0);
  });
});

describe('no-loss over random histories', () => {
  it('passes every interleaving of complete displays, and fails once any one display is missing', () => {
    fc.assert(
      fc.property(interleavedDisplays(), fc.nat(), ({ members, lastSeq, events }, pick) => {
        const messages = Array.from({ length: lastSeq }, (_, i) =>
          message('g', i + 1, members[(i + 1) % members.length]!),
        );
        const final: FinalStateData = {
          devices: members.flatMap((user) => [device(user, 'd0'), device(user, 'd1')]),
          membership: { g: membersFromStart(...members) },
          messages,
        };
        const durable = messages.map((m) => history.durable(0, m));
        expect(judge([...durable, ...events], final).verdict).toBe('pass');
        const displays = events.filter((event) => event.k === 'display');
        const dropped = displays[pick % displays.length]!;
        const result = judge([...durable, ...events.filter((event) => event !== dropped)], final);
        expect(result.verdict).toBe('fail');
        expect(firstCase(result).path.at(-1)).toMatchObject({
          k: 'missing',
          user: dropped.user,
          device: dropped.device,
          seq: dropped.message.seq,
        });
      }),
    );
  });
});
