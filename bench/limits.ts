// Every bound of the server benchmark, in one place, so a run is bounded in connections, time and
// memory whatever flags it is given (the box is shared: 2 cores, 20,000 open files per process).

export const benchLimits = {
  /** Seconds measured per phase when --seconds is not given, and the most --seconds may ask for. */
  secondsDefault: 10,
  secondsMax: 120,
  /**
   * Client connections of the echo and 1:1 phases; each is one socket in a load worker and one in the
   * server. 1:1 acks wait for an fsync (about 10 ms here), so it takes this many senders to keep the
   * server busy rather than measure fsync latency.
   */
  connectionsDefault: 1000,
  connectionsMax: 8000,
  /** Connections of the broadcast and group phases: each send fans out 50-fold, so fewer saturate. */
  groupConnectionsDefault: 100,
  /** Unacked sends one connection may have outstanding. */
  windowDefault: 8,
  windowMax: 256,
  /** Load-generator processes per phase. */
  loadProcessesDefault: 1,
  loadProcessesMax: 4,
  /** Members of every group conversation, and of every room of the raw broadcast server. */
  groupSize: 50,
  /** Nodes a fleet bench (--nodes) may start. */
  nodesMax: 8,
  /** Bytes of every message body, in the raw phases and the chatsim phases alike. */
  bodyBytes: 64,
  /** Share of --seconds run before counting starts (JIT, socket buffers), capped in ms. */
  warmupShare: 0.2,
  warmupMsMax: 2000,
  /** After the measured window, how long a worker waits for outstanding sends before closing. */
  drainMs: 2000,
  /** Connections a worker opens at once, so the server's accept queue is not flooded. */
  connectConcurrency: 64,
  /** How long all of a worker's connections may take to be open (and welcomed, for chatsim). */
  connectTimeoutMs: 30_000,
  /** How long a server child may take to print its port, and the whole /readyz poll. */
  serverStartTimeoutMs: 30_000,
  readyPollIntervalMs: 100,
  /** Admin HTTP requests in flight while creating conversations. */
  adminConcurrency: 16,
  /** A worker's report must arrive within the phase plus this much, or the phase fails. */
  reportSlackMs: 15_000,
  /** Open-model ticker period: how often a worker checks for sends that have come due. */
  tickMs: 1,
  /** Watchdog: a phase taking longer than --seconds plus this much ends the whole bench. */
  phaseOverheadMsMax: 120_000,
  /** SIGTERM first; SIGKILL a child still alive after this long. */
  killGraceMs: 2000,
  /** Bytes of a child's output kept to explain a failure. */
  outputTailBytes: 4096,
  /**
   * Largest latency the histogram resolves (35 min, the most its 31-bit buckets hold; live runs with
   * crashes wait minutes); slower samples are clamped, counted as overflow, and read as infinite by
   * the thresholds (simulator/verdict.ts).
   */
  latencyUsMax: 2 ** 31 - 1,
} as const;
