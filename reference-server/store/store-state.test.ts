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

  it("keeps each member's spans and cursors apart, though most start the same (shared until one changes)", () => {
    const state = new StoreState();
    for (const id of ['g1', 'g2']) state.create({ id, kind: 'group', members: ['a', 'b'] });
    state.append({ conv: 'g1', from: 'a', cmid: 'm1', body: '', ts: 10 });
    state.append({ conv: 'g1', from: 'a', cmid: 'm2', body: '', ts: 20 });
    state.changeMembers({ conv: 'g1', add: [], remove: ['a'] });
    state.changeMembers({ conv: 'g1', add: ['a'], remove: [] });
    state.advanceCursor({ conv: 'g1', user: 'b', kind: 'read', seq: 1 });
    state.advanceCursor({ conv: 'g1', user: 'b', kind: 'delivered', seq: 2 });
    expect(state.record('g1')).toMatchObject({
      members: {
        a: [
          { from: 1, to: 2 },
          { from: 3, to: null },
        ],
        b: [{ from: 1, to: null }],
      },
      cursors: { a: { delivered: 2, read: 2 }, b: { delivered: 2, read: 1 } },
    });
    const untouched = {
      members: { a: [{ from: 1, to: null }], b: [{ from: 1, to: null }] },
      cursors: { a: { delivered: 0, read: 0 }, b: { delivered: 0, read: 0 } },
    };
    expect(state.record('g2')).toMatchObject(untouched);
    // A span list handed out earlier does not change under the caller.
    const before = state.spansOf('g2', 'a')!;
    state.changeMembers({ conv: 'g2', add: [], remove: ['a'] });
    expect(before).toEqual([{ from: 1, to: null }]);
    expect(state.spansOf('g2', 'a')).toEqual([{ from: 1, to: 0 }]);
    expect(state.record('g1')!.members.b).toEqual([{ from: 1, to: null }]);
    // Restored from records, the same holds.
    const restored = new StoreState();
    for (const record of state.records()) restored.restoreConversation(record);
    restored.advanceCursor({ conv: 'g2', user: 'b', kind: 'read', seq: 0 });
    restored.changeMembers({ conv: 'g2', add: [], remove: ['b'] });
    expect(restored.record('g1')).toEqual(state.record('g1'));
    expect(restored.record('g2')!.members).toEqual({ a: [{ from: 1, to: 0 }], b: [{ from: 1, to: 0 }] });
  });

  it("lists members and cursors in the order they came, a restored record's cursors as it listed them", () => {
    const state = new StoreState();
    state.create({ id: 'g', kind: 'group', members: ['b', 'a'] });
    state.changeMembers({ conv: 'g', add: ['c'], remove: ['b'] });
    state.changeMembers({ conv: 'g', add: ['b'], remove: [] });
    state.advanceCursor({ conv: 'g', user: 'a', kind: 'read', seq: 0 });
    const record = state.record('g')!;
    expect(Object.keys(record.members)).toEqual(['b', 'a', 'c']);
    expect(Object.keys(record.cursors)).toEqual(['b', 'a', 'c']);
    // A record whose cursors list other users, or the same in another order, comes back as it was, and
    // its cursors keep deciding: a move, a join (cursors at the join), a move of a member it had none for.
    const odd = {
      id: 'o',
      kind: 'group' as const,
      lastSeq: 4,
      members: { x: [{ from: 1, to: null }], y: [{ from: 1, to: null }], z: [{ from: 1, to: 2 }] },
      cursors: { y: { delivered: 3, read: 1 }, w: { delivered: 1, read: 1 }, x: { delivered: 0, read: 0 } },
    };
    const restored = new StoreState();
    restored.restoreConversation(structuredClone(odd));
    expect(Object.keys(restored.record('o')!.cursors)).toEqual(['y', 'w', 'x']);
    expect(restored.record('o')).toEqual(odd);
    expect(restored.advanceCursor({ conv: 'o', user: 'y', kind: 'read', seq: 3 })).toEqual({
      status: 'ok',
      seq: 3,
      moved: true,
    });
    restored.changeMembers({ conv: 'o', add: ['z', 'v'], remove: ['x'] });
    expect(restored.advanceCursor({ conv: 'o', user: 'v', kind: 'read', seq: 9 })).toMatchObject({ seq: 4 });
    const after = restored.record('o')!;
    expect(Object.keys(after.members)).toEqual(['x', 'y', 'z', 'v']);
    expect(Object.keys(after.cursors)).toEqual(['y', 'w', 'x', 'z', 'v']);
    expect(after.cursors).toEqual({
      y: { delivered: 3, read: 3 },
      w: { delivered: 1, read: 1 },
      x: { delivered: 0, read: 0 },
      z: { delivered: 4, read: 4 },
      v: { delivered: 4, read: 4 },
    });
    // A member the record gave no cursors: its first move starts from 0.
    const bare = new StoreState();
    bare.restoreConversation({ ...structuredClone(odd), cursors: {} });
    expect(bare.advanceCursor({ conv: 'o', user: 'x', kind: 'delivered', seq: 2 })).toMatchObject({ seq: 2 });
    expect(bare.record('o')!.cursors).toEqual({ x: { delivered: 2, read: 0 } });
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
