import { describe, expect, it } from 'vitest';
import { ClientDriver, message, summary } from './client-driver.ts';
import type { AdversaryBehaviour } from './limits.ts';

function adversary(behaviours: AdversaryBehaviour[], extra: Record<string, unknown> = {}) {
  let id = 100;
  return new ClientDriver(
    { adversary: behaviours, foreignConvs: ['secret'], adversaryEveryMs: 1000, jitter: false, ...extra },
    { attemptId: () => id++, badToken: (now) => `forged-at-${now}` },
  );
}

function attempts(d: ClientDriver) {
  return d.history('attempt').map((e) => [e.id, e.action, e.conv]);
}

function outcomes(d: ClientDriver) {
  return d.history('outcome').map((e) => [e.id, e.result]);
}

describe('adversarial client', () => {
  it('needs run-wide attempt ids, and a bad token source for forged-token', () => {
    expect(() => new ClientDriver({ adversary: ['foreign-send'] })).toThrow(/attemptId/);
    expect(() => new ClientDriver({ adversary: ['forged-token'] }, { attemptId: () => 1 })).toThrow(
      /badToken/,
    );
  });

  it('foreign-send: records the attempt and the error code the server answers', () => {
    const d = adversary(['foreign-send']);
    d.open([]);
    d.take();
    d.advance(1000);
    expect(d.take()).toEqual([{ t: 'send', conv: 'secret', cmid: 'd1-f1', body: 'adversarial' }]);
    expect(attempts(d)).toEqual([[100, 'foreign-send', 'secret']]);
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'd1-f1' });
    expect(outcomes(d)).toEqual([[100, 'forbidden']]);
    d.advance(1000);
    d.receive({ t: 'ack', conv: 'secret', cmid: 'd1-f2', seq: 9, ts: 1 });
    expect(outcomes(d)).toEqual([
      [100, 'forbidden'],
      [101, 'accepted'],
    ]);
    expect(d.history('ack')).toEqual([]);
    expect(d.history('display')).toEqual([]);
  });

  it('foreign-sync: a batch with messages is accepted, reported as conv-frame and never displayed', () => {
    const d = adversary(['foreign-sync']);
    d.open([]);
    d.take();
    d.advance(1000);
    expect(d.take()).toEqual([{ t: 'sync', conv: 'secret', after: 0 }]);
    d.receive({ t: 'batch', conv: 'secret', msgs: [message('secret', 1)], lastSeq: 1, more: false });
    expect(outcomes(d)).toEqual([[100, 'accepted']]);
    expect(d.history('conv-frame')).toMatchObject([{ conv: 'secret', t: 'batch', seqs: [1] }]);
    d.receive({ t: 'msg', ...message('secret', 2) });
    expect(d.history('conv-frame')).toHaveLength(2);
    expect(d.history('display')).toEqual([]);
    expect(d.client.conversations()).toEqual([]);
    d.advance(1000);
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'sync' });
    expect(outcomes(d)).toEqual([
      [100, 'accepted'],
      [101, 'forbidden'],
    ]);
  });

  it('foreign-resume: the next hello resumes the foreign conversation; an err answering hello refuses it', () => {
    const d = adversary(['foreign-resume'], { reconnectBaseMs: 50 });
    d.open([summary('c1', 0)]);
    d.take();
    d.advance(1000);
    expect(d.closes).toBe(1);
    d.advance(0);
    d.open([summary('c1', 0)]);
    const hellos = d.take().filter((f) => f.t === 'hello');
    expect(hellos).toEqual([
      { t: 'hello', token: 'token-at-1000', device: 'd1', resume: { c1: 0, secret: 0 } },
    ]);
    expect(attempts(d)).toEqual([[100, 'foreign-resume', 'secret']]);
    // An err about another conversation, or one that is not a refusal, answers something else.
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'hello', conv: 'c9' });
    d.receive({ t: 'err', code: 'unavailable', message: 'store away', ref: 'hello', conv: 'secret' });
    expect(outcomes(d)).toEqual([]);
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'hello', conv: 'secret' });
    expect(outcomes(d)).toEqual([[100, 'forbidden']]);
  });

  it('foreign-resume: a batch of the foreign conversation is accepted and reported, never displayed', () => {
    const d = adversary(['foreign-resume'], { reconnectBaseMs: 50 });
    d.open([]);
    d.advance(1000);
    d.advance(0);
    d.open([]);
    d.receive({ t: 'batch', conv: 'secret', msgs: [message('secret', 1)], lastSeq: 1, more: false });
    expect(outcomes(d)).toEqual([[100, 'accepted']]);
    expect(d.history('conv-frame')).toMatchObject([{ conv: 'secret', t: 'batch', seqs: [1] }]);
    expect(d.history('display')).toEqual([]);
  });

  it('foreign-typing: types in the foreign conversation, records no typing-sent, takes an err answering typing', () => {
    const d = adversary(['foreign-typing'], { attemptTimeoutMs: 1500 });
    d.open([]);
    d.take();
    d.advance(1000);
    expect(d.take()).toEqual([{ t: 'typing', conv: 'secret', on: true }]);
    expect(attempts(d)).toEqual([[100, 'foreign-typing', 'secret']]);
    expect(d.history('typing-sent')).toEqual([]);
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'typing', conv: 'secret' });
    expect(outcomes(d)).toEqual([[100, 'forbidden']]);
    expect(d.history('refused')).toEqual([]);
    // Silence is a refusal too: a typing has no answer when it works.
    d.advance(1000);
    d.advance(1000);
    d.advance(1000);
    expect(outcomes(d)).toEqual([
      [100, 'forbidden'],
      [101, 'no-answer'],
    ]);
  });

  it('missing-conv: syncs and sends, in one round, to a conversation no one created; records the code or the batch', () => {
    const d = adversary(['missing-conv', 'foreign-sync']);
    d.open([]);
    d.take();
    d.advance(1000);
    expect(d.take()).toEqual([
      { t: 'sync', conv: 'd1-nx', after: 0 },
      { t: 'send', conv: 'd1-nx', cmid: 'd1-m1', body: 'adversarial' },
    ]);
    // An err that does not name the conversation answers a foreign-sync, never this attempt.
    d.receive({ t: 'err', code: 'not_found', message: 'no conversation', ref: 'sync' });
    expect(outcomes(d)).toEqual([]);
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'sync', conv: 'd1-nx' });
    d.receive({ t: 'err', code: 'not_found', message: 'no conversation', ref: 'd1-m1', conv: 'd1-nx' });
    d.advance(1000);
    d.take();
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'sync', conv: 'secret' });
    d.advance(1000);
    expect(d.take()).toEqual([
      { t: 'sync', conv: 'd1-nx', after: 0 },
      { t: 'send', conv: 'd1-nx', cmid: 'd1-m2', body: 'adversarial' },
    ]);
    d.receive({ t: 'batch', conv: 'd1-nx', msgs: [], lastSeq: 0, more: false });
    // A send left unanswered is silence, once the attempt's wait (5 s by default) is over.
    d.advance(5000);
    expect(attempts(d).slice(0, 5)).toEqual([
      [100, 'missing-conv', 'd1-nx'],
      [101, 'missing-conv', 'd1-nx'],
      [102, 'foreign-sync', 'secret'],
      [103, 'missing-conv', 'd1-nx'],
      [104, 'missing-conv', 'd1-nx'],
    ]);
    expect(outcomes(d).filter(([id]) => (id as number) <= 104)).toEqual([
      [100, 'forbidden'],
      [101, 'not_found'],
      [102, 'forbidden'],
      [103, 'empty'],
      [104, 'no-answer'],
    ]);
    expect(d.history('display')).toEqual([]);
  });

  it('watch-past-bound: watches users no one is past the bound, once; their presence is not recorded', () => {
    const d = adversary(['watch-past-bound'], { watchPastBoundUsers: 1002 });
    d.open([]);
    d.take();
    d.advance(1000);
    const watches = d.take();
    expect(watches.map((f) => (f.t === 'watch' ? f.users.length : 0))).toEqual([500, 500, 2]);
    expect(watches[2]).toEqual({ t: 'watch', users: ['d1-w1001', 'd1-w1002'] });
    expect(attempts(d)).toEqual([[100, 'watch-past-bound', '']]);
    d.receive({ t: 'presence', user: 'd1-w1', online: false, lastSeen: 0 });
    expect(d.history('presence-seen')).toEqual([]);
    d.receive({
      t: 'err',
      code: 'bad_request',
      message: 'a connection may watch at most 1001 users',
      ref: 'watch',
    });
    expect(outcomes(d)).toEqual([[100, 'bad_request']]);
    d.advance(1000);
    expect(d.take()).toEqual([]);
    // A server with no bound serves them all: no violation (protocol.md bounds one frame, not a connection).
    const served = adversary(['watch-past-bound'], { watchPastBoundUsers: 3 });
    served.open([]);
    served.advance(1000);
    served.receive({ t: 'presence', user: 'd1-w3', online: false, lastSeen: 0 });
    expect(outcomes(served)).toEqual([[100, 'served']]);
  });

  it('watch-past-bound: at the bound (every user served but the last), watches the first again, owed its presence', () => {
    const d = adversary(['watch-past-bound'], { watchPastBoundUsers: 4 });
    d.open([]);
    d.take();
    d.advance(1000);
    expect(d.take()).toEqual([{ t: 'watch', users: ['d1-w1', 'd1-w2', 'd1-w3', 'd1-w4'] }]);
    for (const user of ['d1-w1', 'd1-w2', 'd1-w3'])
      d.receive({ t: 'presence', user, online: false, lastSeen: 0 });
    d.receive({ t: 'err', code: 'bad_request', message: 'at most 3', ref: 'watch' });
    expect(d.take()).toEqual([{ t: 'watch', users: ['d1-w1'] }]);
    expect(attempts(d)).toEqual([
      [100, 'watch-past-bound', ''],
      [101, 'rewatch-at-bound', ''],
    ]);
    d.receive({ t: 'presence', user: 'd1-w1', online: false, lastSeen: 0 });
    expect(outcomes(d)).toEqual([
      [100, 'bad_request'],
      [101, 'served'],
    ]);
    // A server that refuses the re-watch: its err is the re-watch's outcome.
    const refusing = adversary(['watch-past-bound'], { watchPastBoundUsers: 2 });
    refusing.open([]);
    refusing.advance(1000);
    refusing.receive({ t: 'presence', user: 'd1-w1', online: false, lastSeen: 0 });
    refusing.receive({ t: 'err', code: 'bad_request', message: 'at most 1', ref: 'watch' });
    refusing.receive({ t: 'err', code: 'bad_request', message: 'at most 1', ref: 'watch' });
    expect(outcomes(refusing)).toEqual([
      [100, 'bad_request'],
      [101, 'bad_request'],
    ]);
  });

  it('malformed-text: four texts, a second hello and a binary frame owed bad_request up to the bound, then one past it owed close 4400, then, in the next session, one past 64 KiB owed close 1009', () => {
    const d = adversary(['malformed-text'], { badFramesMax: 6, reconnectBaseMs: 50 });
    d.open([]);
    d.take();
    d.advance(1000);
    expect(d.take()).toEqual([]);
    const texts = () => d.texts.map((t) => (t.length > 65_536 ? 'oversize' : t));
    expect(texts()).toEqual([
      '{"t":"typing","conv":"x","on":true} and more',
      '["typing","x",true]',
      '{"t":"shout","conv":"x"}',
      '{"t":"watch","users":"everyone"}',
      '{"t":"hello","token":"again"}',
    ]);
    // A well-formed typing's bytes, in a binary frame: only the frame's kind is wrong.
    expect(d.binaries.map((b) => new TextDecoder().decode(b))).toEqual([
      '{"t":"typing","conv":"x","on":true}',
    ]);
    expect(attempts(d).map(([, action]) => action)).toEqual([
      'malformed-text',
      'malformed-text',
      'malformed-text',
      'malformed-text',
      'malformed-text',
      'binary-frame',
    ]);
    // As the reference server answers them: no ref for what is no frame, the type for the others.
    d.receive({ t: 'err', code: 'bad_request', message: 'not JSON' });
    d.receive({ t: 'err', code: 'bad_request', message: 'not an object' });
    d.receive({ t: 'err', code: 'bad_request', message: 'unknown type', ref: 'shout' });
    d.receive({ t: 'err', code: 'forbidden', message: 'a wrong answer', ref: 'watch' });
    // A hello's refusal other than bad_request is a foreign resume's, not the second hello's answer.
    d.receive({ t: 'err', code: 'forbidden', message: 'not a member', ref: 'hello' });
    d.receive({ t: 'err', code: 'bad_request', message: 'hello was already received', ref: 'hello' });
    // The frame past the bound waits for the last answer: its close would end an unanswered one's attempt.
    expect(texts()).toHaveLength(5);
    d.receive({ t: 'err', code: 'bad_request', message: 'binary frames are not part of the protocol' });
    expect(texts()[5]).toBe('{"t":"typing","conv":"x","on":true} and more');
    expect(attempts(d).at(-1)?.[1]).toBe('bad-frame-past-limit');
    d.disconnect(4400);
    // The text over 64 KiB goes in the next session, at once.
    d.advance(100);
    d.open([]);
    expect(texts()[6]).toBe('oversize');
    expect(attempts(d).at(-1)?.[1]).toBe('oversize-text');
    d.disconnect(1009);
    expect(outcomes(d)).toEqual([
      [100, 'bad_request'],
      [101, 'bad_request'],
      [102, 'bad_request'],
      [103, 'forbidden'],
      [104, 'bad_request'],
      [105, 'bad_request'],
      [106, 'closed:4400'],
      [107, 'closed:1009'],
    ]);
    // A server that answers the frame past the bound: its answer is the attempt's outcome, and the
    // text over 64 KiB follows on the same connection.
    const lax = adversary(['malformed-text'], { badFramesMax: 1 });
    lax.open([]);
    lax.advance(1000);
    lax.receive({ t: 'err', code: 'bad_request', message: 'not JSON' });
    lax.receive({ t: 'err', code: 'bad_request', message: 'not JSON' });
    expect(lax.texts.map((t) => (t.length > 65_536 ? 'oversize' : t.slice(0, 8)))).toEqual([
      '{"t":"ty',
      '{"t":"ty',
      'oversize',
    ]);
    expect(outcomes(lax)).toEqual([
      [100, 'bad_request'],
      [101, 'bad_request'],
    ]);
  });

  it("malformed-text: never more bad frames on one connection than protocol.md's 10 before the one past the bound", () => {
    const d = adversary(['malformed-text']);
    d.open([]);
    d.advance(1000);
    expect(attempts(d).map(([, action]) => action)).toEqual([
      ...Array(5).fill('malformed-text'),
      'binary-frame',
      ...Array(4).fill('malformed-text'),
    ]);
    expect(d.texts).toHaveLength(7);
    expect(d.binaries).toHaveLength(1);
    // Two JSON objects that are no client frame, sent as the link carries frames (an unknown type, none).
    expect(d.take().slice(-2)).toEqual([
      { t: 'shout', conv: 'x' },
      { conv: 'x', on: true },
    ]);
    for (let i = 0; i < 9; i++) d.receive({ t: 'err', code: 'bad_request', message: 'bad' });
    expect(d.texts).toHaveLength(7);
    d.receive({ t: 'err', code: 'bad_request', message: 'bad' });
    expect(d.texts).toHaveLength(8);
    expect(attempts(d).at(-1)?.[1]).toBe('bad-frame-past-limit');
    // The next round on the same connection (the server never closed it) sends no more within the bound.
    d.advance(7000);
    expect(attempts(d).filter(([, action]) => action !== 'bad-frame-past-limit')).toHaveLength(10);
  });

  it("repeated-hello: the same bad frames, the bound's last and the one past it second hellos (the count kept after a frame parses)", () => {
    const d = adversary(['repeated-hello']);
    d.open([]);
    d.take();
    d.advance(1000);
    expect(attempts(d)).toHaveLength(10);
    // Started where the 10th is the second hello: every kind of bad frame still comes in the round.
    expect(d.texts.at(-1)).toBe('{"t":"hello","token":"again"}');
    expect(d.binaries).toHaveLength(1);
    expect(d.take()).toEqual([
      { t: 'shout', conv: 'x' },
      { conv: 'x', on: true },
    ]);
    for (let i = 0; i < 9; i++) d.receive({ t: 'err', code: 'bad_request', message: 'bad' });
    d.receive({ t: 'err', code: 'bad_request', message: 'hello was already received', ref: 'hello' });
    expect(attempts(d).at(-1)?.[1]).toBe('bad-frame-past-limit');
    expect(d.texts.at(-1)).toBe('{"t":"hello","token":"again"}');
    expect(outcomes(d)).toHaveLength(10);
    expect(new Set(outcomes(d).map(([, result]) => result))).toEqual(new Set(['bad_request']));
  });

  it("malformed-text: other servers' answers", () => {
    // Another server's refs (the minimal server's "unknown" for an unknown type) answer them in order.
    const other = adversary(['malformed-text'], { badFramesMax: 5 });
    other.open([]);
    other.advance(1000);
    other.receive({ t: 'err', code: 'bad_request', message: 'not JSON' });
    other.receive({ t: 'err', code: 'bad_request', message: 'not JSON' });
    other.receive({ t: 'err', code: 'bad_request', message: 'unknown type', ref: 'unknown' });
    other.receive({ t: 'err', code: 'bad_request', message: 'bad users', ref: 'watch' });
    other.receive({ t: 'err', code: 'bad_request', message: 'binary frames are not v1' });
    expect(outcomes(other)).toEqual([
      [100, 'bad_request'],
      [101, 'bad_request'],
      [102, 'bad_request'],
      [103, 'bad_request'],
      [104, 'bad_request'],
    ]);
    // An err of another code with a ref of its own answers something else the device did, not a text
    // (swarm seed 7925195655475: an `unavailable` taken for a text's answer failed authorization).
    const busy = adversary(['malformed-text'], { badFramesMax: 5 });
    busy.open([]);
    busy.advance(1000);
    busy.receive({ t: 'err', code: 'unavailable', message: 'store down', ref: 'd0-9' });
    busy.receive({ t: 'err', code: 'bad_request', message: 'not JSON' });
    expect(outcomes(busy)).toEqual([[100, 'bad_request']]);
  });

  it('forged-token: the very first hello is an attempt', () => {
    const d = adversary(['forged-token'], { reconnectBaseMs: 50 });
    d.start();
    d.apply(d.client.connected(d.now));
    expect(d.take()).toEqual([{ t: 'hello', token: 'forged-at-0', device: 'd1' }]);
    d.disconnect(4401);
    expect(outcomes(d)).toEqual([[100, 'closed:4401']]);
    d.advance(50);
    d.apply(d.client.connected(d.now));
    expect(d.take()).toEqual([{ t: 'hello', token: 'token-at-50', device: 'd1' }]);
  });

  it('forged-token: each round reconnects with the bad token, then with a valid one after the 4401', () => {
    const d = adversary(['forged-token'], { reconnectBaseMs: 50 });
    d.start();
    d.apply(d.client.connected(d.now));
    d.disconnect(4401);
    d.advance(50);
    d.open([]);
    d.advance(1000);
    expect(d.closes).toBe(1);
    d.advance(0);
    expect(d.connects).toBe(3);
    d.take();
    d.apply(d.client.connected(d.now));
    expect(d.take()).toEqual([{ t: 'hello', token: 'forged-at-1050', device: 'd1' }]);
    expect(attempts(d)).toEqual([
      [100, 'forged-token', ''],
      [101, 'forged-token', ''],
    ]);
    d.disconnect(4401);
    expect(outcomes(d)).toEqual([
      [100, 'closed:4401'],
      [101, 'closed:4401'],
    ]);
    d.advance(50);
    d.apply(d.client.connected(d.now));
    expect(d.take()).toEqual([{ t: 'hello', token: 'token-at-1100', device: 'd1' }]);
  });

  it('forged-token: a welcome after the forged hello is reported accepted', () => {
    const d = adversary(['forged-token']);
    d.open([]);
    expect(outcomes(d)).toEqual([[100, 'accepted']]);
  });

  it('cursor-regression: the next welcome shows whether the server moved the cursor back or past lastSeq', () => {
    const d = adversary(['cursor-regression']);
    d.open([summary('c1', 5, 3, 0)]);
    d.take();
    d.advance(1000);
    expect(d.take()).toEqual([
      { t: 'delivered', conv: 'c1', seq: 2 },
      { t: 'delivered', conv: 'c1', seq: 1_000_005 },
    ]);
    expect(attempts(d)).toEqual([
      [100, 'cursor-regression', 'c1'],
      [101, 'cursor-past-last-seq', 'c1'],
    ]);
    d.advance(1000);
    expect(d.closes).toBe(1);
    d.advance(0);
    d.open([summary('c1', 5, 5, 0)]);
    expect(outcomes(d)).toEqual([
      [100, 'ignored'],
      [101, 'clamped'],
    ]);
  });

  it('cursor-regression against a server that obeys: both reported accepted', () => {
    const d = adversary(['cursor-regression']);
    d.open([summary('c1', 5, 3, 0)]);
    d.advance(2000);
    d.advance(0);
    d.open([summary('c1', 5, 1_000_005, 0)]);
    expect(outcomes(d)).toEqual([
      [100, 'ignored'],
      [101, 'accepted'],
    ]);
    const d2 = adversary(['cursor-regression']);
    d2.open([summary('c1', 5, 3, 0)]);
    d2.advance(2000);
    d2.advance(0);
    d2.open([summary('c1', 5, 2, 0)]);
    expect(outcomes(d2)).toEqual([
      [100, 'accepted'],
      [101, 'clamped'],
    ]);
  });

  it('reports attempts cut off by a disconnect, or never answered', () => {
    const d = adversary(['foreign-send'], { attemptTimeoutMs: 1500, reconnectBaseMs: 10 });
    d.open([]);
    d.advance(1000);
    d.disconnect(1006);
    expect(outcomes(d)).toEqual([[100, 'closed:1006']]);
    d.advance(10);
    d.open([]);
    d.advance(1000);
    d.advance(1000);
    d.advance(1000);
    expect(outcomes(d)).toEqual([
      [100, 'closed:1006'],
      [101, 'no-answer'],
    ]);
  });

  it('behaves as an ordinary client in its own conversations', () => {
    const d = adversary(['foreign-send']);
    d.open([summary('c1', 0)]);
    d.receive({ t: 'msg', ...message('c1', 1) });
    expect(d.displayed('c1')).toEqual([1]);
  });
});
