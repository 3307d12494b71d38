// Every bound of the checkers, in one place. Checkers see every event of runs with a million clients,
// so their state is compact tables that grow with the run; these bounds say how far, and how much of a
// failure is kept to show (the witness), so a badly broken run cannot exhaust memory by failing.

export type CheckerLimits = {
  /** Offending cases a checker keeps for its witness; the rest are only counted. */
  witnessCasesMax: number;
  /**
   * Entries a slot table (and each column it indexes) may hold before the run is declared too big; at most
   * 2^27 - 1, what a slot table's buckets number (slot-table.ts).
   */
  tableEntriesMax: number;
  /** First capacity of a slot table or column; they grow from here (an index doubles, a column by an eighth). */
  tableEntriesInitial: number;
  /** Skipped-seq intervals kept per (device, conv); past it displays below the newest are not judged. */
  holeIntervalsPerPairMax: number;
  /** Adversarial attempts awaiting their outcome; past it the oldest is judged unanswered. */
  pendingAttemptsMax: number;
  /**
   * Frames the authorization checker found unauthorized by the membership the stream knew then, kept to
   * be re-judged at the end (the stream may learn of a join late); past it they are judged at once.
   */
  authorizationSuspectsMax: number;
  /**
   * Live receipts past the store's lastSeq as far as the harness had heard of it, kept to be judged by
   * later sends and the end (cursor-monotonicity); past it they are judged at once.
   */
  receiptsAheadMax: number;
  /** Recent bodies (and cmids) agreement remembers the hash of, so a message shown on many devices is hashed once. */
  recentHashesMax: number;
  /** Sends awaiting their ack (agreement keeps their body hash); past it the oldest is forgotten. */
  pendingSendsMax: number;
  /** Per-user ack rings the rate-limit checker keeps for reuse once their users went idle. */
  spareAckRingsMax: number;
};

export const defaultCheckerLimits: CheckerLimits = {
  witnessCasesMax: 5,
  tableEntriesMax: (1 << 27) - 1,
  tableEntriesInitial: 1024,
  holeIntervalsPerPairMax: 1024,
  pendingAttemptsMax: 100_000,
  authorizationSuspectsMax: 100_000,
  receiptsAheadMax: 100_000,
  recentHashesMax: 4096,
  pendingSendsMax: 2_000_000,
  spareAckRingsMax: 100_000,
};

/** protocol.md's default send limits: 50 sends per second per user, bursts of 100. */
export const protocolSendLimits = { perSec: 50, burst: 100 } as const;

/** In-process checkers (simulator/run-scenario.ts): history events held before they are fed in one run. */
export const heldEventsMax = 1024;

/** The checker thread's pipe (simulator/checker-thread.ts). */
export const checkerThreadLimits = {
  /** History events per batch sent to the thread. */
  batchEvents: 4096,
  /** Batches sent and not yet judged before the world waits for the thread. */
  batchesInFlightMax: 16,
  /**
   * Conversations of the final store content per message to the thread: one message of a million
   * clients' 1.2 M messages was one serialized copy of them all, held at once beside both heaps.
   */
  storedConversationsPerMessage: 4096,
  /** How long one wait for the thread lasts before it looks again. */
  waitSliceMs: 1000,
  /** A thread that judges nothing for this long while batches wait is taken for dead. */
  silenceMaxMs: 600_000,
  /**
   * The thread's V8 semi-space, in MiB (its young generation is two): the launcher's 64 MiB pays for
   * itself on the world's thread, but the checkers' objects die young anyway. At 100k clients 16 held
   * the thread's committed heap at 185 MiB where 64 held 289, the peak RSS 871,960 KB where 991,468, the
   * thread's CPU no higher (docs/benchmarks.md, mem18).
   */
  semiSpaceMb: 16,
} as const;
