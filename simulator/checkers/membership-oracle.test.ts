import { describe, expect, it } from 'vitest';
import type { HistoryEvent } from '../history.ts';
import { device, history, message } from './history-fixture.ts';
import { IdTable } from './id-table.ts';
import { MembershipOracle } from './membership-oracle.ts';

const ann = device('ann');

function oracleOf(events: HistoryEvent[]): MembershipOracle {
  const oracle = new MembershipOracle(new IdTable());
  for (const event of events) oracle.observe(event);
  return oracle;
}

describe('MembershipOracle', () => {
  const created = history.conv(0, 'g', ['ann', 'bob']);

  it('places a change after every seq seen before the request and before every send after the answer', () => {
    const oracle = oracleOf([
      created,
      history.ack(10, ann, message('g', 3, 'ann'), 5),
      history.membersSent(20, 1, 'g', { remove: ['bob'] }),
      history.ack(25, ann, message('g', 4, 'ann'), 15), // in flight across the change: either side
      history.membersAnswered(30, 1, 200),
      history.ack(40, ann, message('g', 5, 'ann'), 31),
    ]);
    expect([3, 4, 5].map((seq) => oracle.readable('g', 'bob', seq))).toEqual(['yes', 'maybe', 'no']);
    expect(oracle.surelyReadable('g', 'bob', 9)).toEqual([[1, 3]]);
    expect(oracle.surelyReadable('g', 'ann', 9)).toEqual([[1, 9]]);
    expect(oracle.readable('g', 'cat', 1)).toBe('no');
  });

  it('knows the seq a user joined after, even one it may not read (added and removed with no message between)', () => {
    const oracle = oracleOf([
      created,
      history.ack(10, ann, message('g', 3, 'ann'), 5),
      history.membersSent(20, 1, 'g', { add: ['cat'] }),
      history.membersAnswered(30, 1, 200),
      history.membersSent(31, 2, 'g', { remove: ['cat'] }),
      history.membersAnswered(40, 2, 200),
      history.ack(50, ann, message('g', 4, 'ann'), 45),
    ]);
    // cat's span holds no seq: it may read none, but it joined after seq 3.
    expect([3, 4].map((seq) => oracle.readable('g', 'cat', seq))).toEqual(['no', 'no']);
    expect([2, 3, 4].map((seq) => oracle.knownAtJoin('g', 'cat', seq))).toEqual(['yes', 'yes', 'no']);
    expect(oracle.knownAtJoin('g', 'bob', 1)).toBe('no');
  });

  it('takes the server at its word only where the history allows', () => {
    const events = (lastSeq: number) => [
      created,
      history.ack(10, ann, message('g', 3, 'ann'), 5),
      history.membersSent(20, 1, 'g', { add: ['cat'] }),
      history.membersAnswered(30, 1, 200, lastSeq),
      history.ack(40, ann, message('g', 6, 'ann'), 31),
    ];
    const consistent = oracleOf(events(4));
    expect([4, 5].map((seq) => consistent.readable('g', 'cat', seq))).toEqual(['no', 'yes']);
    expect(consistent.inconsistentClaims()).toEqual([]);
    const lying = oracleOf(events(2));
    expect(lying.inconsistentClaims().map((c) => c.claim)).toEqual([2]);
    expect([3, 4, 6].map((seq) => lying.readable('g', 'cat', seq))).toEqual(['no', 'maybe', 'yes']);
  });

  it('counts membership by time with a grace after a removal, and ignores refused changes', () => {
    const oracle = oracleOf([
      created,
      history.membersSent(20, 1, 'g', { remove: ['bob'] }),
      history.membersAnswered(30, 1, 200),
      history.membersSent(40, 2, 'g', { add: ['cat'] }),
      history.membersAnswered(50, 2, 403),
    ]);
    expect(oracle.memberAt('g', 'bob', 19)).toBe('yes');
    expect(oracle.memberAt('g', 'bob', 25)).toBe('maybe');
    expect(oracle.memberAt('g', 'bob', 31)).toBe('no');
    expect(oracle.memberAt('g', 'bob', 1029, () => 1000)).toBe('maybe');
    expect(oracle.memberAt('g', 'cat', 60)).toBe('no');
  });

  it('walks re-joins: surely readable ranges skip the time away', () => {
    const oracle = oracleOf([
      created,
      history.ack(10, ann, message('g', 2, 'ann'), 5),
      history.membersSent(20, 1, 'g', { remove: ['bob'] }),
      history.membersAnswered(30, 1, 200, 2),
      history.ack(35, ann, message('g', 5, 'ann'), 31),
      history.membersSent(40, 2, 'g', { add: ['bob'] }),
      history.membersAnswered(50, 2, 200, 5),
    ]);
    expect(oracle.surelyReadable('g', 'bob', 8)).toEqual([
      [1, 2],
      [6, 8],
    ]);
    expect(oracle.surelyReadableIn('g', 'bob', 3, 5)).toBe(false);
    expect(oracle.surelyReadableIn('g', 'bob', 3, 6)).toBe(true);
  });
});
