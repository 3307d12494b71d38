// Frame shapes of protocol v1. Client frames arrive as untrusted JSON and are checked by
// validate-frame.ts; server frames are built by the core and trusted.

export type ConvId = string;
export type UserId = string;

export type HelloFrame = { t: 'hello'; token: string; device?: string; resume?: Record<ConvId, number> };
export type SendFrame = { t: 'send'; conv: ConvId; cmid: string; body: string };
export type SyncFrame = { t: 'sync'; conv: ConvId; after: number; limit?: number };
export type CursorFrame = { t: 'delivered' | 'read'; conv: ConvId; seq: number };
export type TypingClientFrame = { t: 'typing'; conv: ConvId; on: boolean };
export type WatchFrame = { t: 'watch'; users: UserId[] };

export type ClientFrame = HelloFrame | SendFrame | SyncFrame | CursorFrame | TypingClientFrame | WatchFrame;
export type ClientFrameType = ClientFrame['t'];

/** A message as stored and as carried inside `msg` and `batch`. */
export type Message = { conv: ConvId; seq: number; from: UserId; cmid: string; body: string; ts: number };

/**
 * One conversation in `welcome`. v1.1: `member: false` marks a past membership (readable up to the
 * removal, never sent to); current memberships omit it.
 */
export type ConvSummary = {
  conv: ConvId;
  lastSeq: number;
  delivered: number;
  read: number;
  member?: boolean;
};

export type WelcomeFrame = {
  t: 'welcome';
  user: UserId;
  conn: string;
  node: string;
  heartbeatMs: number;
  convs: ConvSummary[];
};
export type AckFrame = { t: 'ack'; conv: ConvId; cmid: string; seq: number; ts: number };
/** `tp` (v1.1): the W3C traceparent of the push, when the server traces the send. */
export type MsgFrame = { t: 'msg'; tp?: string } & Message;
export type BatchFrame = { t: 'batch'; conv: ConvId; msgs: Message[]; lastSeq: number; more: boolean };
export type NotifyFrame = { t: 'notify'; conv: ConvId; lastSeq: number };
export type ReceiptFrame = {
  t: 'receipt';
  conv: ConvId;
  user: UserId;
  kind: 'delivered' | 'read';
  seq: number;
};
export type TypingServerFrame = { t: 'typing'; conv: ConvId; user: UserId; on: boolean; ttlMs: number };
export type PresenceFrame = { t: 'presence'; user: UserId; online: boolean; lastSeen: number };
/** v1.1: `conv` names the conversation the failed frame was about. */
export type ErrFrame = {
  t: 'err';
  code: string;
  message: string;
  ref?: string;
  retryAfterMs?: number;
  conv?: ConvId;
};
export type DrainFrame = { t: 'drain'; reconnectInMs: number };

export type ServerFrame =
  | WelcomeFrame
  | AckFrame
  | MsgFrame
  | BatchFrame
  | NotifyFrame
  | ReceiptFrame
  | TypingServerFrame
  | PresenceFrame
  | ErrFrame
  | DrainFrame;
