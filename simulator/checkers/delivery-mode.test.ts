import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { createDeliveryModeChecker } from './delivery-mode.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';

const ann = device('ann');
const bob = device('bob');
const judge = (events: HistoryEvent[]) =>
  checkHistory([createDeliveryModeChecker({ largeGroupThreshold: 2 })], events, finalStateFixture())[0]!;

/** `small` has 2 members (at the threshold: small), `big` 3 (above it: large); bob sends in each. */
const setup: HistoryEvent[] = [
  history.conv(0, 'small', ['ann', 'bob']),
  history.conv(0, 'big', ['ann', 'bob', 'cy']),
  history.ack(1, bob, message('small', 1, 'bob')),
  history.ack(1, bob, message('big', 1, 'bob')),
];

describe('delivery-mode', () => {
  it('passes msg in small conversations, notify in large ones, receipts only in small ones', () => {
    const result = judge([
      ...setup,
      history.convFrame(2, ann, 'small', 'msg', [1]),
      history.convFrame(2, ann, 'big', 'notify'),
      history.convFrame(3, bob, 'small', 'receipt'),
    ]);
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/^3 frames judged/);
  });

  it('fails a notify in a small conversation, a pushed msg or a receipt in a large group', () => {
    expect(judge([...setup, history.convFrame(2, ann, 'small', 'notify')]).details).toMatch(
      /1 notify in a small conversation/,
    );
    expect(judge([...setup, history.convFrame(2, ann, 'big', 'msg', [1])]).details).toMatch(
      /1 msg pushed in a large group/,
    );
    expect(judge([...setup, history.convFrame(2, ann, 'big', 'receipt')]).details).toMatch(
      /1 receipt in a large group/,
    );
  });

  it('does not judge a conversation whose membership the harness changed, nor one it did not create', () => {
    const changed = history.membersSent(1, 7, 'big', { remove: ['cy'] });
    expect(
      judge([
        ...setup,
        changed,
        history.convFrame(2, ann, 'big', 'msg', [1]),
        history.convFrame(2, ann, 'small', 'msg', [1]),
      ]).verdict,
    ).toBe('pass');
    expect(
      judge([
        ...setup,
        history.convFrame(2, ann, 'elsewhere', 'notify'),
        history.convFrame(2, ann, 'small', 'msg', [1]),
      ]).verdict,
    ).toBe('pass');
  });

  it('cannot pass when sends were acked and nothing came, nor when nothing was sent', () => {
    expect(judge(setup).details).toMatch(/^nothing judged: 2 acked sends/);
    expect(judge([history.conv(0, 'small', ['ann', 'bob'])]).verdict).toBe('unknown');
  });
});
