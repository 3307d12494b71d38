// What a Cassandra node shows a driver about itself and its peers at connect: system.local,
// system.peers (every other node of the test cluster), and empty system_schema tables (the model has
// no schema metadata to offer; the driver copes with none). One such engine per node, since each
// node's peers are the others.

import { parseStatement } from './cql-statement.ts';
import type { CqlValue } from './cql-wire.ts';
import { TableEngine } from './table-engine.ts';

export const releaseVersion = '3.11.16';
export const schemaVersion = '5a1ab0c4-0000-4000-8000-00000000c0de';

const tables = [
  `CREATE TABLE system.local (key text PRIMARY KEY, bootstrapped text, broadcast_address inet, cluster_name text,
     cql_version text, data_center text, host_id uuid, listen_address inet, native_protocol_version text,
     partitioner text, rack text, release_version text, rpc_address inet, schema_version uuid, tokens set<text>)`,
  `CREATE TABLE system.peers (peer inet PRIMARY KEY, data_center text, host_id uuid, preferred_ip inet, rack text,
     release_version text, rpc_address inet, schema_version uuid, tokens set<text>)`,
  'CREATE TABLE system_schema.keyspaces (keyspace_name text PRIMARY KEY, durable_writes boolean, replication map<text, text>)',
  'CREATE TABLE system_schema.tables (keyspace_name text, table_name text, id uuid, PRIMARY KEY (keyspace_name, table_name))',
  'CREATE TABLE system_schema.columns (keyspace_name text, table_name text, column_name text, kind text, position int, type text, clustering_order text, PRIMARY KEY (keyspace_name, table_name, column_name))',
  'CREATE TABLE system_schema.indexes (keyspace_name text, table_name text, index_name text, PRIMARY KEY (keyspace_name, table_name, index_name))',
  'CREATE TABLE system_schema.types (keyspace_name text, type_name text, PRIMARY KEY (keyspace_name, type_name))',
  'CREATE TABLE system_schema.functions (keyspace_name text, function_name text, PRIMARY KEY (keyspace_name, function_name))',
  'CREATE TABLE system_schema.aggregates (keyspace_name text, aggregate_name text, PRIMARY KEY (keyspace_name, aggregate_name))',
  'CREATE TABLE system_schema.views (keyspace_name text, view_name text, PRIMARY KEY (keyspace_name, view_name))',
  'CREATE TABLE system_schema.triggers (keyspace_name text, table_name text, trigger_name text, PRIMARY KEY (keyspace_name, table_name, trigger_name))',
];

export type NodeIdentity = {
  address: string;
  dataCenter: string;
  rack: string;
  hostId: string;
  token: string;
};

/** The system keyspaces as node `self` of `nodes` answers them. */
export function systemTables(self: number, nodes: NodeIdentity[], clusterName: string): TableEngine {
  const engine = new TableEngine();
  engine.createKeyspace('system');
  engine.createKeyspace('system_schema');
  for (const cql of tables) engine.execute(parseStatement(cql), [], undefined, 0n);
  const run = (cql: string, values: CqlValue[]) => engine.execute(parseStatement(cql), values, undefined, 1n);
  const me = nodes[self]!;
  run(
    `INSERT INTO system.local (key, bootstrapped, broadcast_address, cluster_name, cql_version, data_center, host_id,
       listen_address, native_protocol_version, partitioner, rack, release_version, rpc_address, schema_version, tokens)
     VALUES ('local', 'COMPLETED', ?, ?, '3.4.4', ?, ?, ?, '4', 'org.apache.cassandra.dht.Murmur3Partitioner', ?, ?, ?, ?, ?)`,
    [
      me.address,
      clusterName,
      me.dataCenter,
      me.hostId,
      me.address,
      me.rack,
      releaseVersion,
      me.address,
      schemaVersion,
      [me.token],
    ],
  );
  nodes.forEach((peer, i) => {
    if (i === self) return;
    run(
      `INSERT INTO system.peers (peer, data_center, host_id, preferred_ip, rack, release_version, rpc_address, schema_version, tokens)
       VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)`,
      [
        peer.address,
        peer.dataCenter,
        peer.hostId,
        peer.address,
        peer.rack,
        releaseVersion,
        peer.address,
        schemaVersion,
        [peer.token],
      ],
    );
  });
  return engine;
}

/** Evenly spaced Murmur3 tokens, one per node. */
export function nodeToken(index: number, count: number): string {
  const span = 2n ** 64n / BigInt(count);
  return String(-(2n ** 63n) + span * BigInt(index));
}
