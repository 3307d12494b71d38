// Every bound and default of the minimal server, in one place. The configurable ones carry the flag
// names `chatsim serve` uses (`--heartbeat-ms`, `--user-send-burst`, ...), so a harness that tunes a
// server under test passes the same flags to either server. The defaults are protocol.md's.

export type MinimalLimits = {
  helloTimeoutMs: number;
  heartbeatMs: number;
  largeGroupThreshold: number;
  typingThrottleMs: number;
  typingTtlMs: number;
  /** A large group's notify frames are coalesced over this interval (one per conversation). */
  notifyCoalesceMs: number;
  sendBufferBytesMax: number;
  badFramesMax: number;
  drainReconnectMs: number;
  drainTimeoutMs: number;
  userSendsPerSec: number;
  userSendBurst: number;
  watchedUsersPerConnMax: number;
};

export const defaultMinimalLimits: MinimalLimits = {
  helloTimeoutMs: 5000,
  heartbeatMs: 10_000,
  largeGroupThreshold: 256,
  typingThrottleMs: 2000,
  typingTtlMs: 3000,
  notifyCoalesceMs: 20,
  sendBufferBytesMax: 4 * 1024 * 1024,
  badFramesMax: 10,
  drainReconnectMs: 1000,
  drainTimeoutMs: 10_000,
  userSendsPerSec: 50,
  userSendBurst: 100,
  watchedUsersPerConnMax: 10_000,
};

/** Bounds fixed by protocol.md itself, and the server's own fixed bounds. */
export const fixedLimits = {
  frameBytesMax: 64 * 1024,
  bodyBytesMax: 4096,
  syncLimitMax: 500,
  watchUsersMax: 500,
  idLengthMax: 64,
  /** Conversations one hello may resume; more is a bad hello. */
  resumeConvsMax: 100_000,
  /** Bytes of one HTTP request body (an admin create with many members). */
  httpBodyBytesMax: 4 * 1024 * 1024,
  /** Members named in one admin create or member change. */
  adminMembersMax: 100_000,
  /** How long a peer has to answer a close frame before the socket is destroyed. */
  closeTimeoutMs: 3000,
  /** Characters of the `device` field. */
  deviceLengthMax: 256,
} as const;
