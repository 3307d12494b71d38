import { describe, expect, it } from 'vitest';
import { Presence } from './presence.ts';

describe('Presence', () => {
  it('is online while any connection lives on any node, and stamps lastSeen when the last goes', () => {
    const p = new Presence();
    expect(p.connected('a')?.online).toBe(true);
    expect(p.connected('a')).toBeNull();
    expect(p.remote('n2', 'a', 1, 0)).toBeNull();
    expect(p.disconnected('a', 10)).toBeNull();
    expect(p.disconnected('a', 20)).toBeNull(); // still on n2
    const change = p.remote('n2', 'a', 0, 30);
    expect(change).toMatchObject({ user: 'a', online: false, lastSeen: 30 });
  });

  it('reports when a user was last seen here even if still online elsewhere (last connections ending at once)', () => {
    // One connection on each node; both end before either node hears of the other's.
    const a = new Presence();
    const b = new Presence();
    a.connected('u');
    b.connected('u');
    a.remote('b', 'u', 1, 0);
    b.remote('a', 'u', 1, 0);
    a.watch(7, 'u');
    expect(a.disconnected('u', 100)).toBeNull();
    expect(b.disconnected('u', 101)).toBeNull();
    const fromB = a.remote('b', 'u', b.localConnections('u'), b.lastSeen('u'));
    const fromA = b.remote('a', 'u', a.localConnections('u'), a.lastSeen('u'));
    expect(fromB).toEqual({ user: 'u', online: false, lastSeen: 101, watchers: [7] });
    expect(fromA).toMatchObject({ user: 'u', online: false, lastSeen: 101 });
  });

  it('forgets a restarted node: its users go offline unless seen elsewhere', () => {
    const p = new Presence();
    p.watch(1, 'a');
    p.remote('n2', 'a', 2, 0);
    p.remote('n2', 'b', 1, 0);
    p.remote('n3', 'b', 1, 0);
    const changes = p.forgetNode('n2', 99);
    expect(changes.map((c) => [c.user, c.online, c.lastSeen, c.watchers])).toEqual([['a', false, 99, [1]]]);
    expect(p.watch(2, 'b').online).toBe(true);
  });

  it('snapshots local users for a node that asks', () => {
    const p = new Presence();
    p.connected('a');
    p.connected('a');
    p.connected('b');
    p.disconnected('b', 5);
    expect(p.localSnapshot()).toEqual([['a', 2, 0]]);
  });
});
