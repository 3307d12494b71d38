// Every bound and default of a node, in one place. Each is a CLI flag of `chatsim serve` with its unit
// in its name (see cli/serve.ts); protocol-fixed bounds live in protocol/limits.ts.

export type NodeLimits = {
  helloTimeoutMs: number;
  heartbeatMs: number;
  largeGroupThreshold: number;
  typingThrottleMs: number;
  typingTtlMs: number;
  sendBufferBytesMax: number;
  badFramesMax: number;
  notifyCoalesceMs: number;
  drainReconnectMs: number;
  drainTimeoutMs: number;
  userSendsPerSec: number;
  userSendBurst: number;
  connFramesPerSec: number;
  connFrameBurst: number;
  /** Frames a connection may send while its token is being verified; more closes it with 4400. */
  framesWhileVerifyingMax: number;
  watchedUsersPerConnMax: number;
  /**
   * How long a seq this node never saw may stay missing before the node reads it from the store and
   * pushes it (bus events of different nodes may arrive out of order; a lost one never arrives).
   */
  gapGraceMs: number;
  /** A catch-up from the store that failed (store away) is tried again after this long. */
  catchUpRetryMs: number;
};

export const defaultLimits: NodeLimits = {
  helloTimeoutMs: 5000,
  heartbeatMs: 10_000,
  largeGroupThreshold: 256,
  typingThrottleMs: 2000,
  typingTtlMs: 3000,
  sendBufferBytesMax: 4 * 1024 * 1024,
  badFramesMax: 10,
  notifyCoalesceMs: 20,
  drainReconnectMs: 1000,
  drainTimeoutMs: 10_000,
  userSendsPerSec: 50,
  userSendBurst: 100,
  connFramesPerSec: 500,
  connFrameBurst: 1000,
  framesWhileVerifyingMax: 256,
  watchedUsersPerConnMax: 10_000,
  gapGraceMs: 200,
  catchUpRetryMs: 1000,
};

/** Fixed bounds of the core that are no flag of `chatsim serve`. */
export const coreLimits = {
  /**
   * A presence snapshot also lists the users whose last connection on this node ended this recently,
   * with when: a node that lost the bus while they left learns the exact time instead of stamping the
   * time it heard of it (which no other node knows, so a watcher moving between nodes saw lastSeen go
   * back). Older leaves are not listed: the snapshot stays bounded by the recent churn.
   */
  snapshotGoneWithinMs: 5 * 60_000,
  /**
   * Member-only frames of one connection a fleet node may hold while it reads the store's membership
   * before refusing them (see ChatNode.recheckBeforeRefusing); past it, it refuses by what it knows,
   * so a non-member cannot turn its frames into unbounded store reads.
   */
  rechecksPerConnMax: 16,
  /**
   * Seqs of one conversation a fleet node remembers it pushed from a store read without hearing their
   * `msg` on the bus (Conversation.markUnheard), so that a duplicate append of one is read back and
   * published. Past it the oldest is forgotten: a resend that late is long given up (sendPatienceMs).
   */
  unheardSeqsPerConvMax: 256,
} as const;
