// The store port. Whatever a conforming store is (the embedded log, memory, Redis, Cassandra), it
// decides the per-conversation seq and the idempotency index (sender, conv, cmid) -> seq atomically
// with the durable write, so several nodes can share one store. A promise resolves only once what it
// reports is durable: an `append` that reports a duplicate waits for the original's durability too.

import type { ConvId, Message, UserId } from '../protocol/frames.ts';

export type ConversationKind = 'direct' | 'group';

/**
 * One stretch of membership. A member reads seqs `from`..`to` inclusive: `from` is the conversation's
 * lastSeq at the join plus one, `to` its lastSeq at the removal (null while still a member).
 */
export type MembershipSpan = { from: number; to: number | null };

export type Cursors = { delivered: number; read: number };

/** Everything a node needs to know about a conversation, bodies aside. */
export type ConversationRecord = {
  id: ConvId;
  kind: ConversationKind;
  lastSeq: number;
  /** user -> spans in join order; a current member's last span has `to: null`. */
  members: Record<UserId, MembershipSpan[]>;
  cursors: Record<UserId, Cursors>;
};

/**
 * A record's membership version (`AppendResult.membersVersion`): membership only grows, a join adds a
 * span (one bound set, `from`) and a removal closes one (a second bound), so the bounds set across all
 * spans rise with every change and order records.
 */
export function membersVersionOf(record: Pick<ConversationRecord, 'members'>): number {
  let version = 0;
  for (const spans of Object.values(record.members))
    for (const span of spans) version += span.to === null ? 1 : 2;
  return version;
}

export type AppendRequest = { conv: ConvId; from: UserId; cmid: string; body: string; ts: number };

export type AppendResult =
  | {
      status: 'ok';
      seq: number;
      ts: number;
      duplicate: boolean;
      /**
       * The conversation's membership version when this append was decided: how many span bounds have
       * been set (a join sets one, a removal one more), so it rises with every change. A node whose
       * cached membership is older must not push the message by it (a member removed on another node
       * just before would get it). Stores that do not report it leave it out (Redis conversations
       * created before the field existed); a fleet on them keeps that race.
       */
      membersVersion?: number;
    }
  | { status: 'forbidden' }
  | { status: 'not_found' };

export type CreateRequest = { id: ConvId; kind: ConversationKind; members: UserId[] };
export type CreateResult =
  | { status: 'created' | 'exists'; conversation: ConversationRecord }
  | { status: 'conflict'; conversation: ConversationRecord };

export type MembersRequest = { conv: ConvId; add: UserId[]; remove: UserId[] };
export type MembersResult =
  | { status: 'ok'; conversation: ConversationRecord }
  | { status: 'not_found' }
  | { status: 'conflict' };

export type CursorRequest = { conv: ConvId; user: UserId; kind: 'delivered' | 'read'; seq: number };
/** `seq` is the cursor after the request: max(old, min(requested, lastSeq)). */
export type CursorResult =
  | { status: 'ok'; seq: number; moved: boolean }
  | { status: 'not_found' }
  | { status: 'forbidden' };

export type ReadRequest = { conv: ConvId; after: number; limit: number };
export type ReadResult =
  /** `membersVersion`: as an append's (`AppendResult.membersVersion`), when the read was decided. */
  { status: 'ok'; messages: Message[]; lastSeq: number; membersVersion?: number } | { status: 'not_found' };

export type RecordsResult = { status: 'ok'; records: ConversationRecord[] };

/** Raised by a store whose backing service is unreachable; the core answers `unavailable`. */
export class StoreUnavailableError extends Error {
  readonly code = 'CHATSIM_ERR_STORE_UNAVAILABLE';
}

export interface MessageStore {
  /** Opens (recovering if need be) and returns every conversation's metadata. */
  open(): Promise<ConversationRecord[]>;
  append(request: AppendRequest): Promise<AppendResult>;
  read(request: ReadRequest): Promise<ReadResult>;
  createConversation(request: CreateRequest): Promise<CreateResult>;
  changeMembers(request: MembersRequest): Promise<MembersResult>;
  advanceCursor(request: CursorRequest): Promise<CursorResult>;
  /**
   * Every conversation's record as it is now (a fleet node that lost its bus catches up with it), or
   * with `ids` only those that exist (a fleet node reads a user's before its welcome). Durable state.
   */
  conversations(ids?: readonly ConvId[]): Promise<ConversationRecord[]>;
  /** Resolves when the store can take writes; used by /readyz. */
  ping(): Promise<void>;
  close(): Promise<void>;
}
