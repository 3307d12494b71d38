// What a run records, as a stream of plain events: virtual clients report what they did and saw,
// the simulated store reports what became durable, the world reports membership and phases.
// Checkers consume this stream one event at a time (they never see a stored history at 1M clients)
// and, at the end, a FinalState with the store's truth for the witness.

import type { Message } from '../reference-server/protocol/frames.ts';
import type { MembershipSpan } from '../reference-server/store/message-store.ts';

/** A device is one virtual client: one user may have several. */
export type DeviceRef = { user: string; device: string };

export type Via = 'push' | 'resume' | 'sync' | 'own';

export type HistoryEvent =
  /** A conversation exists (setup, before any client acts). */
  | { k: 'conv'; at: number; conv: string; kind: 'direct' | 'group'; members: string[] }
  /** A membership change took effect; `atSeq` is the conversation's lastSeq when it did. */
  | { k: 'members'; at: number; conv: string; add: string[]; remove: string[]; atSeq: number }
  /** A client first issued a send (retries reuse the cmid and are not reported again). */
  | ({ k: 'send'; at: number; conv: string; cmid: string; body: string } & DeviceRef)
  /** The sending device got an ack. */
  | ({ k: 'ack'; at: number; conv: string; cmid: string; seq: number; ts: number } & DeviceRef)
  /** The client gave up on a send (bounded retries spent or a final error). */
  | ({ k: 'failed'; at: number; conv: string; cmid: string; code: string } & DeviceRef)
  /** The store made a message durable (store-side truth; emitted once per seq). */
  | { k: 'durable'; at: number; message: Message }
  /**
   * A device displayed a message: clients display each (conv, seq) at most once, in seq order.
   * `via: 'own'` is the sender's own device displaying its acked message.
   */
  | ({ k: 'display'; at: number; via: Via; message: Message } & DeviceRef)
  /** A device moved one of its own cursors (sent `delivered`/`read`). */
  | ({ k: 'cursor-sent'; at: number; conv: string; kind: 'delivered' | 'read'; seq: number } & DeviceRef)
  /** A device observed a member's cursor: from a `receipt`, or its own in `welcome`. */
  | ({
      k: 'cursor-seen';
      at: number;
      conv: string;
      of: string;
      kind: 'delivered' | 'read';
      seq: number;
      lastSeq: number;
      source: 'receipt' | 'welcome';
    } & DeviceRef)
  /** A device received a frame about a conversation (msg, batch, notify, receipt, typing). */
  | ({ k: 'conv-frame'; at: number; conv: string; t: string; seqs?: number[] } & DeviceRef)
  /** An adversarial client attempted something the protocol forbids; `outcome` follows with the same id. */
  | ({ k: 'attempt'; at: number; id: number; action: string; conv: string } & DeviceRef)
  | { k: 'outcome'; at: number; id: number; result: string }
  /** A device observed a presence frame. */
  | ({ k: 'presence-seen'; at: number; of: string; online: boolean; lastSeen: number } & DeviceRef)
  /** A session opened (welcome received), `connectMs` after the connection attempt began; `first` for a device's first. */
  | ({ k: 'session'; at: number; connectMs: number; first: boolean } & DeviceRef)
  /** An open session ended (`reason`: a close code, 'reset', 'idle' or 'client'). */
  | ({ k: 'session-lost'; at: number; reason: string } & DeviceRef)
  /** A device pulled a conversation with `sync` (a gap, a notify, a resume that did not finish). */
  | ({ k: 'sync-sent'; at: number; conv: string; after: number } & DeviceRef)
  /** The run entered a phase. */
  | { k: 'phase'; at: number; phase: 'warmup' | 'faults' | 'heal' | 'settle' | 'final' };

/** The truth at the end of a run, for judging and for witnesses. */
export type FinalState = {
  at: number;
  /** Every device that took part. */
  devices: DeviceRef[];
  /** Spans per conversation per user (who could read what). */
  membership(conv: string): ReadonlyMap<string, readonly MembershipSpan[]>;
  conversations(): Iterable<string>;
  /** The store's durable messages after the run (the final read). */
  storedMessage(conv: string, seq: number): Message | undefined;
  storedLastSeq(conv: string): number;
  /** Whether the user has a live connection at the end. */
  online(user: string): boolean;
  /** Whether the settle phase converged within the scenario's liveness window. */
  settledAt: number | null;
};

export type Verdict = 'pass' | 'fail' | 'unknown';

export type CheckResult = {
  property: string;
  verdict: Verdict;
  details: string;
  /** The offending events and their path; empty on pass. Bounded: a checker keeps at most a few. */
  witness: unknown[];
};

/** One property, judged from the stream. */
export interface Checker {
  readonly property: string;
  observe(event: HistoryEvent): void;
  finish(final: FinalState): CheckResult;
}
