import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { type FinalStateData, finalStateFixture } from './final-state-fixture.ts';
import { device, history } from './history-fixture.ts';
import { createPresenceConvergenceChecker } from './presence-convergence.ts';
import type { WitnessCase } from './witness-list.ts';

const ann = device('ann');
const bob = device('bob');
const judge = (events: HistoryEvent[], final: FinalStateData = {}) =>
  checkHistory(
    [createPresenceConvergenceChecker()],
    events,
    finalStateFixture({ devices: [ann, bob], online: ['ann', 'bob'], ...final }),
  )[0]!;

describe('presence-convergence', () => {
  it("passes when each device's last view matches the end, whatever flapped before", () => {
    const result = judge([
      history.presence(1, ann, 'bob', true),
      history.presence(2, ann, 'bob', false),
      history.presence(3, ann, 'cat', true),
      history.phase(4, 'settle'),
      history.presence(5, ann, 'bob', true),
      history.presence(6, ann, 'cat', false),
      history.presence(7, bob, 'ann', true),
    ]);
    expect(result).toMatchObject({ property: 'presence-convergence', verdict: 'pass', witness: [] });
    expect(result.details).toMatch(/3 views judged/);
  });

  it('fails a device left showing a user online who went offline, naming its last view', () => {
    const result = judge([history.presence(1, ann, 'cat', true), history.phase(4, 'settle')]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 stale online/);
    expect((result.witness as WitnessCase[])[0]!.path).toEqual([
      { k: 'presence-seen', at: 1, user: 'ann', device: 'd1', of: 'cat', online: true },
      { k: 'final', at: 1_000_000, of: 'cat', online: false },
    ]);
  });

  it('fails a device that never learnt a user came back online', () => {
    const result = judge([history.presence(1, ann, 'bob', false)]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/1 stale offline/);
  });

  const bobSeesAnn = history.presence(2, bob, 'ann', false);

  it('does not judge the views of a device whose user is offline at the end', () => {
    const result = judge([history.presence(1, ann, 'bob', false), bobSeesAnn], { online: ['bob'] });
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/1 views judged of 2/);
  });

  it('does not judge the views of a device that left the run', () => {
    const result = judge([history.presence(1, device('ann', 'd2'), 'bob', false), bobSeesAnn], {
      online: ['bob'],
    });
    expect(result.verdict).toBe('pass');
    expect(result.details).toMatch(/1 views judged of 2/);
  });

  it('fails with "nothing judged" when watches were sent and no presence came back', () => {
    // A server that never answers `watch` must not pass presence.
    const result = judge([history.watchSent(1, ann, ['bob']), history.watchSent(1, bob, ['ann'])]);
    expect(result.verdict).toBe('fail');
    expect(result.details).toMatch(/^nothing judged: 2 watch requests but no presence views/);
    const unjudgeable = judge([history.watchSent(1, ann, ['bob']), history.presence(2, ann, 'bob', true)], {
      online: ['bob'],
    });
    expect(unjudgeable.verdict).toBe('fail');
  });

  it('cannot pass a run that watched no one', () => {
    const result = judge([]);
    expect(result.verdict).toBe('unknown');
    expect(result.details).toMatch(/^could not judge: not exercised/);
  });

  it('says unknown for stale views when the run did not settle', () => {
    const result = judge([history.presence(1, ann, 'bob', false)], {
      online: ['ann', 'bob'],
      settledAt: null,
    });
    expect(result.verdict).toBe('unknown');
  });
});
