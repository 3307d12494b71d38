// A whole small run, right in every respect, that touches most checkers' state: ann and bob in group
// g, bob sends m1 (typing first), both see it, ann reads it and syncs, watches bob come and go. A burst
// of one send, so bob's press is served at once. Shared by the tests that feed all standard checkers.

import type { FinalState, HistoryEvent } from '../history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';

export const ann = device('ann');
export const bob = device('bob');
export const m1 = message('g', 1, 'bob');
export const sendLimits = { burst: 1, perSec: 1 };

export const smallRun: readonly HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.phase(0, 'warmup'),
  history.session(0, ann),
  history.session(0, bob),
  { k: 'press', at: 1, conv: 'g', count: 1, ...bob },
  { k: 'typing-sent', at: 1, conv: 'g', on: true, ...bob },
  history.send(1, bob, m1),
  history.typingFrame(2, ann, 'g', 'bob'),
  history.durable(2, m1),
  history.ack(3, bob, m1),
  history.display(4, bob, m1, 'own'),
  history.convFrame(4, ann, 'g', 'msg', [1]),
  history.display(4, ann, m1),
  history.cursorSent(5, ann, 'g', 'read', 1),
  { k: 'sync-sent', at: 5, conv: 'g', after: 0, ...ann },
  { k: 'conv-frame', at: 5.5, conv: 'g', t: 'batch', seqs: [1], lastSeq: 1, more: false, ...ann },
  history.convFrame(6, bob, 'g', 'receipt'),
  history.cursorSeen(6, bob, { conv: 'g', of: 'ann', kind: 'read', seq: 1, lastSeq: 1 }),
  history.watchSent(7, ann, ['bob']),
  history.presence(7, ann, 'bob', true),
  history.presence(8, ann, 'bob', false, 8),
  history.presence(9, ann, 'bob', true, 8),
  history.phase(10, 'settle'),
  history.phase(20, 'final'),
];

/** The small run's final state: m1 stored, both online, settled at 15. */
export function smallRunFinal(): FinalState {
  return finalStateFixture({
    at: 20,
    devices: [ann, bob],
    messages: [m1],
    online: ['ann', 'bob'],
    settledAt: 15,
  });
}
