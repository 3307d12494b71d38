// StoreState beyond what the store contract sees: records are independent copies, any user id is a
// plain key, and a state rebuilt from its checkpoint entries decides exactly as the original.

import { describe, expect, it } from 'vitest';
import { membersVersionOf } from './message-store.ts';
import { StoreState } from './store-state.ts';

function sample(): StoreState {
  const state = new StoreState();
  state.create({ id: 'g', kind: 'group', members: ['a', '__proto__'] });
  state.create({ id: 'd', kind: 'direct', members: ['a', 'b'] });
  for (let i = 1; i <= 5; i++)
    state.append({ conv: 'g', from: i % 2 ? 'a' : '__proto__', cmid: `m${i}`, body: '', ts: i * 10 });
  state.changeMembers({ conv: 'g', add: ['c'], remove: ['a'] });
  state.append({ conv: 'g', from: 'c', cmid: 'm1', body: '', ts: 60 });
  state.advanceCursor({ conv: 'g', user: 'c', kind: 'read', seq: 6 });
  return state;
}

describe('StoreState', () => {
  it('hands out deep copies that callers may change freely', () => {
    const state = sample();
    const record = state.record('g')!;
    record.lastSeq = 99;
    record.members.c![0]!.to = 1;
    record.cursors.c!.read = 0;
    expect(state.record('g')).toMatchObject({
      lastSeq: 6,
      members: { c: [{ from: 6, to: null }] },
      cursors: { c: { read: 6 } },
    });
  });

  it('treats a user id like __proto__ as a plain member key', () => {
    const state = sample();
    const record = state.record('g')!;
    expect(Object.keys(record.members).sort()).toEqual(['__proto__', 'a', 'c']);
    const protoUser = '__proto__';
    expect(record.members[protoUser]).toEqual([{ from: 1, to: null }]);
    expect(Object.getPrototypeOf(record.members)).toBe(null);
    expect(state.append({ conv: 'g', from: '__proto__', cmid: 'm2', body: '', ts: 1 })).toMatchObject({
      seq: 2,
      duplicate: true,
    });
  });

  it('rebuilds from records and index entries into a state that decides the same', () => {
    const original = sample();
    const rebuilt = new StoreState();
    for (const record of original.records()) {
      rebuilt.restoreConversation(JSON.parse(JSON.stringify(record)));
      rebuilt.restoreIndex(record.id, 1, [...original.indexEntries(record.id, record.lastSeq)]);
    }
    expect(rebuilt.incompleteIndexes()).toEqual([]);
    expect(rebuilt.records()).toEqual(original.records());
    for (const state of [original, rebuilt]) {
      expect(state.append({ conv: 'g', from: '__proto__', cmid: 'm4', body: '', ts: 0 })).toEqual({
        status: 'ok',
        seq: 4,
        ts: 40,
        duplicate: true,
        // Restored from the spans: the version the original reached by its changes.
        membersVersion: membersVersionOf(original.record('g')!),
      });
      expect(state.append({ conv: 'g', from: 'c', cmid: 'new', body: '', ts: 70 })).toMatchObject({ seq: 7 });
    }
    expect(rebuilt.records()).toEqual(original.records());
  });

  it('yields index entries in seq order up to a bound and refuses a restore with a gap', () => {
    const state = sample();
    expect([...state.indexEntries('g', 3)]).toEqual([
      { from: 'a', cmid: 'm1', ts: 10 },
      { from: '__proto__', cmid: 'm2', ts: 20 },
      { from: 'a', cmid: 'm3', ts: 30 },
    ]);
    const rebuilt = new StoreState();
    rebuilt.restoreConversation(state.record('g')!);
    expect(() => rebuilt.restoreIndex('g', 2, [{ from: 'a', cmid: 'x', ts: 1 }])).toThrow(/out of order/);
    rebuilt.restoreIndex('g', 1, [{ from: 'a', cmid: 'x', ts: 1 }]);
    expect(rebuilt.incompleteIndexes()).toEqual(['g']);
  });
});
