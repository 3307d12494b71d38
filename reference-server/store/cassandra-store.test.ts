// The Cassandra store against the shared MessageStore contract, through the real cassandra-driver, on
// the CQL test server's table model (test-support/cql): a model of Cassandra, not Cassandra. Buckets
// of 16 messages, so reads, last-seq probes and slot walks cross partitions.

import { afterAll, beforeAll } from 'vitest';
import { CqlTestServer } from '../../test-support/cql/cql-test-server.ts';
import { CassandraStore } from './cassandra-store.ts';
import { describeMessageStoreContract } from './message-store.contract.ts';

let server: CqlTestServer;
let keyspaces = 0;
beforeAll(async () => {
  server = await CqlTestServer.start({ nodes: 3 });
});
afterAll(async () => {
  await server?.close();
});

function storeIn(keyspace: string): CassandraStore {
  return new CassandraStore({ contactPoints: server.contactPoints, keyspace, bucketMessages: 16 });
}

describeMessageStoreContract(
  'CassandraStore on the CQL test server (a model of Cassandra)',
  async () => {
    const keyspace = `contract${++keyspaces}`;
    return { store: storeIn(keyspace), reopen: () => storeIn(keyspace), dispose: async () => undefined };
  },
  { durable: true, propertyRuns: 10 },
);
