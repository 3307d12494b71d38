// Every bound and timing of the live driver, in one place.

export const liveLimits = {
  /** V8 semi-space of a generator process, in MiB (generator-pool.ts says why). */
  generatorSemiSpaceMb: 8,
  /**
   * Client sockets per generator process at most (fewer where the open-file limit is lower,
   * file-budget.ts): the box allows 20,000 open files per process, and one core drives about this many.
   */
  socketsPerGeneratorMax: 19_000,
  /**
   * Open files a generator or node keeps for itself (log segments, listening sockets, Redis and HTTP
   * connections, stdio, epoll; an idle reference node holds 26): the rest of the limit is for clients.
   */
  ownFilesReserve: 100,
  /** How often the driver samples its nodes' and generators' memory and open files (/proc). */
  processSampleMs: 2000,
  /** Open files are counted every this many samples (a count walks /proc/PID/fd, one entry per file). */
  processFilesEvery: 5,
  /** Points kept per process curve (a long soak's curve is thinned to this many, evenly). */
  processCurvePointsMax: 600,
  /** How long a server process has to answer /readyz with 200 after it starts. */
  nodeStartTimeoutMs: 20_000,
  nodeReadyPollMs: 100,
  /** SIGTERM (drain), then SIGKILL after this long. */
  nodeStopGraceMs: 15_000,
  /** Output kept per server process, to explain a failed start. */
  nodeOutputTailBytes: 4096,
  /** Concurrent admin HTTP requests while provisioning and reading back. */
  httpConcurrency: 32,
  httpTimeoutMs: 10_000,
  /** Attempts of one admin request answered 503/429 or not at all. */
  httpAttemptsMax: 5,
  /** The generators flush their history events this often, or at this many events. */
  eventFlushMs: 50,
  /** How often a generator samples its own memory (its peak goes into the report). */
  memorySampleMs: 1000,
  eventBatchMax: 2000,
  /** Sampling resolution of a generator's event-loop delay (perf_hooks.monitorEventLoopDelay). */
  loopDelayResolutionMs: 20,
  /**
   * Connects one generator has in flight at most (dialed, not yet welcomed or closed); the others wait
   * their turn in order (connect-gate.ts) and their connect timeout starts when they are dialed. A
   * generator short of CPU then paces its connects to what it completes rather than timing them out
   * and dialing them again (docs/benchmarks.md, the 100,000 runs). On loopback a connect takes a few
   * ms when the box has CPU to spare, so 64 in flight allow thousands of connects a second; the bound
   * bites only when connects take over ~100 ms.
   */
  connectsInFlightMax: 64,
  /** Timer wheel granularity of the generators. */
  timerTickMs: 5,
  /** The driver says so (once per this long) when its checkers lag the generators by more than this. */
  historyLagLogMs: 10_000,
  /** How often the driver asks the generators whether the run has settled. */
  settleCheckEveryMs: 500,
  /**
   * After settle, how long the driver waits for the adversaries' attempts from before settle to get an
   * outcome (an unanswered one times out after the client's attemptTimeoutMs; a cursor attempt needs a
   * reconnect and its welcome). Past it the attempts stay unanswered: authorization could not judge.
   */
  attemptsSettleMaxMs: 60_000,
  /**
   * delivery-mode's reach on a live target: a push is due this long after its ack, and a receipt after
   * its cursor frame (3 s in simulation: real nodes, Redis and generators share a machine). Only
   * sessions whose device heard the server after that are judged, so a later push still counts. A run
   * that overloads its server (acks slower than this) may skip delivery-mode (`checks.skip`).
   */
  reachDueMs: 5000,
  /**
   * After settle, how long at most the sessions stay open while a checker is still owed what a longer run
   * could judge (hold-owed.ts): under load receipts fell due up to 15 s after settle, and the server's
   * pings (every 10 s) show a device still heard it after that (docs/benchmarks.md, session 23).
   */
  holdOwedMaxMs: 30_000,
  /** The run's clock starts this long after the last generator is ready. */
  startLeadMs: 200,
  /** How long a generator may take to start, answer a query or finish. */
  generatorAnswerTimeoutMs: 60_000,
  /** Client tokens live this long (a soak must not outlive them). */
  tokenLifeSec: 7 * 24 * 3600,
  /** A hello with a valid token answered within this long proves the secret (the pre-flight check). */
  preflightTimeoutMs: 10_000,
  /**
   * How often the driver reads the servers' messages during the run (progressive-read.ts): each read
   * covers the seqs acked before the previous one, and the checkers drop their state for what it shows.
   */
  progressiveReadEveryMs: 60_000,
  /** Conversations read at once by a read during the run (the final read uses httpConcurrency). */
  progressiveReadConcurrency: 4,
  /** A reader's HTTP page (`workload.httpReadsPerMin`) unanswered this long is recorded as no answer. */
  httpReadTimeoutMs: 10_000,
  /** Pages one HTTP reader follows while the answer says there is more (as the simulator's). */
  httpReadPagesMax: 8,
  /** The final read's records are written to its file in runs of about this many bytes (spilled-store.ts). */
  spillFlushBytes: 256 * 1024,
  /** Index slots (16 bytes each) read at once when a checker looks up the final read's messages. */
  spillIndexPageSlots: 256,
  /** Messages read per HTTP page in the final read (protocol maximum 500). */
  readPageLimit: 500,
  /** Client groups of the Toxiproxy layer (one proxy per group and node): faults hit 5% steps. */
  networkGroups: 20,
  /**
   * A fault or phase boundary that fires later than this (the driver starved of CPU) means the run did
   * not carry out the scenario's timeline: it ends as could-not-judge (exit 3), never as a pass.
   */
  scheduleLateMaxMs: 2000,
  /** Presses after the first by a presser whose press a fault cut off (press-watch.ts). */
  pressAgainMax: 3,
  /** A presser cut off presses again this long after its next session opens (its resume goes first). */
  pressAgainAfterMs: 500,
  /** No press again later than this before the workload ends (its burst must be answered in the run). */
  pressAgainLeadMs: 3000,
  /** Generator CPU share above which latencies are reported as load-limited. */
  generatorCpuLoadLimited: 0.85,
  /**
   * A generator's event loop stalled longer than this (ms): it was starved of a core, its sends went out
   * and its acks were read that late, so latencies are load-limited too (load-limited.ts).
   */
  generatorStallLoadLimitedMs: 2000,
  /**
   * The box's CPU pressure ("some" of /proc/pressure/cpu over the run) above which latencies are
   * load-limited too: for more than half the run some runnable task, the server's among them, waited
   * for a core (load-limited.ts).
   */
  cpuPressureLoadLimited: 0.5,
} as const;
