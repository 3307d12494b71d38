// Bounds of the Cassandra store, in one place: partition size, retry loops, timeouts.

export const cassandraLimits = {
  /** Messages per (conv, bucket) partition: 1,000 messages of ~1 KiB keep a partition near 1 MiB. */
  bucketMessagesDefault: 1000,
  /** Compare-and-set rounds a membership or cursor change tries before answering unavailable. */
  casRoundsMax: 16,
  /** Slots a placement walks past (others' messages) before it gives up and answers unavailable. */
  placementSlotsMax: 10_000,
  /** LWT write timeouts retried at the same slot before answering unavailable (the outcome is unknown). */
  casTimeoutRetriesMax: 3,
  /** The driver's per-request timeout; a node must answer `unavailable` promptly, not hang. */
  readTimeoutMs: 5000,
  connectTimeoutMs: 5000,
  /** Keyspace replication when the keyspace does not exist yet (created on open). */
  replicationDefault: "{'class': 'SimpleStrategy', 'replication_factor': 3}",
  localDataCenterDefault: 'datacenter1',
  portDefault: 9042,
} as const;
