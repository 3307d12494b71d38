// The hello timeout (protocol: the first frame must be `hello` within 5 s, else close 4408) judges
// whether a hello came, not how long the node took to verify it: a busy node's verifications queue, and
// a client that said hello in time must not be cut as if it had not.

import { describe, expect, it } from 'vitest';
import { CloseCode } from '../protocol/codes.ts';
import { ChatNode } from './chat-node.ts';
import type { Effect } from './effects.ts';
import type { Input } from './inputs.ts';

const helloTimeoutMs = 5000;

function harness() {
  const node = new ChatNode({ nodeId: 'n1', publishes: false, limits: { helloTimeoutMs } });
  const effects: Effect[] = [];
  return {
    input(input: Input, now: number) {
      effects.push(...node.handle(input, now));
    },
    tick(now: number) {
      effects.push(...node.tick(now));
    },
    closes: () => effects.filter((e) => e.type === 'close').map((e) => (e as { code: number }).code),
    welcomed: (conn: number) =>
      effects.some((e) => e.type === 'send' && e.to.includes(conn) && e.frame.t === 'welcome'),
  };
}

describe('hello timeout', () => {
  it('closes 4408 a connection that sent nothing by the deadline', () => {
    const h = harness();
    h.input({ type: 'open', conn: 1 }, 0);
    h.tick(helloTimeoutMs - 1);
    expect(h.closes()).toEqual([]);
    h.tick(helloTimeoutMs);
    expect(h.closes()).toEqual([CloseCode.helloTimeout]);
  });

  it('welcomes a hello that came in time though its verification ended after the deadline', () => {
    const h = harness();
    h.input({ type: 'open', conn: 1 }, 0);
    h.input({ type: 'frame', conn: 1, value: { t: 'hello', token: 't' } }, 1000);
    h.tick(helloTimeoutMs + 2000);
    expect(h.closes()).toEqual([]);
    h.input({ type: 'verified', conn: 1, claims: { sub: 'u1', admin: false } }, helloTimeoutMs + 2500);
    expect(h.welcomed(1)).toBe(true);
    expect(h.closes()).toEqual([]);
  });
});
