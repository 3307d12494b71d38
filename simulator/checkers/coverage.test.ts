// Every standard checker refuses to pass a run it could not judge: when the harness sent messages,
// watched users and moved cursors but the server answered nothing, each checker fails with "nothing
// judged" (or, where nothing it judges was ever due, says it could not judge); none says pass.

import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { checkHistory, standardCheckers } from './index.ts';

const ann = device('ann');
const bob = device('bob');

describe('checkers that judged nothing', () => {
  it('fail with "nothing judged" against a server that answers nothing at all', () => {
    const silent: HistoryEvent[] = [
      history.conv(0, 'g', ['ann', 'bob']),
      history.phase(0, 'warmup'),
      { k: 'session', at: 0, connectMs: 1, first: true, ...ann },
      { k: 'session', at: 0, connectMs: 1, first: true, ...bob },
      { k: 'press', at: 1, conv: 'g', count: 150, ...bob },
      { k: 'typing-sent', at: 500, conv: 'g', on: true, ...bob },
      history.send(500, bob, message('g', 1, 'bob')),
      history.send(2, ann, message('g', 2, 'ann')),
      history.watchSent(3, ann, ['bob']),
      history.cursorSent(4, ann, 'g', 'read', 0),
      history.phase(10, 'settle'),
      history.phase(20, 'final'),
    ];
    const final = finalStateFixture({ at: 20, devices: [ann, bob], online: ['ann', 'bob'], settledAt: 15 });
    const results = checkHistory(standardCheckers(), silent, final);
    const byVerdict = Object.fromEntries(results.map((r) => [r.property, r.verdict]));
    expect(byVerdict).toEqual({
      'per-conversation-order': 'fail',
      agreement: 'fail',
      'no-duplicates': 'fail',
      // Nothing was acked, so nothing was due to every member: no-loss cannot judge (durable-ack fails).
      'no-loss': 'unknown',
      'durable-ack': 'fail',
      idempotency: 'fail',
      'gap-free-store': 'fail',
      authorization: 'fail',
      'cursor-monotonicity': 'fail',
      'presence-convergence': 'fail',
      // No watched user came or went, so no change was due (the unanswered watch fails convergence).
      'presence-changes': 'unknown',
      'rate-limit': 'fail',
      // No sync was sent and no welcome listed a conversation: no page was due, so none was judged.
      'read-pages': 'unknown',
      'typing-recipients': 'fail',
      // The welcomes came, well-formed: that is all this server said.
      'server-frames': 'pass',
      // Requests were made on connections no fault touched, and none was answered `unavailable`.
      'no-spurious-unavailable': 'pass',
      liveness: 'pass',
    });
    for (const r of results.filter((r) => r.verdict === 'fail'))
      expect(r.details, r.property).toMatch(/^nothing judged: \d+ /);
  });

  it('say they could not judge, never pass, when the run exercised nothing', () => {
    const idle: HistoryEvent[] = [history.conv(0, 'g', ['ann', 'bob']), history.phase(10, 'settle')];
    const final = finalStateFixture({ at: 20, devices: [ann, bob], online: ['ann', 'bob'], settledAt: 15 });
    const results = checkHistory(standardCheckers(), idle, final).filter((r) => r.property !== 'liveness');
    expect(results.filter((r) => r.verdict !== 'unknown').map((r) => r.property)).toEqual([]);
    for (const r of results) expect(r.details).toMatch(/^could not judge: not exercised/);
  });
});
