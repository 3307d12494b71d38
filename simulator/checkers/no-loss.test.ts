import fc from 'fast-check';
import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { type FinalStateData, finalStateFixture } from './final-state-fixture.ts';
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

const world: FinalStateData = { devices: [ann1, ann2, bob, cat], messages: [m1, m2] };

/** ann and bob from the start; once seq 1 is acked the admin removes bob and adds cat; then seq 2. */
const sequenced: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.durable(1, m1),
  history.ack(2, bob, m1, 1),
  history.membersSent(2.2, 1, 'g', { remove: ['bob'], add: ['cat'] }),
  history.membersAnswered(2.4, 1, 200, 1),
  history.durable(3, m2),
  history.ack(4, ann1, m2, 2.5),
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
  it('passes when every member device displayed every message it surely could read', () => {
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
      expect.objectContaining({
        k: 'missing',
        user: 'ann',
        device: 'd2',
        conv: 'g',
        seqs: [2],
        count: 1,
        newestDisplayed: 1,
        deliveredCursor: 0,
      }),
    ]);
  });

  it('does not count displays made after the final phase began', () => {
    const late = allDisplays.filter((event) => !(event.k === 'display' && event.user === 'cat'));
    const result = judge([...sequenced, ...late, history.phase(30, 'final'), ...displaysOf(cat, 2)]);
    expect(result.verdict).toBe('fail');
    expect(firstCase(result).path.at(-1)).toMatchObject({ user: 'cat', seqs: [2], newestDisplayed: 0 });
  });

  it('classifies an acked message missing from the store as lost from the store', () => {
    const m3 = message('g', 3, 'cat');
    const result = judge([...sequenced, history.ack(20, cat, m3), ...allDisplays]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/^3 violations: 3 lost from the store/);
    expect(firstCase(result).path).toEqual([
      { k: 'ack', at: 20, user: 'cat', device: 'd1', conv: 'g', seq: 3 },
      expect.objectContaining({ k: 'missing', seqs: [3] }),
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

  it('names loss as loss when the run did not settle: which devices, which seqs, where each stood', () => {
    const cursor = history.cursorSent(15, ann1, 'g', 'delivered', 1);
    const result = judge([...sequenced, ...displaysOf(ann1, 1), cursor], { ...world, settledAt: null });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/did not settle/);
    expect(result.details).toMatch(/4 never delivered/);
    expect(firstCase(result).path.at(-1)).toMatchObject({
      user: 'ann',
      device: 'd1',
      seqs: [2],
      newestDisplayed: 1,
      deliveredCursor: 1,
    });
    const devices = (result.witness as WitnessCase[]).map((c) => c.path.at(-1));
    expect(devices).toEqual([
      expect.objectContaining({ user: 'ann', device: 'd1', seqs: [2] }),
      expect.objectContaining({ user: 'ann', device: 'd2', seqs: [1, 2] }),
      expect.objectContaining({ user: 'bob', device: 'd1', seqs: [1] }),
      expect.objectContaining({ user: 'cat', device: 'd1', seqs: [2] }),
    ]);
  });

  it('expects nothing of a seq the harness cannot place on either side of a change', () => {
    // No claim, and ann's seq 2 was first sent before the answer came back: it may precede cat's join.
    const vague = sequenced.map((event) =>
      event.k === 'members-answered'
        ? history.membersAnswered(2.4, 1, 200)
        : event.k === 'ack' && event.seq === 2
          ? history.ack(4, ann1, m2, 2.3)
          : event,
    );
    const withoutCat = allDisplays.filter((event) => !(event.k === 'display' && event.user === 'cat'));
    expect(judge([...vague, ...withoutCat]).verdict).toBe('pass');
    // Sent after the answer (or the server's consistent claim): seq 2 follows the join, cat must have it.
    const sentAfter = vague.map((event) =>
      event.k === 'ack' && event.seq === 2 ? history.ack(4, ann1, m2, 2.5) : event,
    );
    expect(judge([...sentAfter, ...withoutCat]).verdict).toBe('fail');
    expect(judge([...sequenced, ...withoutCat]).verdict).toBe('fail');
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
          messages,
        };
        const durable = [history.conv(0, 'g', members), ...messages.map((m) => history.durable(0, m))];
        expect(judge([...durable, ...events], final).verdict).toBe('pass');
        const displays = events.filter((event) => event.k === 'display');
        const dropped = displays[pick % displays.length]!;
        const result = judge([...durable, ...events.filter((event) => event !== dropped)], final);
        expect(result.verdict).toBe('fail');
        expect(firstCase(result).path.at(-1)).toMatchObject({
          k: 'missing',
          user: dropped.user,
          device: dropped.device,
          seqs: [dropped.message.seq],
        });
      }),
    );
  });
});
