import { describe, expect, it } from 'vitest';
import { AdminLedger, type AdminTransport } from './admin-ledger.ts';
import type { HistoryEvent } from './history.ts';

/** A transport answering every change at once with `status`. */
const answering =
  (status: number): AdminTransport =>
  (_conv, _change, answer) =>
    answer(status, { lastSeq: 0 });

describe('the admin ledger', () => {
  it('follows answered changes: former members in the order they first joined, a refused change ignored', () => {
    const events: HistoryEvent[] = [];
    const ledger = new AdminLedger((event) => events.push(event));
    ledger.created('g1', ['a', 'b', 'c']);
    ledger.created('g2', ['a', 'b']);
    expect(ledger.formerMembersOf('g1')).toEqual([]);
    expect(ledger.change('g1', { add: [], remove: ['b'] }, answering(200), () => 1)).toBe(true);
    expect(ledger.membersOf('g1')).toEqual(['a', 'c']);
    expect(ledger.formerMembersOf('g1')).toEqual(['b']);
    ledger.change('g1', { add: ['d'], remove: ['a'] }, answering(200), () => 2);
    expect(ledger.formerMembersOf('g1')).toEqual(['a', 'b']);
    ledger.change('g1', { add: ['b'], remove: ['d'] }, answering(200), () => 3);
    expect(ledger.membersOf('g1')).toEqual(['c', 'b']);
    expect(ledger.formerMembersOf('g1')).toEqual(['a', 'd']);
    ledger.change('g2', { add: ['e'], remove: ['a'] }, answering(409), () => 4);
    expect(ledger.membersOf('g2')).toEqual(['a', 'b']);
    expect(ledger.formerMembersOf('g2')).toEqual([]);
    expect(ledger.isMember('g2', 'e')).toBe(false);
    expect(ledger.formerMembersOf('g3')).toEqual([]);
    expect(events.map((event) => event.k)).toEqual([
      'members-sent',
      'members-answered',
      'members-sent',
      'members-answered',
      'members-sent',
      'members-answered',
      'members-sent',
      'members-answered',
    ]);
  });

  it('judges membership the same for a short conversation (a list), a long one (a Set) and after changes', () => {
    const ledger = new AdminLedger(() => {});
    const many = Array.from({ length: 40 }, (_, i) => `u${i}`);
    ledger.created('short', ['a', 'b', 'a', 'c']);
    ledger.created('long', [...many, 'u3']);
    expect(ledger.membersOf('short')).toEqual(['a', 'b', 'c']);
    expect(ledger.membersOf('long')).toEqual(many);
    for (const [conv, user, member] of [
      ['short', 'b', true],
      ['short', 'u3', false],
      ['long', 'u39', true],
      ['long', 'b', false],
      ['none', 'a', false],
    ] as const)
      expect(ledger.isMember(conv, user)).toBe(member);
    // The list handed out is the caller's: changing it changes nothing here.
    ledger.membersOf('short').push('z');
    expect(ledger.isMember('short', 'z')).toBe(false);
    ledger.change('short', { add: ['d'], remove: ['a'] }, answering(200), () => 1);
    expect(ledger.membersOf('short')).toEqual(['b', 'c', 'd']);
    expect(ledger.isMember('short', 'a')).toBe(false);
    expect(ledger.isMember('short', 'd')).toBe(true);
    expect(ledger.formerMembersOf('short')).toEqual(['a']);
    ledger.change('long', { add: [], remove: ['u0'] }, answering(200), () => 2);
    expect(ledger.isMember('long', 'u0')).toBe(false);
    expect(ledger.formerMembersOf('long')).toEqual(['u0']);
  });
});
