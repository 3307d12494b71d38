import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { createDurableAckChecker } from './durable-ack.ts';
import { type FinalStateData, finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const judge = (events: HistoryEvent[], final: FinalStateData) =>
  checkHistory([createDurableAckChecker()], events, finalStateFixture(final))[0]!;

const bob = device('bob');
const m1 = message('g', 1, 'bob');
const m2 = message('g', 2, 'bob');

describe('durable-ack', () => {
  it('passes when every acked message is in the store with its sender and cmid', () => {
    const result = judge([history.ack(1, bob, m1), history.ack(2, bob, m2)], { messages: [m1, m2] });
    expect(result).toMatchObject({ property: 'durable-ack', verdict: 'pass', witness: [] });
    expect(result.details).toMatch(/2 acks/);
  });

  it('fails an acked message the store lost, naming the ack', () => {
    const result = judge([history.ack(1, bob, m1), history.ack(7, bob, m2)], { messages: [m1] });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 acked message missing from the store/);
    const [lost] = result.witness as WitnessCase[];
    expect(lost!.path).toEqual([
      expect.objectContaining({ k: 'ack', at: 7, user: 'bob', device: 'd1', conv: 'g', seq: 2 }),
      { k: 'stored', conv: 'g', seq: 2, message: null, storedLastSeq: 1 },
    ]);
  });

  it('fails an acked seq the store reassigned to another message after a crash', () => {
    const other = message('g', 2, 'ann');
    const result = judge([history.ack(1, bob, m1), history.ack(2, bob, m2)], { messages: [m1, other] });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 acked seq holding another message/);
    expect((result.witness as WitnessCase[])[0]!.path[1]).toMatchObject({ message: other });
  });

  it('fails an acked seq the store holds with the same sender but another cmid', () => {
    const result = judge([history.ack(1, bob, m1)], { messages: [{ ...m1, cmid: 'bob-retry-9' }] });
    expect(result.verdict).toBe('fail');
  });
});
