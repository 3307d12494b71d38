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
});
