// What nodes tell each other over the bus, so a message sequenced on node A is pushed by node B.
// A single node publishes nothing (its runtime drops these); the simulator and Redis carry them.
// Delivery may be lossy (Redis pub/sub drops what a disconnected subscriber missed): a node that
// lost the bus is fed `bus-resumed` and catches up from the store.

import type { Message, UserId } from '../protocol/frames.ts';
import type { ConversationRecord } from '../store/message-store.ts';

export type BusEvent =
  /** `membersVersion`: the store's membership version when the message was decided, when it said one. */
  | { kind: 'msg'; origin: string; message: Message; membersVersion?: number }
  | { kind: 'conversation'; origin: string; conversation: ConversationRecord }
  | { kind: 'receipt'; origin: string; conv: string; user: UserId; cursor: 'delivered' | 'read'; seq: number }
  | { kind: 'typing'; origin: string; conv: string; user: UserId; on: boolean }
  /** `connections` is how many connections the user has on `origin` now. */
  | { kind: 'presence'; origin: string; user: UserId; connections: number; lastSeen: number }
  /** A node (re)started with no connections: forget what it had, and tell it what you have. */
  | { kind: 'node-up'; origin: string }
  /**
   * Every user with connections on `origin`, as [user, connections, lastSeen]: the whole of what
   * `origin` has, so it replaces what receivers knew of it; and users whose last connection there
   * ended lately, as [user, 0, when it ended] (core/limits.ts). Sent in answer to `node-up`, and with
   * `ask` by a node that may have missed events: everyone answers with their own.
   */
  | { kind: 'presence-snapshot'; origin: string; users: [UserId, number, number][]; ask?: boolean }
  /** `origin` stopped heartbeating (its presence TTL ran out): its connections are gone. Fed, not published. */
  | { kind: 'node-down'; origin: string }
  /**
   * `origin` dropped publishes it could not send (its backlog overflowed while it was cut from Redis):
   * what they told (messages, receipts, memberships) is in the store only, so every other node reads it.
   */
  | { kind: 'events-dropped'; origin: string };
