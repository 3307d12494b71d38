import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { type FinalStateData, finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { createIdempotencyChecker } from './idempotency.ts';
import type { WitnessCase } from './witness-list.ts';

const judge = (events: HistoryEvent[], final: FinalStateData = {}) =>
  checkHistory([createIdempotencyChecker()], events, finalStateFixture(final))[0]!;
const path = (result: { witness: unknown[] }) => (result.witness as WitnessCase[])[0]!.path;

const bob = device('bob');
const ann = device('ann');
const m1 = message('g', 1, 'bob', { cmid: 'c1' });

describe('idempotency', () => {
  it('passes a key acked twice (a retry) with one seq, and two senders sharing a cmid with two seqs', () => {
    const annsC1 = message('g', 2, 'ann', { cmid: 'c1' });
    const result = judge(
      [
        history.durable(1, m1),
        history.ack(2, bob, m1),
        history.ack(3, bob, m1),
        history.durable(4, annsC1),
        history.ack(5, ann, annsC1),
      ],
      { messages: [m1, annsC1] },
    );
    expect(result).toMatchObject({ property: 'idempotency', verdict: 'pass', witness: [] });
  });

  it('fails a retried send stored twice, naming the second durable record', () => {
    const again = history.durable(5, { ...m1, seq: 2 });
    const result = judge([history.durable(1, m1), history.ack(2, bob, m1), again]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 key with two seqs/);
    expect(path(result)).toEqual([
      expect.objectContaining({ k: 'durable', at: 1, seq: 1, cmid: 'c1' }),
      again,
    ]);
  });

  it('fails a retry acked with another seq than the first ack', () => {
    const second = history.ack(9, bob, { ...m1, seq: 4 });
    const result = judge([history.ack(2, bob, m1), second]);
    expect(result.verdict).toBe('fail');
    expect(path(result).at(-1)).toBe(second);
  });

  it('fails a send made again after its ack (an app that lost the ack) acked with a new seq or ts, and passes the same ack', () => {
    const same = judge([history.durable(1, m1), history.ack(2, bob, m1), history.resentAck(9, bob, m1)], {
      messages: [m1],
    });
    expect(same).toMatchObject({ verdict: 'pass', details: expect.stringMatching(/^4 claims/) });
    for (const answer of [
      { ...m1, seq: 7 },
      { ...m1, ts: m1.ts + 1 },
    ]) {
      const again = history.resentAck(9, bob, answer, { seq: m1.seq, ts: m1.ts }, 8);
      // The first ack's key was dropped by a read during the run: the resend's own record of it judges.
      const result = judge([again], { messages: [m1] });
      expect(result.verdict).toBe('fail');
      expect(result.details).toMatch(/1 send made again acked differently/);
      expect(path(result)).toEqual([again]);
    }
  });

  it('fails a send made again after its ack answered with an err other than "not a member", or "not now" for good', () => {
    const acked = [history.durable(1, m1), history.ack(2, bob, m1)];
    const allowed = judge(
      [...acked, ...['forbidden', 'not_found'].map((code) => history.resentErr(9, bob, m1, code))],
      { messages: [m1] },
    );
    expect(allowed).toMatchObject({
      verdict: 'pass',
      details: expect.stringMatching(/2 sends made again answered "not a member"/),
    });
    const refused = history.resentErr(9, bob, m1, 'bad_request', { seq: m1.seq, ts: m1.ts }, 8);
    const result = judge([...acked, refused], { messages: [m1] });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 send made again answered with an err/);
    expect(path(result)).toEqual([refused]);
    // "Not now" until the device's retries gave up (it records only then), no fault from the resend on.
    for (const code of ['rate_limited', 'unavailable']) {
      const givenUp = { ...history.resentErr(40_000, bob, m1, code, undefined, 9000), tries: 9 };
      const never = judge([...acked, givenUp], { messages: [m1] });
      expect(never.verdict).toBe('fail');
      expect(never.details).toMatch(/1 send made again never acked/);
      expect(path(never)).toEqual([givenUp]);
    }
  });

  it('does not judge a send made again given up on after "not now" while a fault was open or came', () => {
    const acked = [history.durable(1, m1), history.ack(2, bob, m1)];
    const givenUp = { ...history.resentErr(40_000, bob, m1, 'unavailable', undefined, 9000), tries: 9 };
    const fault = (at: number, phase: 'start' | 'heal'): HistoryEvent => ({
      k: 'fault',
      at,
      type: 'store-outage',
      phase,
    });
    for (const faults of [[fault(8000, 'start')], [fault(20_000, 'start'), fault(25_000, 'heal')]]) {
      const result = judge([...acked, ...faults, givenUp], { messages: [m1] });
      expect(result).toMatchObject({
        verdict: 'pass',
        details: expect.stringMatching(/1 sends made again answered "not now" until given up, under a fault/),
      });
    }
    // A fault healed before the resend leaves it judged.
    const before = judge([...acked, fault(3000, 'start'), fault(5000, 'heal'), givenUp], { messages: [m1] });
    expect(before.verdict).toBe('fail');
  });

  it('fails two senders sharing a cmid who got the same seq (a server keying on cmid alone)', () => {
    const annsAck = history.ack(3, ann, { ...m1, from: 'ann' });
    const result = judge([history.durable(1, m1), history.ack(2, bob, m1), annsAck]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 senders sharing a cmid given one seq/);
    expect(path(result)).toEqual([expect.objectContaining({ k: 'durable', from: 'bob', seq: 1 }), annsAck]);
  });

  it('fails a store whose final read holds a key twice', () => {
    const result = judge([history.durable(1, m1)], { messages: [m1, { ...m1, seq: 2 }] });
    expect(result.verdict).toBe('fail');
    expect(path(result).at(-1)).toEqual({ k: 'stored', message: { ...m1, seq: 2 } });
  });
});
