// The MessageStore contract against a REAL Cassandra cluster, when CASSANDRA_CONTACT_POINTS is set
// (host[:port],host[:port]; CASSANDRA_DC names the local data centre, default datacenter1). Without
// it this file is reported as skipped, never as passed: nothing here ran against Cassandra.
// Each fixture gets its own keyspace (chatsim_contract_<pid>_<n>), left behind for inspection.

import { describe } from 'vitest';
import { cassandraLimits } from './cassandra-limits.ts';
import { CassandraStore } from './cassandra-store.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';

const contactPoints = process.env.CASSANDRA_CONTACT_POINTS?.split(',').filter((p) => p.trim() !== '');
let keyspaces = 0;

function storeIn(keyspace: string): CassandraStore {
  return new CassandraStore({
    contactPoints: contactPoints ?? [],
    keyspace,
    localDataCenter: process.env.CASSANDRA_DC ?? cassandraLimits.localDataCenterDefault,
    replication: process.env.CASSANDRA_REPLICATION ?? cassandraLimits.replicationDefault,
    bucketMessages: 16,
  });
}

describe.skipIf(contactPoints === undefined || contactPoints.length === 0)(
  'on a real Cassandra (CASSANDRA_CONTACT_POINTS)',
  () => {
    describeMessageStoreContract(
      'CassandraStore on a real Cassandra cluster',
      async () => {
        const keyspace = `chatsim_contract_${process.pid}_${++keyspaces}`;
        return { store: storeIn(keyspace), reopen: () => storeIn(keyspace), dispose: async () => undefined };
      },
      { durable: true, propertyRuns: 10 },
    );
  },
);
