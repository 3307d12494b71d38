// Which users a client watches: people it shares a conversation with as set up (population.ts), the
// partner of a direct conversation or another member of a small group; never itself, never members
// of a large group.

import { describe, expect, it } from 'vitest';
import { membershipChange, watchedUsers } from './behaviours.ts';
import { SeedStreams } from './kernel/prng.ts';

const rng = () => new SeedStreams(7).stream('watch');

describe('watchedUsers', () => {
  it('watches the partners of direct conversations', () => {
    expect(watchedUsers(['d3-4'], 'u3', 1, 10, rng())).toEqual(['u4']);
    const users = watchedUsers(['d3-4', 'd2-3'], 'u3', 2, 10, rng());
    expect(users.length).toBeGreaterThan(0);
    for (const user of users) expect(['u2', 'u4']).toContain(user);
  });

  it('watches other members of a small group, never the client itself', () => {
    // Group g2 of size 10 holds u20 ... u29.
    const users = watchedUsers(['g2'], 'u25', 5, 10, rng());
    expect(users.length).toBeGreaterThanOrEqual(3);
    for (const user of users) {
      expect(user).not.toBe('u25');
      expect(Number(user.slice(1))).toBeGreaterThanOrEqual(20);
      expect(Number(user.slice(1))).toBeLessThan(30);
    }
  });

  it('keeps the live run prefix, and gives no one for large groups', () => {
    expect(watchedUsers(['r1.d0-1'], 'r1.u0', 1, 2, rng())).toEqual(['r1.u1']);
    for (const user of watchedUsers(['r1.g1'], 'r1.u4', 3, 3, rng()))
      expect(['r1.u3', 'r1.u5']).toContain(user);
    expect(watchedUsers(['L0', 'L1'], 'u0', 3, 10, rng())).toEqual([]);
  });
});

describe('membershipChange (admin churn on a group)', () => {
  const members = ['u1', 'u2', 'u3'];

  it('re-adds a removed member a third of the time, giving them a second span', () => {
    expect(membershipChange(members, ['u7', 'u8'], 'u50', 0.1, 0.6)).toEqual({ add: ['u8'], remove: [] });
  });

  it('removes a current member a third of the time, whoever the uniform pick was', () => {
    expect(membershipChange(members, ['u7'], 'u50', 0.5, 0.0)).toEqual({ add: [], remove: ['u1'] });
    expect(membershipChange(members, [], 'u50', 0.2, 0.99)).toEqual({ add: [], remove: ['u3'] });
  });

  it('otherwise toggles anyone: adds a stranger, removes a member', () => {
    expect(membershipChange(members, ['u7'], 'u50', 0.9, 0.5)).toEqual({ add: ['u50'], remove: [] });
    expect(membershipChange(members, ['u7'], 'u2', 0.9, 0.5)).toEqual({ add: [], remove: ['u2'] });
  });

  it('never empties a group below two members by its own removals', () => {
    expect(membershipChange(['u1', 'u2'], [], 'u50', 0.5, 0.5)).toEqual({ add: ['u50'], remove: [] });
  });
});
