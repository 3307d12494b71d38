// Every bound of the embedded Toxiproxy in one place. Where Toxiproxy has the same bound, the value is
// Toxiproxy's, so a test written against one behaves the same against the other.

export const chaosLimits = {
  /** Chunks a stub's input holds before its writer waits: Go's unbuffered channel, plus one hand-off. */
  stubQueueChunks: 1,
  /** Chunks the latency toxic's input holds (Toxiproxy's GetBufferSize): latency does not cut throughput. */
  latencyQueueChunks: 1024,
  /** Chunks the link's writer holds while the destination socket is draining. */
  writerQueueChunks: 1,
  /** An HTTP API request body larger than this is refused with 413. */
  apiBodyBytesMax: 4 * 1024 * 1024,
  /** Toxiproxy's http.TimeoutHandler: a request still running after this gets 503 with an empty body. */
  apiRequestTimeoutMs: 25_000,
  /**
   * The harness's own bound, not Toxiproxy's: waits before trying a heal's API call again when it was
   * not answered in time (408, 503, a reset); about a minute in all.
   */
  apiRetryDelaysMs: [500, 1_000, 2_000, 4_000, 8_000, 15_000, 30_000],
  /** After a socket is ended (FIN), how long the peer has to finish before it is destroyed. */
  closeGraceMs: 2_000,
  /** How long to wait for a proxy's upstream to accept a connection before the client is closed. */
  upstreamDialTimeoutMs: 10_000,
} as const;
