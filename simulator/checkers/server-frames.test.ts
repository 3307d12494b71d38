import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { checkHistory } from './check-history.ts';
import { finalStateFixture } from './final-state-fixture.ts';
import { device, history } from './history-fixture.ts';
import { createServerFramesChecker } from './server-frames.ts';

const ann = device('ann');
const judge = (events: HistoryEvent[]) =>
  checkHistory([createServerFramesChecker()], events, finalStateFixture())[0]!;

describe('server-frames', () => {
  it('passes welcomes with nothing malformed, and fails a malformed welcome or err with its problem', () => {
    const clean = judge([history.session(10, ann), history.session(20, ann)]);
    expect(clean.verdict).toBe('pass');
    expect(clean.details).toMatch(/2 welcomes judged/);
    const bad = judge([
      history.session(10, ann),
      { k: 'bad-frame', at: 30, t: 'err', problem: 'ref "" is neither a cmid nor a frame type', ...ann },
    ]);
    expect(bad.verdict).toBe('fail');
    expect(bad.details).toMatch(/1 malformed err/);
    expect(JSON.stringify(bad.witness[0])).toMatch(/ann\/.* got a malformed err: ref \\"\\"/);
  });

  it('cannot pass a run with no session at all', () => {
    expect(judge([]).verdict).toBe('unknown');
  });
});
