// What the virtual client wants done, as plain values, and the narrow host interface its parts
// (outbox, conversation views, adversary) use to emit them. The simulator's world carries effects
// out in virtual time, a live runtime over real sockets; neither changes the client.

import type { ClientFrame, Message } from '../../reference-server/protocol/frames.ts';
import type { HistoryEvent, Via } from '../history.ts';
import type { ClientConfig } from './limits.ts';

export type ClientTimerKind =
  | 'reconnect'
  | 'idle'
  | 'outbox'
  | 'gap'
  | 'sync'
  | 'cursor'
  | 'drain'
  | 'adversary'
  | 'resend';

/**
 * Timers are never cancelled: the client ignores one that is no longer due. After `close` the
 * carrier delivers nothing more from that connection (no frame, no `disconnected`): the client has
 * already moved on. Every `connect` is answered by exactly one `connected` or `disconnected`.
 */
export type ClientEffect =
  | { type: 'connect' }
  | { type: 'frame'; frame: ClientFrame }
  /** Adversaries only: WebSocket text as it is, which need not be a frame at all (malformed-text). */
  | { type: 'text'; text: string }
  /**
   * Adversaries only: a WebSocket binary frame, which protocol.md's frames never are (every message is a
   * text frame); its bytes are the text's UTF-8, so only the frame's kind is wrong.
   */
  | { type: 'binary'; bytes: Uint8Array }
  | { type: 'close' }
  | { type: 'timer'; at: number; kind: ClientTimerKind; key?: string };

/**
 * Bookkeeping of never-cancelled timers: each part remembers the `at` of its earliest outstanding
 * timer of a kind (0: none; a small integer, so it costs no boxed double per client) and arms a new
 * one only when it needs an earlier wake-up. Timers that fire late or needlessly are ignored.
 */
export function needsTimer(outstandingAt: number, at: number): boolean {
  return outstandingAt === 0 || at < outstandingAt;
}

/** What `outstandingAt` becomes when a timer of that kind fires at `now`. */
export function afterFiring(outstandingAt: number, now: number): number {
  return outstandingAt !== 0 && now >= outstandingAt ? 0 : outstandingAt;
}

/** What the client's parts may ask of the client; implemented by VirtualClient itself (no closures). */
export interface ClientHost {
  readonly user: string;
  readonly device: string;
  /** Every cmid this client issues is `${cmidPrefix}-${n}`. */
  readonly cmidPrefix: string;
  readonly config: ClientConfig;
  /** Welcome received and not draining: frames may be sent. */
  canSend(): boolean;
  /** Something (a frame, a ping) came from the server on this connection after `at`. */
  heardAfter(at: number): boolean;
  /** When something (a frame, a ping) last came from the server on this connection. */
  lastHeard(): number;
  /**
   * v1.1: while the last welcome lists `conv` with `member: false` (nothing is sent to it), when a welcome
   * first told the device so; null otherwise.
   */
  pastMemberSince(conv: string): number | null;
  /** v1.1: a membership the last welcome listed as over showed again; the sends held for it may go. */
  memberAgain(now: number): void;
  frame(frame: ClientFrame): void;
  schedule(kind: ClientTimerKind, at: number, key?: string): void;
  record(event: HistoryEvent): void;
  /** A message displayed: its `display` event recorded (the carrier may take it by its fields). */
  display(message: Message, via: Via, now: number): void;
  random(): number;
}
