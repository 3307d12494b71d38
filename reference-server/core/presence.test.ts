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

  it('snapshots local users for a node that asks, and those who left lately with when they left', () => {
    const p = new Presence();
    p.connected('a');
    p.connected('a');
    p.connected('b');
    p.disconnected('b', 5);
    p.connected('c');
    p.disconnected('c', 1);
    expect(p.localSnapshot(1000, 995)).toEqual([
      ['a', 2, 0],
      ['b', 0, 5],
    ]);
    expect(p.localSnapshot(1000, 0)).toEqual([['a', 2, 0]]);
  });

  it('a node that missed a leave learns its exact time from the snapshot, not the time it heard of it', () => {
    // n1 had u's last connection, which ended at 13769; n3 missed that report (bus lost) and then took
    // n1's snapshot at 14002: stamping 14002 there made a watcher moving to n1 see lastSeen go back.
    const n1 = new Presence();
    const n3 = new Presence();
    n1.connected('u');
    n3.remote('n1', 'u', 1, 0);
    n3.watch(4, 'u');
    n1.disconnected('u', 13_769);
    const changes = n3.replaceNode('n1', n1.localSnapshot(14_002, 60_000), 14_002);
    expect(changes).toEqual([{ user: 'u', online: false, lastSeen: 13_769, watchers: [4] }]);
    expect(n3.watch(5, 'u')).toEqual({ online: false, lastSeen: n1.lastSeen('u') });
  });

  it("lists a user it saw go with the latest lastSeen it knows, so a restarted node does not go back to this node's own", () => {
    // fleet-races seed 7 at 200 clients: u47's devices on n1 and n3 closed at once; n1 stamped 11484,
    // n3 11485.66 and reported it; n3 crashed, and restarted from n1's snapshot.
    const n1 = new Presence();
    const n3 = new Presence();
    n1.connected('u');
    n3.connected('u');
    n1.remote('n3', 'u', 1, 0);
    n1.disconnected('u', 11_484);
    n3.disconnected('u', 11_485.66);
    n1.remote('n3', 'u', 0, 11_485.66);
    expect(n1.watch(1, 'u')).toEqual({ online: false, lastSeen: 11_485.66 });
    const restarted = new Presence();
    restarted.replaceNode('n1', n1.localSnapshot(17_600, 60_000), 17_600);
    expect(restarted.watch(2, 'u')).toEqual({ online: false, lastSeen: 11_485.66 });
    // n3's report first, n1's own leave after it: the same.
    const m1 = new Presence();
    m1.connected('u');
    m1.remote('n3', 'u', 1, 0);
    m1.remote('n3', 'u', 0, 11_485.66);
    m1.disconnected('u', 11_484);
    const again = new Presence();
    again.replaceNode('n1', m1.localSnapshot(17_600, 60_000), 17_600);
    expect(again.watch(2, 'u')).toEqual({ online: false, lastSeen: 11_485.66 });
  });

  it('reports a user it saw go offline with a dead node, so a node that restarted meanwhile does not go back to the older lastSeen', () => {
    // Swarm seed 74066800333965: n1 froze holding u's connections (u last left at 9614); n3 took it for
    // dead at 19147 and told its watchers "offline, lastSeen 19147"; n2, restarted after n1 froze, knew
    // nothing of u until n1 came back with its snapshot, and answered a watcher lastSeen 9614.
    const n1 = new Presence();
    const n2 = new Presence();
    const n3 = new Presence();
    n1.disconnected('u', 9614);
    n1.connected('u');
    n3.remote('n1', 'u', 1, 9614);
    expect(n3.forgetNode('n1', 19_147)).toEqual([
      { user: 'u', online: false, lastSeen: 19_147, watchers: [] },
    ]);
    // n1 beats again: every node sends its snapshot.
    n2.replaceNode('n1', n1.localSnapshot(19_520, 60_000), 19_520);
    n2.replaceNode('n3', n3.localSnapshot(19_520, 60_000), 19_520);
    n3.replaceNode('n1', n1.localSnapshot(19_520, 60_000), 19_520);
    expect(n2.watch(1, 'u')).toEqual({ online: true, lastSeen: 19_147 });
    expect(n3.watch(1, 'u')).toEqual({ online: true, lastSeen: 19_147 });
  });
});
