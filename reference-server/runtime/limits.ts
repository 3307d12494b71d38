// Bounds of the live runtime: what the transport, the HTTP API and the effect loop may hold at once.
// The core's own bounds (rate limits, send buffer, timeouts of the protocol) live in core/limits.ts.

import { protocolLimits } from '../protocol/limits.ts';

export const runtimeLimits = {
  /** A JSON body larger than this is refused with 413 before it is parsed. */
  httpBodyBytesMax: protocolLimits.frameBytesMax,
  /** HTTP requests handed to the core and not yet answered; more are refused with 503. */
  httpRequestsPendingMax: 10_000,
  /** /readyz gives up on a store ping after this long and answers 503. */
  readyPingTimeoutMs: 2000,
  /** Default for how long a peer has to answer our close frame before its socket is destroyed. */
  closeTimeoutMsDefault: 3000,
  /**
   * Connections the kernel may complete for us before we accept them (listen's backlog; Linux caps it
   * at net.core.somaxconn, 4096 here). Node's default, 511, overflowed in the 100,000-connection ramps:
   * a node whose loop stalled a second or two under a connect storm dropped SYNs beyond 511
   * (TcpExtListenOverflows), each dropped client waited out SYN retransmits (1, 3, 7 s...) past its
   * 10 s connect timeout and connected again from scratch, more work for a box already short of CPU.
   */
  listenBacklog: 4096,
  /** Open WebSocket connections of one server; upgrades beyond get 503 (file descriptors are finite). */
  connectionsMax: 200_000,
  /** Pings a connection may leave unanswered; at the next heartbeat it is terminated. */
  pingsUnansweredMax: 2,
  /** Inputs queued while the core's effects are being carried out; more means a feedback loop (a bug). */
  inputQueueMax: 1_000_000,
  /** While the store keeps failing, its error is logged again at most this often. */
  storeErrorRelogMs: 60_000,
  /** WebSocket close reasons are at most 123 bytes on the wire; longer ones are cut. */
  closeReasonBytesMax: 123,
  /** Traced sends (and their persists) remembered until fan-out; past it the oldest is forgotten. */
  tracedSendsMax: 10_000,
} as const;
