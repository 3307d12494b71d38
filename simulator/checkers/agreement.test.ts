import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { createAgreementChecker } from './agreement.ts';
import { checkHistory } from './check-history.ts';
import { type FinalStateData, finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import type { WitnessCase } from './witness-list.ts';

const judge = (events: HistoryEvent[], final: FinalStateData = {}) =>
  checkHistory([createAgreementChecker()], events, finalStateFixture(final))[0]!;
const path = (result: { witness: unknown[] }, i = 0) => (result.witness as WitnessCase[])[i]!.path;

const bob = device('bob');
const ann = device('ann');
const m1 = message('g', 1, 'bob');

describe('agreement', () => {
  it('passes a message whose send, durable record, ack, displays and stored copy agree', () => {
    const result = judge(
      [
        history.send(1, bob, m1),
        history.durable(2, m1),
        history.ack(3, bob, m1),
        history.display(4, ann, m1),
        history.display(5, bob, m1, 'own'),
      ],
      { messages: [m1] },
    );
    expect(result).toMatchObject({ property: 'agreement', verdict: 'pass', witness: [] });
  });

  it('fails a message served with a field of the wrong type, even one no other claim compares (ts)', () => {
    // A log record a correct writer never writes, taken by a recovery and served (disk-misdirected-write's
    // foreign forms append-ts and append-body): every claim agrees, the shape does not.
    const infinite = { ...m1, ts: Number.POSITIVE_INFINITY };
    const result = judge([history.send(1, bob, m1), history.durable(2, infinite), history.ack(3, bob, m1)], {
      messages: [m1],
    });
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/durable of a malformed message/);
    expect(path(result)).toEqual([history.durable(2, infinite)]);
    const numberBody = { ...m1, body: 7 as unknown as string };
    const shown = judge([history.display(4, ann, numberBody)], { messages: [numberBody] });
    expect(shown.details).toMatch(/display of a malformed message/);
    expect((shown.witness as WitnessCase[])[0]!.problem).toMatch(/has a body of the wrong type/);
  });

  it('fails a display whose body differs from the durable record, naming both', () => {
    const wrong = history.display(4, ann, { ...m1, body: 'tampered' });
    const result = judge([history.durable(2, m1), wrong]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/display disagreeing on body/);
    expect(path(result)).toEqual([
      expect.objectContaining({ k: 'durable', at: 2, seq: 1, from: 'bob' }),
      wrong,
    ]);
  });

  it('fails two devices that disagree on the sender at a seq, with no durable record seen', () => {
    const second = history.display(5, device('cat'), { ...m1, from: 'ann' });
    const result = judge([history.display(4, ann, m1), second]);
    expect(result.verdict).toBe('fail');
    expect(path(result)).toEqual([
      expect.objectContaining({ k: 'display', user: 'ann', device: 'd1' }),
      second,
    ]);
  });

  it("fails an ack that names another message's seq", () => {
    const m2 = message('g', 2, 'bob');
    const ack = history.ack(3, bob, { ...m2, seq: 1 });
    const result = judge([history.durable(1, m1), history.durable(2, m2), ack]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/ack disagreeing on cmid/);
    expect(path(result).at(-1)).toBe(ack);
  });

  it('fails a message stored with another body than its sender sent', () => {
    const ack = history.ack(3, bob, m1);
    const result = judge([
      history.send(1, bob, { ...m1, body: 'what bob typed' }),
      history.durable(2, m1),
      ack,
    ]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/ack disagreeing on body/);
    expect(path(result).at(-1)).toBe(ack);
  });

  it('fails a store whose final read holds another message at an acked seq', () => {
    const other = message('g', 1, 'cat');
    const result = judge([history.durable(2, m1), history.ack(3, bob, m1)], { messages: [other] });
    expect(result.verdict).toBe('fail');
    expect(path(result).at(-1)).toEqual({ k: 'stored', message: other });
  });

  it('forgets a failed send, so a later ack of the same cmid is judged on from and cmid alone', () => {
    const failed = history.failed(2, bob, 'g', m1.cmid, 'rate_limited');
    const result = judge([
      history.send(1, bob, { ...m1, body: 'x' }),
      failed,
      history.durable(3, m1),
      history.ack(4, bob, m1),
    ]);
    expect(result.verdict).toBe('pass');
  });
});
