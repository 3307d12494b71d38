// Everything that can happen to a node, as plain values. The live runtime and the simulator both
// translate their world into these; the core never learns which world it runs in.

import type { ServerFrame } from '../protocol/frames.ts';
import type {
  AppendResult,
  CreateResult,
  CursorResult,
  MembersResult,
  ReadResult,
  RecordsResult,
} from '../store/message-store.ts';
import type { BusEvent } from './bus-events.ts';

export type ConnId = number;

/** Token claims as the transport's verifier read them; `null` when the token was missing, bad or expired. */
export type Claims = { sub: string; admin: boolean };

export type StoreOutcome =
  | AppendResult
  | ReadResult
  | CreateResult
  | MembersResult
  | CursorResult
  | RecordsResult
  | { status: 'unavailable' };

/** Who made an HTTP request: no token, a token that failed verification, or verified claims. */
export type Principal = { kind: 'none' } | { kind: 'invalid'; reason: string } | ({ kind: 'user' } & Claims);

export type HttpRequest = {
  method: string;
  /** Path without the query string. */
  path: string;
  query: Record<string, string>;
  principal: Principal;
  /** Parsed JSON body, or `undefined` when there was none; `{ invalidJson: true }` is never passed: see `bodyError`. */
  body: unknown;
  bodyError?: string;
};

export type Input =
  | { type: 'open'; conn: ConnId }
  /** A text frame as received. */
  | { type: 'text'; conn: ConnId; text: string }
  /** An already-decoded frame value (the simulator skips JSON); validated exactly like text. */
  | { type: 'frame'; conn: ConnId; value: unknown }
  | { type: 'binary'; conn: ConnId }
  /** The connection is gone: closed by either side, or terminated for missed pongs. */
  | { type: 'gone'; conn: ConnId }
  | { type: 'verified'; conn: ConnId; claims: Claims | null; reason?: string }
  | { type: 'stored'; id: number; outcome: StoreOutcome }
  /** The transport reports how many bytes wait in a connection's send buffer. */
  | { type: 'backpressure'; conn: ConnId; bufferedBytes: number }
  | { type: 'bus'; event: BusEvent }
  /**
   * The bus was lost: events from other nodes may be missed until it is back and the node has caught
   * up, so the node's cursors may be behind what clients were told elsewhere (welcomes wait).
   */
  | { type: 'bus-lost' }
  /** The bus was lost and is back: events may be missing. The node catches up from the store. */
  | { type: 'bus-resumed' }
  /** A node reappeared after it was taken for dead: everyone re-sends their presence snapshot. */
  | { type: 'presence-resync' }
  | { type: 'http'; req: number; request: HttpRequest }
  | { type: 'drain'; reconnectInMs: number };

export type { ServerFrame };
