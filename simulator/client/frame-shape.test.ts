import { describe, expect, it } from 'vitest';
import type { ErrFrame, WelcomeFrame } from '../../reference-server/protocol/frames.ts';
import { ClientDriver, summary } from './client-driver.ts';
import { errProblem, welcomeProblem } from './frame-shape.ts';

const welcome = (convs: unknown[], over: Partial<WelcomeFrame> = {}): WelcomeFrame => ({
  t: 'welcome',
  user: 'u1',
  conn: 'n1:7',
  node: 'n1',
  heartbeatMs: 10_000,
  convs: convs as WelcomeFrame['convs'],
  ...over,
});
const entry = { conv: 'g1', lastSeq: 4, delivered: 3, read: 2 };

describe('welcomeProblem', () => {
  it('passes a welcome with current and past entries', () => {
    expect(welcomeProblem(welcome([entry, { ...entry, conv: 'g2', member: false }]), 'u1')).toBeNull();
    expect(welcomeProblem(welcome([]), 'u1')).toBeNull();
  });

  it('names an entry that is not an object, or lacks an id or a seq (mutation run 8: `{}`, a string)', () => {
    expect(welcomeProblem(welcome([entry, {}]), 'u1')).toMatch(/entry \{\}: conv is not a conversation id/);
    expect(welcomeProblem(welcome(['Stryker was here', entry]), 'u1')).toMatch(/is not an object/);
    expect(welcomeProblem(welcome([{ ...entry, read: -1 }]), 'u1')).toMatch(/read is not a seq/);
    expect(welcomeProblem(welcome([{ ...entry, member: 'no' }]), 'u1')).toMatch(/member is not a boolean/);
  });

  it('names a conversation listed twice, current twice or current beside member: false (seed-4 mutants 2075, 2108)', () => {
    expect(welcomeProblem(welcome([entry, { ...entry, conv: 'g2' }, entry]), 'u1')).toMatch(
      /convs lists "g1" twice/,
    );
    expect(welcomeProblem(welcome([entry, { ...entry, member: false }]), 'u1')).toMatch(/"g1" twice/);
    // Past the pairwise bound the same judgement by a set.
    const many = Array.from({ length: 40 }, (_, i) => ({ ...entry, conv: `g${i}` }));
    expect(welcomeProblem(welcome(many), 'u1')).toBeNull();
    expect(welcomeProblem(welcome([...many, { ...entry, conv: 'g39', member: false }]), 'u1')).toMatch(
      /"g39" twice/,
    );
  });

  it('names a wrong user, an empty connection or node id, a heartbeat that is not positive', () => {
    expect(welcomeProblem(welcome([]), 'u2')).toMatch(/signed in as u2/);
    expect(welcomeProblem(welcome([], { conn: '' }), 'u1')).toMatch(/conn "" is not a connection id/);
    expect(welcomeProblem(welcome([], { node: '' }), 'u1')).toMatch(/node/);
    expect(welcomeProblem(welcome([], { heartbeatMs: 0 }), 'u1')).toMatch(/heartbeatMs 0/);
  });
});

describe('errProblem', () => {
  const err = (over: Partial<ErrFrame>): ErrFrame => ({
    t: 'err',
    code: 'forbidden',
    message: 'no',
    ...over,
  });

  it('passes errs with or without ref, conv and retryAfterMs', () => {
    expect(errProblem(err({}))).toBeNull();
    expect(errProblem(err({ ref: 'sync', conv: 'g1' }))).toBeNull();
    expect(
      errProblem(err({ code: 'rate_limited', ref: 'd0-17', retryAfterMs: 20, conv: 'd1-2' })),
    ).toBeNull();
  });

  it('names an empty ref (mutation run 8), a code that is not a socket one, a negative retry, a bad conv', () => {
    expect(errProblem(err({ ref: '' }))).toMatch(/ref "" is neither a cmid nor a frame type/);
    expect(errProblem(err({ code: 'conflict' }))).toMatch(/not a socket error code/);
    expect(errProblem(err({ code: 'rate_limited', retryAfterMs: -1 }))).toMatch(/retryAfterMs -1/);
    expect(errProblem(err({ conv: '' }))).toMatch(/conv ""/);
  });
});

describe('the virtual client', () => {
  it('records a malformed welcome or err as a bad-frame event, and handles the frame as before', () => {
    const d = new ClientDriver();
    d.open([summary('g1', 0), {} as ReturnType<typeof summary>]);
    expect(d.client.connectionState).toBe('open');
    d.receive({ t: 'err', code: 'forbidden', message: 'no', ref: '', conv: 'g9' });
    d.receive({ t: 'err', code: 'forbidden', message: 'no', ref: 'sync', conv: 'g9' });
    expect(d.history('bad-frame').map((e) => [e.t, e.problem])).toEqual([
      ['welcome', 'convs entry {}: conv is not a conversation id'],
      ['err', 'ref "" is neither a cmid nor a frame type'],
    ]);
  });
});
