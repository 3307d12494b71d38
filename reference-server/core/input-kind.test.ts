// The classifier names each step's kind the same way live (text frames) and in the simulator (decoded
// frames), and knows which operation a `stored` answer answers from the store effect that left.

import { describe, expect, it } from 'vitest';
import { InputClassifier } from './input-kind.ts';

describe('InputClassifier', () => {
  it('names frames by type, text or decoded alike; anything else is frame-other', () => {
    const c = new InputClassifier();
    expect(c.kindOf({ type: 'text', conn: 1, text: '{"t":"send","conv":"c","cmid":"a","body":"x"}' })).toBe(
      'send',
    );
    expect(c.kindOf({ type: 'text', conn: 1, text: '{ "t" : "delivered", "conv":"c","seq":3}' })).toBe(
      'delivered',
    );
    expect(c.kindOf({ type: 'frame', conn: 1, value: { t: 'watch', users: [] } })).toBe('watch');
    expect(c.kindOf({ type: 'text', conn: 1, text: '{"t":"nope"}' })).toBe('frame-other');
    expect(c.kindOf({ type: 'text', conn: 1, text: 'not json' })).toBe('frame-other');
    expect(c.kindOf({ type: 'frame', conn: 1, value: null })).toBe('frame-other');
    expect(c.kindOf({ type: 'binary', conn: 1 })).toBe('frame-other');
    expect(c.kindOf({ type: 'open', conn: 1 })).toBe('open');
    expect(c.kindOf('tick')).toBe('tick');
  });

  it('counts effect features and names stored answers by the op that left', () => {
    const c = new InputClassifier();
    const features = [0, 0, 0, 0];
    c.effects(
      [
        { type: 'send', to: [1, 2, 3], frame: { t: 'pong' } as never },
        { type: 'send', to: [4], frame: { t: 'pong' } as never },
        { type: 'store', id: 7, op: { kind: 'read', request: {} as never } },
        { type: 'store', id: 8, op: { kind: 'cursor', request: {} as never } },
        { type: 'publish', event: { kind: 'node-up', origin: 'n1' } },
        { type: 'wake', at: 5 },
      ],
      features,
    );
    expect(features).toEqual([2, 4, 2, 1]);
    expect(c.kindOf({ type: 'stored', id: 8, outcome: { status: 'unavailable' } })).toBe('stored-cursor');
    expect(c.kindOf({ type: 'stored', id: 7, outcome: { status: 'unavailable' } })).toBe('stored-read');
    c.effects([{ type: 'store', id: 9, op: { kind: 'members', request: {} as never } }], features);
    c.reset();
    // After a crash the in-flight op is forgotten: the answer counts as the commonest, an append.
    expect(c.kindOf({ type: 'stored', id: 9, outcome: { status: 'unavailable' } })).toBe('stored-append');
  });
});
