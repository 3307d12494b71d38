import { describe, expect, it } from 'vitest';
import { checkProperties } from '../../scenarios/check-properties.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { history } from './history-fixture.ts';
import { checkHistory, standardCheckers } from './index.ts';
import { ann, bob, sendLimits, smallRun, smallRunFinal } from './small-run-fixture.ts';

const run = smallRun;
const final = smallRunFinal();

describe('standardCheckers', () => {
  it('judges every property, and a correct run passes them all', () => {
    // With admin requests (admin-answers): a change to a conversation never created, answered 404; with
    // a rolling restart (drain-stop): a node with no session left, drained and stopped at once.
    const results = checkHistory(
      standardCheckers({
        graceMs: 500,
        sendLimits,
        largeGroupThreshold: 256,
        adminRequests: true,
        drainStops: true,
      }),
      [
        ...run,
        history.membersSent(7, 1, 'nowhere', { add: ['ann'] }),
        history.membersAnswered(8, 1, 404),
        { k: 'fault', at: 9, type: 'rolling-restart', phase: 'start', nodes: ['n9'] },
        { k: 'fault', at: 9, type: 'drain-restart', phase: 'start', nodes: ['n9'] },
        { k: 'node-stop', at: 10, node: 'n9', killed: false },
      ],
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
