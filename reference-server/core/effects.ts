// What the core wants done, as plain values. A runtime carries them out in order; none of them
// may be dropped except `wake`, which a runtime may satisfy by ticking earlier or more often.

import type { ServerFrame } from '../protocol/frames.ts';
import type {
  AppendRequest,
  CreateRequest,
  CursorRequest,
  MembersRequest,
  ReadRequest,
} from '../store/message-store.ts';
import type { BusEvent } from './bus-events.ts';
import type { ConnId } from './inputs.ts';

export type StoreOp =
  | { kind: 'append'; request: AppendRequest }
  | { kind: 'read'; request: ReadRequest }
  | { kind: 'create'; request: CreateRequest }
  | { kind: 'members'; request: MembersRequest }
  | { kind: 'cursor'; request: CursorRequest }
  /**
   * Every conversation's record, for a node catching up after it lost the bus; with `convs`, only
   * those (the ones the store knows), for a fleet node about to welcome a user.
   */
  | { kind: 'records'; convs?: string[] };

export type Effect =
  /** Send one frame to each listed connection (serialize once, write many). */
  | { type: 'send'; to: readonly ConnId[]; frame: ServerFrame }
  /** Send a close frame; the runtime destroys the socket if the peer does not answer in a few seconds. */
  | { type: 'close'; conn: ConnId; code: number; reason: string }
  /** Verify a hello's token; answer with a `verified` input, always (the hello timeout does not cover the wait). */
  | { type: 'verify'; conn: ConnId; token: string }
  /** Run a store operation; answer with a `stored` input carrying the same id. */
  | { type: 'store'; id: number; op: StoreOp }
  /** Tell the other nodes (a no-op for a single node). */
  | { type: 'publish'; event: BusEvent }
  /** Answer an HTTP request. */
  | { type: 'reply'; req: number; status: number; body: unknown }
  /** The earliest time `tick` has work to do. */
  | { type: 'wake'; at: number }
  /** Drain finished: no connection left, no store operation outstanding. */
  | { type: 'drained' };
