// The CQL test server through the real cassandra-driver: the v4 downgrade, the system tables a driver
// reads, prepared statements with typed binds, lightweight transactions, BATCH, primed rows and errors
// (each surfacing as the driver's own error), the query log, and nodes going down.

import cassandra from 'cassandra-driver';
import { afterEach, describe, expect, it } from 'vitest';
import { CqlTestServer } from './cql-test-server.ts';

const { consistencies } = cassandra.types;
const open: { server: CqlTestServer; client: cassandra.Client }[] = [];
afterEach(async () => {
  for (const { server, client } of open.splice(0)) {
    await client.shutdown().catch(() => undefined);
    await server.close();
  }
});

async function connect(nodes = 1, logs?: string[]) {
  const server = await CqlTestServer.start({ nodes });
  const client = new cassandra.Client({
    contactPoints: server.contactPoints,
    localDataCenter: server.dataCenter,
    protocolOptions: { port: server.port },
    pooling: { warmup: true },
  });
  if (logs) client.on('log', (_level, _cls, message) => logs.push(message));
  open.push({ server, client });
  await client.connect();
  await client.execute(
    "CREATE KEYSPACE IF NOT EXISTS k WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
  );
  await client.execute(
    'CREATE TABLE IF NOT EXISTS k.t (a text, b bigint, c text, m map<text, text>, flag boolean, PRIMARY KEY (a, b))',
  );
  return { server, client };
}

const prepared = { prepare: true };

describe('CqlTestServer through cassandra-driver', () => {
  it('makes the driver downgrade to v4 and shows it every node through system.local and system.peers', async () => {
    const logs: string[] = [];
    const { client } = await connect(3, logs);
    expect(logs).toContain('Protocol 0x42 not supported, using 0x4');
    expect(logs.some((line) => line.includes('ControlConnection using protocol version 0x4'))).toBe(true);
    const hosts = client
      .getState()
      .getConnectedHosts()
      .map((h) => h.address.split(':')[0])
      .sort();
    expect(hosts).toEqual(['127.0.0.1', '127.0.0.2', '127.0.0.3']);
    const local = await client.execute("SELECT * FROM system.local WHERE key='local'");
    expect(local.first().release_version).toBe('3.11.16');
  });

  it('runs prepared statements with typed binds, reads rows back in clustering order, and answers LWTs', async () => {
    const { client } = await connect();
    for (const b of [3, 1, 2])
      await client.execute(
        'INSERT INTO k.t (a, b, c, m, flag) VALUES (?, ?, ?, ?, ?)',
        ['x', b, `c${b}`, { u: `${b}:-` }, b === 2],
        prepared,
      );
    const rows = await client.execute(
      'SELECT b, c, m, flag FROM k.t WHERE a = ? AND b > ? ORDER BY b DESC LIMIT ?',
      ['x', 1, 5],
      prepared,
    );
    expect(rows.rows.map((r) => [r.b.toNumber(), r.c, r.m, r.flag])).toEqual([
      [3, 'c3', { u: '3:-' }, false],
      [2, 'c2', { u: '2:-' }, true],
    ]);
    const lost = await client.execute(
      'INSERT INTO k.t (a, b, c) VALUES (?, ?, ?) IF NOT EXISTS',
      ['x', 1, 'other'],
      prepared,
    );
    expect(lost.wasApplied()).toBe(false);
    expect(lost.first().c).toBe('c1');
    const won = await client.execute(
      'UPDATE k.t SET c = ? WHERE a = ? AND b = ? IF c = ?',
      ['new', 'x', 1, 'c1'],
      prepared,
    );
    expect(won.wasApplied()).toBe(true);
    const stale = await client.execute(
      'UPDATE k.t SET c = ? WHERE a = ? AND b = ? IF c = ?',
      ['newer', 'x', 1, 'c1'],
      prepared,
    );
    expect([stale.wasApplied(), stale.first().c]).toEqual([false, 'new']);
  });

  it('keeps the cell with the highest write timestamp (USING TIMESTAMP)', async () => {
    const { client } = await connect();
    await client.execute(
      'UPDATE k.t USING TIMESTAMP ? SET c = ? WHERE a = ? AND b = ?',
      [5, 'five', 'y', 1],
      prepared,
    );
    await client.execute(
      'UPDATE k.t USING TIMESTAMP ? SET c = ? WHERE a = ? AND b = ?',
      [3, 'three', 'y', 1],
      prepared,
    );
    const row = await client.execute('SELECT c FROM k.t WHERE a = ? AND b = ?', ['y', 1], prepared);
    expect(row.first().c).toBe('five');
  });

  it('applies a conditional BATCH in one partition all or nothing', async () => {
    const { client } = await connect();
    const insert = 'INSERT INTO k.t (a, b, c) VALUES (?, ?, ?) IF NOT EXISTS';
    expect(
      (
        await client.batch(
          [
            { query: insert, params: ['z', 1, 'one'] },
            { query: insert, params: ['z', 2, 'two'] },
          ],
          prepared,
        )
      ).wasApplied(),
    ).toBe(true);
    const clash = await client.batch(
      [
        { query: insert, params: ['z', 3, 'three'] },
        { query: insert, params: ['z', 2, 'again'] },
      ],
      prepared,
    );
    expect(clash.wasApplied()).toBe(false);
    const rows = await client.execute('SELECT b FROM k.t WHERE a = ?', ['z'], prepared);
    expect(rows.rows.map((r) => r.b.toNumber())).toEqual([1, 2]);
  });

  it('answers primes (rows, then spent) before the model and records consistency and serial consistency', async () => {
    const { server, client } = await connect();
    const query = 'SELECT c FROM k.t WHERE a = ?';
    server.prime({
      when: { query },
      answer: { rows: [{ c: 'primed' }], columns: { c: { kind: 'text' } } },
      times: 1,
    });
    expect(
      (await client.execute(query, ['q'], { ...prepared, consistency: consistencies.quorum })).first().c,
    ).toBe('primed');
    expect((await client.execute(query, ['q'], prepared)).rows).toEqual([]);
    await client.execute('INSERT INTO k.t (a, b, c) VALUES (?, ?, ?) IF NOT EXISTS', ['q', 1, 'x'], {
      ...prepared,
      consistency: consistencies.quorum,
      serialConsistency: consistencies.serial,
    });
    const log = server.queries(/k\.t/).filter((q) => q.kind === 'execute');
    expect(log.map((q) => [q.consistency, q.serialConsistency ?? '-', q.primed ?? '-'])).toEqual([
      ['QUORUM', '-', 0],
      ['LOCAL_ONE', '-', '-'],
      ['QUORUM', 'SERIAL', '-'],
    ]);
    expect(log[2]!.values).toEqual(['q', 1n, 'x']);
  });

  it('surfaces primed read and write timeouts, unavailable and LWT not applied as the driver reports them', async () => {
    const { server, client } = await connect();
    const select = 'SELECT c FROM k.t WHERE a = ?';
    const update = 'UPDATE k.t SET c = ? WHERE a = ? AND b = ? IF c = ?';
    server.prime({
      when: { query: select, consistency: ['QUORUM'] },
      answer: { error: 'read_timeout', received: 1, blockFor: 2 },
    });
    server.prime({
      when: { query: update },
      answer: { error: 'write_timeout', writeType: 'CAS', consistency: 'SERIAL' },
      times: 1,
    });
    server.prime({
      when: { query: update },
      answer: { error: 'unavailable', required: 2, alive: 1 },
      times: 1,
    });
    server.prime({
      when: { query: update },
      answer: {
        rows: [{ '[applied]': false, c: 'theirs' }],
        columns: { '[applied]': { kind: 'boolean' }, c: { kind: 'text' } },
      },
    });
    const quorum = { ...prepared, consistency: consistencies.quorum };
    await expect(client.execute(select, ['a'], quorum)).rejects.toMatchObject({
      code: 0x1200,
      received: 1,
      blockFor: 2,
      consistencies: consistencies.quorum,
    });
    expect((await client.execute(select, ['a'], prepared)).rows).toEqual([]); // LOCAL_ONE: not primed
    const params = ['v', 'a', 1, 'old'];
    await expect(client.execute(update, params, quorum)).rejects.toMatchObject({
      code: 0x1100,
      writeType: 'CAS',
      consistencies: consistencies.serial,
    });
    // The driver's default retry policy tries the next host once on unavailable; one node, so none is left.
    const unavailable = await client.execute(update, params, quorum).catch((e: unknown) => e);
    expect(unavailable).toBeInstanceOf(cassandra.errors.NoHostAvailableError);
    expect(Object.values((unavailable as cassandra.errors.NoHostAvailableError).innerErrors)).toMatchObject([
      { code: 0x1000, required: 2, alive: 1 },
    ]);
    const notApplied = await client.execute(update, params, quorum);
    expect([notApplied.wasApplied(), notApplied.first().c]).toEqual([false, 'theirs']);
  });

  it('applies a write and then answers its primed timeout when asked (the ambiguous write)', async () => {
    const { server, client } = await connect();
    const insert = 'INSERT INTO k.t (a, b, c) VALUES (?, ?, ?) IF NOT EXISTS';
    server.prime({
      when: { query: insert },
      answer: { error: 'write_timeout', writeType: 'CAS', applyFirst: true },
      times: 1,
    });
    await expect(client.execute(insert, ['w', 1, 'landed'], prepared)).rejects.toMatchObject({
      code: 0x1100,
    });
    const again = await client.execute(insert, ['w', 1, 'retry'], prepared);
    expect([again.wasApplied(), again.first().c]).toEqual([false, 'landed']);
  });

  it('closes the connection on a primed close, and routes around a node that is down until none is left', async () => {
    const { server, client } = await connect(2);
    const select = 'SELECT c FROM k.t WHERE a = ?';
    server.prime({ when: { query: select, node: 0 }, answer: { closeConnection: true }, times: 1 });
    const outcomes = [];
    for (let i = 0; i < 2; i++)
      outcomes.push(
        await client.execute(select, ['a'], prepared).then(
          () => 'ok',
          (e: Error) => e.message,
        ),
      );
    expect(outcomes).toContain('Socket was closed');
    await server.stopNode(0);
    for (let i = 0; i < 4; i++) expect((await client.execute(select, ['a'], prepared)).rows).toEqual([]);
    expect(
      new Set(
        server
          .queries(/k\.t WHERE/)
          .filter((q) => q.kind === 'execute')
          .slice(-4)
          .map((q) => q.node),
      ),
    ).toEqual(new Set([1]));
    await server.stopNode(1);
    // The request in flight when the last node goes may fail as a closed socket; the next finds no host.
    const errors: unknown[] = [];
    for (let i = 0; i < 3; i++)
      errors.push(await client.execute(select, ['a'], prepared).catch((e: unknown) => e));
    expect(errors.at(-1)).toBeInstanceOf(cassandra.errors.NoHostAvailableError);
  });

  it('answers a statement it does not model with a syntax error, and an unknown table as invalid', async () => {
    const { client } = await connect();
    await expect(client.execute('DELETE FROM k.t WHERE a = ?', ['a'])).rejects.toMatchObject({
      code: 0x2000,
    });
    await expect(client.execute('SELECT * FROM k.nope')).rejects.toMatchObject({ code: 0x2200 });
  });
});
