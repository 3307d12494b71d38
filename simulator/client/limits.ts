// Every bound and timing of the virtual client, in one place. A million clients share one resolved
// config object per distinct Partial (cached by identity), so per-client memory holds no copy of it.

import { protocolLimits } from '../../reference-server/protocol/limits.ts';

export type AdversaryBehaviour =
  | 'forged-token'
  | 'foreign-send'
  | 'foreign-sync'
  | 'foreign-resume'
  | 'foreign-typing'
  | 'cursor-regression'
  | 'watch-past-bound'
  | 'missing-conv'
  | 'malformed-text'
  | 'repeated-hello'
  | 'silent-connection'
  | 'wrong-first-frame'
  | 'frames-before-welcome'
  | 'leave-before-welcome';

export type ClientConfig = {
  /** Sends in flight (sent, unanswered) per connection; the rest wait in the outbox. */
  sendWindow: number;
  /** Unacked messages the outbox holds; a send beyond it fails at once with `outbox_full`. */
  outboxMax: number;
  /** Ack timeouts and `unavailable` answers a send survives before it is reported failed. */
  sendAttemptsMax: number;
  /**
   * And for how long: a send is given up only once it has used `sendAttemptsMax` attempts AND this
   * long has passed since the workload issued it; its last retry waits no later than that moment. So
   * a send fails `unavailable` only when the store refused it at its first attempt and still refused it
   * this long after, whatever the backoff drew (a phone keeps a message "sending" through a short
   * outage, it does not give up after eight quick refusals). The swarm's fault window is bounded by
   * it (scenario-schema.ts `swarmFaultsMsMax`): see docs/architecture.md, "the failedSends SLO".
   */
  sendPatienceMs: number;
  /**
   * How long a send queued before a `member: false` welcome is held after that welcome for a sign of a
   * re-add the welcome's snapshot missed (outbox.ts). A fleet node that built the welcome from a read older
   * than a re-add applies the re-add's bus event right after (churn seed 1 at 150 clients: 9 ms after); a
   * hold of the whole patience kept live runs from settling (CI, session 18).
   */
  pastMemberHoldMs: number;
  /** `rate_limited` answers in a row a send survives before it is reported failed. */
  rateLimitedRetriesMax: number;
  ackTimeoutMs: number;
  /** Backoff of a send answered `unavailable`: min(cap, base * 2^attempt), jittered like reconnects. */
  sendRetryBaseMs: number;
  sendRetryCapMs: number;
  /** Acked or failed sends remembered for `status(cmid)`; older ones are forgotten. */
  settledKeptMax: number;
  /** Out-of-order messages held per conversation until the gap before them fills. */
  reorderBufferMax: number;
  /** How long a gap may persist before the client pulls it with `sync`. */
  gapTimeoutMs: number;
  /** A `sync` unanswered this long is sent again. */
  syncTimeoutMs: number;
  /** Unanswered syncs in a row (per conversation) before the connection is presumed broken. */
  syncRetriesMax: number;
  /** `limit` of each sync (the protocol's maximum is 500). */
  syncLimit: number;
  /** At most one `delivered` per conversation per interval. */
  cursorIntervalMs: number;
  /** A cursor answered `unavailable` or `rate_limited` is sent again after a backoff from sendRetryBaseMs up to this. */
  cursorRetryCapMs: number;
  /** Send `delivered` cursors at all (scale runs turn them off: receipts fan out to every member). */
  deliveredCursors: boolean;
  reconnectBaseMs: number;
  reconnectCapMs: number;
  /** Full jitter on reconnect and retry delays; false gives exact delays (the thundering herd). */
  jitter: boolean;
  /** Upper bound of the jitter added to a `drain`'s reconnectInMs. */
  drainJitterMs: number;
  /** After `drain`, how long in-flight sends may wait for their acks before the client closes anyway. */
  drainAckWaitMs: number;
  /** A connect attempt with no answer this long is abandoned (the world usually answers sooner). */
  connectTimeoutMs: number;
  /**
   * Nothing heard for this long before the welcome (which tells the server's heartbeat): the
   * connection is dead. 2.5 heartbeats of the protocol's default 10 s.
   */
  idleTimeoutMs: number;
  /**
   * Once a session is open, nothing heard for this many of the heartbeats the welcome announced
   * (`welcome.heartbeatMs`): the connection is dead. A server that pings every 30 s is not cut off
   * at 25 s, and one that pings every second is noticed dead in 2.5 s.
   */
  idleHeartbeats: number;
  /** Conversations resumed in one hello (protocol bound). */
  resumeConvsMax: number;
  /**
   * Syncs a pipelining device sends between its hello and the welcome (the rest wait for the welcome's
   * lastSeqs): well below what a server queues for a connection whose token it is still verifying (the
   * reference core's framesWhileVerifyingMax, 256, closes 4400 past it).
   */
  pipelinedSyncsMax: number;
  /** Conversations a client tracks; frames about more are counted and ignored. */
  convsMax: number;
  /** Users watched; re-sent after every welcome, in frames of at most the protocol's 500. */
  watchedUsersMax: number;
  /** Typing users remembered per conversation. */
  typingUsersMax: number;
  adversary: readonly AdversaryBehaviour[];
  /** Conversations the adversary is not a member of, targets of its foreign-* behaviours. */
  foreignConvs: readonly string[];
  /** One adversarial attempt every this often while connected. */
  adversaryEveryMs: number;
  /** An attempt with no observable answer by then is reported `no-answer`. */
  attemptTimeoutMs: number;
  /** How far past lastSeq the cursor-regression behaviour pushes a cursor. */
  cursorPastLastSeqBy: number;
  /**
   * How many users the watch-past-bound behaviour watches on one connection (users no one is): one
   * past the reference server's `watchedUsersPerConnMax`, whose `err` must then have protocol.md's
   * shape. protocol.md bounds one `watch` frame (500), not a connection: a server that serves them all
   * breaks nothing.
   */
  watchPastBoundUsers: number;
  /**
   * Bad frames (each owed `bad_request`) the malformed-text behaviour sends on one connection before the
   * one more that is owed close 4400: protocol.md's "the 11th on one connection closes it with 4400",
   * or the bound a scenario sets its nodes.
   */
  badFramesMax: number;
  /**
   * How long a connection may stay open without its `hello` before the server closes it 4408
   * (protocol.md's 5 s, or the bound a scenario sets its nodes): silent-connection's close is owed no
   * earlier than this after its connection began.
   */
  helloTimeoutMs: number;
};

export const defaultClientConfig: ClientConfig = Object.freeze({
  sendWindow: 16,
  outboxMax: 1000,
  sendAttemptsMax: 8,
  sendPatienceMs: 30_000,
  pastMemberHoldMs: 2_000,
  rateLimitedRetriesMax: 50,
  ackTimeoutMs: 10_000,
  sendRetryBaseMs: 250,
  sendRetryCapMs: 8000,
  settledKeptMax: 16,
  reorderBufferMax: 256,
  gapTimeoutMs: 500,
  syncTimeoutMs: 10_000,
  syncRetriesMax: 3,
  syncLimit: protocolLimits.syncLimitMax,
  cursorIntervalMs: 200,
  cursorRetryCapMs: 2000,
  deliveredCursors: true,
  reconnectBaseMs: 500,
  reconnectCapMs: 30_000,
  jitter: true,
  drainJitterMs: 1000,
  drainAckWaitMs: 5000,
  connectTimeoutMs: 10_000,
  idleTimeoutMs: 25_000,
  idleHeartbeats: 2.5,
  resumeConvsMax: protocolLimits.resumeConvsMax,
  pipelinedSyncsMax: 32,
  convsMax: protocolLimits.resumeConvsMax,
  watchedUsersMax: 2000,
  typingUsersMax: 32,
  adversary: Object.freeze([]) as readonly AdversaryBehaviour[],
  foreignConvs: Object.freeze([]) as readonly string[],
  adversaryEveryMs: 2000,
  attemptTimeoutMs: 5000,
  cursorPastLastSeqBy: 1_000_000,
  watchPastBoundUsers: 10_001,
  badFramesMax: 10,
  helloTimeoutMs: 5000,
});

const resolved = new WeakMap<Partial<ClientConfig>, ClientConfig>();

/** The full config for `partial`; the same object for the same `partial`, so clients can share it. */
export function resolveClientConfig(partial: Partial<ClientConfig> | undefined): ClientConfig {
  if (partial === undefined) return defaultClientConfig;
  let config = resolved.get(partial);
  if (config === undefined) {
    config = Object.freeze({ ...defaultClientConfig, ...partial });
    if (config.syncLimit < 1 || config.syncLimit > protocolLimits.syncLimitMax)
      throw new Error(`syncLimit must be within 1..${protocolLimits.syncLimitMax}`);
    if (config.sendWindow < 1) throw new Error('sendWindow must be at least 1');
    if (!(config.idleHeartbeats > 1)) throw new Error('idleHeartbeats must be more than 1');
    resolved.set(partial, config);
  }
  return config;
}
