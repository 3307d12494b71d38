import { describe, expect, it } from 'vitest';
import { checkProperties } from '../../scenarios/check-properties.ts';
import type { HistoryEvent } from '../history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { checkHistory, standardCheckers } from './index.ts';

const ann = device('ann');
const bob = device('bob');
const m1 = message('g', 1, 'bob');

/** A whole small run, right in every respect (a burst of one send: the press is served at once). */
const sendLimits = { burst: 1, perSec: 1 };
const run: HistoryEvent[] = [
  history.conv(0, 'g', ['ann', 'bob']),
  history.phase(0, 'warmup'),
  history.session(0, ann),
  history.session(0, bob),
  { k: 'press', at: 1, conv: 'g', count: 1, ...bob },
  { k: 'typing-sent', at: 1, conv: 'g', on: true, ...bob },
  history.send(1, bob, m1),
  { k: 'conv-frame', at: 2, conv: 'g', t: 'typing', of: 'bob', ...ann },
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
const final = finalStateFixture({
  at: 20,
  devices: [ann, bob],
  messages: [m1],
  online: ['ann', 'bob'],
  settledAt: 15,
});

describe('standardCheckers', () => {
  it('judges every property, and a correct run passes them all', () => {
    const results = checkHistory(
      standardCheckers({ graceMs: 500, sendLimits, largeGroupThreshold: 256 }),
      run,
      final,
    );
    // Every property a scenario may name in checks.skip, in the order runs report them.
    expect(results.map((r) => r.property)).toEqual([...checkProperties]);
    expect(results.filter((r) => r.verdict !== 'pass')).toEqual([]);
  });

  it('fails the properties a lost acked message breaks, and only those', () => {
    const lossy = finalStateFixture({
      at: 20,
      devices: [ann, bob],
      online: ['ann', 'bob'],
      settledAt: 15,
    });
    const annNeverSawIt = run.filter((event) => !(event.k === 'display' && event.user === 'ann'));
    const failed = checkHistory(standardCheckers({ sendLimits }), annNeverSawIt, lossy).filter(
      (r) => r.verdict !== 'pass',
    );
    expect(failed.map((r) => [r.property, r.verdict])).toEqual([
      ['no-loss', 'fail'],
      ['durable-ack', 'fail'],
    ]);
    expect(failed[0]!.details).toMatch(/1 lost from the store/);
  });
});
