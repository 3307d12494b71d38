import { describe, expect, it } from 'vitest';
import type { StoreOp } from '../core/effects.ts';
import type { Input } from '../core/inputs.ts';
import { type MessageStore, StoreUnavailableError } from '../store/message-store.ts';
import { StoreExecutor } from './store-executor.ts';

type Behaviour = 'ok' | 'reject-unavailable' | 'reject-other' | 'throw';

/** A store whose every operation behaves as `mode` says, recording which method ran. */
function scriptedStore(calls: string[], mode: { current: Behaviour }): MessageStore {
  const answer = (method: string, value: unknown) => {
    calls.push(method);
    if (mode.current === 'throw') throw new TypeError('sync boom');
    if (mode.current === 'reject-unavailable') return Promise.reject(new StoreUnavailableError('down'));
    if (mode.current === 'reject-other') return Promise.reject(new Error('disk on fire'));
    return Promise.resolve(value);
  };
  const conversation = { id: 'c', kind: 'group' as const, lastSeq: 0, members: {}, cursors: {} };
  return {
    open: async () => [],
    append: (r) => answer('append', { status: 'ok', seq: 1, ts: r.ts, duplicate: false }) as never,
    read: () => answer('read', { status: 'ok', messages: [], lastSeq: 0 }) as never,
    createConversation: () => answer('createConversation', { status: 'created', conversation }) as never,
    changeMembers: () => answer('changeMembers', { status: 'not_found' }) as never,
    advanceCursor: () => answer('advanceCursor', { status: 'ok', seq: 3, moved: true }) as never,
    conversations: () => answer('conversations', [conversation]) as never,
    ping: async () => {},
    close: async () => {},
  };
}

const ops: StoreOp[] = [
  { kind: 'append', request: { conv: 'c', from: 'u', cmid: 'm1', body: 'hi', ts: 7 } },
  { kind: 'read', request: { conv: 'c', after: 0, limit: 10 } },
  { kind: 'create', request: { id: 'c', kind: 'group', members: ['u'] } },
  { kind: 'members', request: { conv: 'c', add: ['v'], remove: [] } },
  { kind: 'cursor', request: { conv: 'c', user: 'u', kind: 'read', seq: 3 } },
];

function setup(behaviour: Behaviour) {
  const calls: string[] = [];
  const inputs: Input[] = [];
  const logs: string[] = [];
  const mode = { current: behaviour };
  const clock = { now: 0 };
  const executor = new StoreExecutor({
    store: scriptedStore(calls, mode),
    feed: (input) => inputs.push(input),
    log: (line) => logs.push(line),
    now: () => clock.now,
  });
  const settle = () => new Promise((resolve) => setImmediate(resolve));
  return { executor, calls, inputs, logs, mode, clock, settle };
}

describe('StoreExecutor', () => {
  it('runs each op on the matching store method and feeds its outcome with the same id', async () => {
    const { executor, calls, inputs, settle } = setup('ok');
    for (const [i, op] of ops.entries()) executor.run(100 + i, op);
    await settle();
    expect(calls).toEqual(['append', 'read', 'createConversation', 'changeMembers', 'advanceCursor']);
    expect(inputs.map((i) => i.type === 'stored' && i.id)).toEqual([100, 101, 102, 103, 104]);
    expect(inputs[0]).toEqual({
      type: 'stored',
      id: 100,
      outcome: { status: 'ok', seq: 1, ts: 7, duplicate: false },
    });
    expect(inputs[4]).toEqual({ type: 'stored', id: 104, outcome: { status: 'ok', seq: 3, moved: true } });
  });

  it.each(['reject-unavailable', 'reject-other', 'throw'] as const)(
    'maps %s to unavailable',
    async (behaviour) => {
      const { executor, inputs, settle } = setup(behaviour);
      for (const [i, op] of ops.entries()) executor.run(i, op);
      await settle();
      expect(inputs).toEqual(
        ops.map((_, i) => ({ type: 'stored', id: i, outcome: { status: 'unavailable' } })),
      );
    },
  );

  it('logs once per burst of failures, again after the relog interval, and on recovery', async () => {
    const { executor, logs, mode, clock, settle } = setup('reject-unavailable');
    for (let i = 0; i < 50; i++) executor.run(i, ops[0]!);
    await settle();
    expect(logs).toHaveLength(1);
    expect(logs[0]).toMatch(/^store unavailable; .*append failed with Error: down/);

    clock.now = 61_000;
    executor.run(50, ops[1]!);
    await settle();
    expect(logs).toHaveLength(2);
    expect(logs[1]).toMatch(/still unavailable \(51 failures\)/);

    mode.current = 'ok';
    executor.run(51, ops[1]!);
    executor.run(52, ops[1]!);
    await settle();
    expect(logs).toHaveLength(3);
    expect(logs[2]).toBe('store available again after 51 failed operation(s)');

    mode.current = 'reject-other';
    executor.run(53, ops[2]!);
    await settle();
    expect(logs).toHaveLength(4);
    expect(logs[3]).toMatch(/^store unavailable; .*create failed with Error: disk on fire/);
  });
});
