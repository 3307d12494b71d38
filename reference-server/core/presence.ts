// Presence across nodes: a user is online while any connection lives on any node; when the last one
// goes, lastSeen is stamped. Owns the watcher index (user -> watching connections) so a change is sent
// only to those who asked with `watch`.

import type { UserId } from '../protocol/frames.ts';
import type { ConnId } from './inputs.ts';
import { type SmallSet, smallSetAdd, smallSetDelete, smallSetValues } from './small-set.ts';

type UserPresence = {
  local: number;
  /** Connections on other nodes, by node id. */
  remote: Map<string, number> | null;
  lastSeen: number;
  /**
   * When this node last saw the user go offline (0: never), for snapshots: its last connection here
   * ended, or the node that held the user's last connections was taken for dead. The second matters to
   * a node that restarted meanwhile: when the dead node returns, its snapshot carries the lastSeen it
   * had before it froze, and only this report tells the restarted node the fleet saw the user go later
   * (swarm seed 74066800333965: a watcher moved to such a node saw lastSeen go back 9.5 s). Its value is
   * the latest lastSeen this node knows, then and since (a later leave another node reports raises it),
   * not only its own stamp: fleet-races seed 7, u47's two devices closed at once on n1 and n3, each
   * stamped its own time, n3's 1.5 ms later; n3 crashed, and, restarted, learnt only n1's own stamp from
   * n1's snapshot and told a watcher that, behind what n1 had told it.
   */
  goneAt: number;
  watchers: SmallSet<ConnId> | null;
};

export type PresenceChange = { user: UserId; online: boolean; lastSeen: number; watchers: ConnId[] };

export class Presence {
  private readonly users = new Map<UserId, UserPresence>();

  private entry(user: UserId): UserPresence {
    let entry = this.users.get(user);
    if (entry === undefined) {
      entry = { local: 0, remote: null, lastSeen: 0, goneAt: 0, watchers: null };
      this.users.set(user, entry);
    }
    return entry;
  }

  lastSeen(user: UserId): number {
    // Stryker disable next-line OptionalChaining: called only after connected/disconnected made the entry
    return this.users.get(user)?.lastSeen ?? 0;
  }

  localConnections(user: UserId): number {
    // Stryker disable next-line OptionalChaining: called only after connected/disconnected made the entry
    return this.users.get(user)?.local ?? 0;
  }

  connected(user: UserId): PresenceChange | null {
    const entry = this.entry(user);
    const was = online(entry);
    entry.local++;
    return was ? null : change(user, entry);
  }

  disconnected(user: UserId, now: number): PresenceChange | null {
    const entry = this.entry(user);
    entry.local = Math.max(0, entry.local - 1);
    // The user was seen on this node until now, even while still online elsewhere: the report this node
    // publishes carries it. Two nodes whose last connections of a user end at once each see the other
    // still online; stamped only when offline everywhere, both reported lastSeen 0 ("never seen") and
    // each told its watchers so (swarm seed 24).
    if (entry.local === 0) {
      entry.lastSeen = Math.max(entry.lastSeen, now);
      entry.goneAt = entry.lastSeen;
    }
    return online(entry) ? null : change(user, entry);
  }

  /** Another node reports how many connections the user has there now. */
  remote(node: string, user: UserId, connections: number, lastSeen: number): PresenceChange | null {
    const entry = this.entry(user);
    if (entry.goneAt > 0) entry.goneAt = Math.max(entry.goneAt, lastSeen);
    const was = online(entry);
    entry.remote ??= new Map();
    if (connections > 0) entry.remote.set(node, connections);
    else entry.remote.delete(node);
    entry.lastSeen = Math.max(entry.lastSeen, lastSeen);
    return was === online(entry) ? null : change(user, entry);
  }

  /** A node restarted or died: whatever it reported before is void. Returns the users who went offline. */
  forgetNode(node: string, now: number, keep?: ReadonlySet<UserId>): PresenceChange[] {
    const changes: PresenceChange[] = [];
    for (const [user, entry] of this.users) {
      if (entry.remote === null || !entry.remote.has(node) || keep?.has(user)) continue;
      const was = online(entry);
      entry.remote.delete(node);
      if (was && !online(entry)) {
        entry.lastSeen = Math.max(entry.lastSeen, now);
        entry.goneAt = entry.lastSeen;
        changes.push(change(user, entry));
      }
    }
    return changes;
  }

  /** A node's whole state, replacing what it reported before: [user, connections, lastSeen]. */
  replaceNode(node: string, users: readonly [UserId, number, number][], now: number): PresenceChange[] {
    const changes: PresenceChange[] = [];
    const listed = new Set<UserId>();
    for (const [user, connections, lastSeen] of users) {
      listed.add(user);
      const change = this.remote(node, user, connections, lastSeen);
      if (change !== null) changes.push(change);
    }
    changes.push(...this.forgetNode(node, now, listed));
    return changes;
  }

  /**
   * Users with connections on this node: [user, connections, lastSeen]; and those this node saw go
   * offline within `goneWithinMs` of `now`: [user, 0, when they went].
   */
  localSnapshot(now: number, goneWithinMs: number): [UserId, number, number][] {
    // Stryker disable next-line ArrayDeclaration: a seeded bogus entry names no real user
    const out: [UserId, number, number][] = [];
    for (const [user, entry] of this.users)
      if (entry.local > 0) out.push([user, entry.local, entry.lastSeen]);
      else if (entry.goneAt > 0 && now - entry.goneAt <= goneWithinMs) out.push([user, 0, entry.goneAt]);
    return out;
  }

  watch(conn: ConnId, user: UserId): { online: boolean; lastSeen: number } {
    const entry = this.entry(user);
    entry.watchers = smallSetAdd(entry.watchers, conn);
    return { online: online(entry), lastSeen: entry.lastSeen };
  }

  // Stryker disable next-line BlockStatement: only frees memory; tellWatchers already skips connections that are gone
  unwatch(conn: ConnId, user: UserId): void {
    const entry = this.users.get(user);
    // Stryker disable next-line ConditionalExpression: only frees memory; tellWatchers already skips connections that are gone
    if (entry !== undefined) entry.watchers = smallSetDelete(entry.watchers, conn);
  }
}

function online(entry: UserPresence): boolean {
  if (entry.local > 0) return true;
  if (entry.remote !== null) for (const count of entry.remote.values()) if (count > 0) return true;
  return false;
}

function change(user: UserId, entry: UserPresence): PresenceChange {
  return {
    user,
    online: online(entry),
    lastSeen: entry.lastSeen,
    // Stryker disable next-line ArrayDeclaration: a bogus watcher id names no connection, tellWatchers drops it
    watchers: [...smallSetValues(entry.watchers)],
  };
}
