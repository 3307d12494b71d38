// The Cassandra store's driver path, statement by statement, through the real cassandra-driver and the
// CQL test server: the consistency level of every statement it runs, two nodes racing for slots (LWT not
// applied), lost and ambiguous writes (write timeouts, applied or not), read timeouts, unavailable, and
// nodes going down. Each error either ends in a correct answer or in StoreUnavailableError (the core
// answers `unavailable` and the client retries with the same cmid), never in a lost or doubled message,
// and the membership version an answer reports is read after its seqs were placed.

import { afterEach, describe, expect, it } from 'vitest';
import { CqlTestServer } from '../../test-support/cql/cql-test-server.ts';
import { eventually } from '../../test-support/eventually.ts';
import { CassandraStore } from './cassandra-store.ts';
import { StoreUnavailableError } from './message-store.ts';

const open: (CassandraStore | CqlTestServer)[] = [];
afterEach(async () => {
  for (const thing of open.splice(0).reverse()) await thing.close().catch(() => undefined);
});

async function cluster(nodes = 1) {
  const server = await CqlTestServer.start({ nodes });
  open.push(server);
  return server;
}

async function storeOn(server: CqlTestServer, keyspace = 'chat') {
  const store = new CassandraStore({ contactPoints: server.contactPoints, keyspace, bucketMessages: 4 });
  open.push(store);
  await store.open();
  return store;
}

const send = (store: CassandraStore, cmid: string, from = 'a', body = `body ${cmid}`) =>
  store.append({ conv: 'g', from, cmid, body, ts: 100 });

async function seqs(store: CassandraStore) {
  const read = await store.read({ conv: 'g', after: 0, limit: 100 });
  return read.status === 'ok' ? read.messages.map((m) => `${m.seq}:${m.from}/${m.cmid}`) : [];
}

describe('CassandraStore driver path', () => {
  it('runs reads and writes at QUORUM and LWTs with SERIAL Paxos, creating its schema on open', async () => {
    const server = await cluster();
    const store = await storeOn(server);
    expect(server.queries(/^CREATE/).map((q) => q.query.split(' (')[0])).toEqual([
      "CREATE KEYSPACE IF NOT EXISTS chat WITH replication = {'class': 'SimpleStrategy', 'replication_factor': 3}",
      'CREATE TABLE IF NOT EXISTS chat.conversations',
      'CREATE TABLE IF NOT EXISTS chat.messages',
      'CREATE TABLE IF NOT EXISTS chat.idempotency',
      'CREATE TABLE IF NOT EXISTS chat.cursors',
    ]);
    await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    server.log.length = 0;
    expect(await send(store, 'm1')).toMatchObject({ status: 'ok', seq: 1, duplicate: false });
    await store.changeMembers({ conv: 'g', add: ['c'], remove: [] });
    await store.advanceCursor({ conv: 'g', user: 'b', kind: 'read', seq: 1 });
    const s = store.statements;
    const levels = (query: string) =>
      server
        .queries()
        .filter((q) => q.query === query && q.kind === 'execute')
        .map((q) => `${q.consistency}/${q.serialConsistency ?? '-'}`);
    expect(levels(s.conversation)).toEqual(['QUORUM/-', 'QUORUM/-', 'QUORUM/-']);
    expect(levels(s.idempotency)).toEqual(['QUORUM/-']);
    expect(levels(s.writeAfter)).toEqual(['QUORUM/-']);
    expect(levels(s.place)).toEqual(['QUORUM/SERIAL']);
    expect(levels(s.writeSeq)).toEqual(['QUORUM/-']);
    expect(levels(s.writeHint)).toEqual(['QUORUM/-']);
    expect(levels(s.members)).toEqual(['QUORUM/-']); // the send's membership version
    expect(levels(s.changeMembers)).toEqual(['QUORUM/SERIAL']);
    expect(levels(s.lastInBucket)).toContain('SERIAL/-'); // a membership change counts in-flight placements
    expect(levels(s.newCursor)).toEqual(['QUORUM/SERIAL']);
    server.log.length = 0;
    expect(await store.read({ conv: 'g', after: 0, limit: 10 })).toMatchObject({ membersVersion: 3 });
    expect(levels(s.members)).toEqual(['QUORUM/-']);
  });

  it('reports the membership version read after the placement: a removal through another node just before counts', async () => {
    const server = await cluster(3);
    const [n1, n2] = [await storeOn(server), await storeOn(server)];
    await n1.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    expect(await send(n1, 'm1')).toMatchObject({ seq: 1, membersVersion: 2 });
    // n1 has read the conversation (b still a member) when its idempotency write stalls; b is removed
    // through n2 meanwhile, so n1's message is placed after b's span ends.
    server.prime({
      when: { query: n1.statements.writeAfter },
      answer: { void: true, applyFirst: true, delayMs: 300 },
      times: 1,
    });
    const sent = send(n1, 'm2');
    await eventually(async () => expect(server.queries().some((q) => q.primed !== undefined)).toBe(true));
    const removed = await n2.changeMembers({ conv: 'g', add: [], remove: ['b'] });
    expect(removed.status === 'ok' && removed.conversation.members.b).toEqual([{ from: 1, to: 1 }]);
    expect(await sent).toMatchObject({ status: 'ok', seq: 2, duplicate: false, membersVersion: 3 });
    expect(await n1.read({ conv: 'g', after: 1, limit: 10 })).toMatchObject({
      lastSeq: 2,
      membersVersion: 3,
    });
  });

  it('answers unavailable when the membership version cannot be read, and the retry gets the seq and the version', async () => {
    const server = await cluster();
    const store = await storeOn(server);
    await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    const s = store.statements;
    server.prime({
      when: { query: s.members },
      answer: { error: 'read_timeout', received: 1, blockFor: 2 },
      times: 1,
    });
    await expect(send(store, 'm1')).rejects.toBeInstanceOf(StoreUnavailableError); // placed, unacknowledged
    await store.changeMembers({ conv: 'g', add: ['c'], remove: [] });
    server.prime({
      when: { query: s.members },
      answer: { error: 'unavailable', required: 2, alive: 1 },
      times: 1,
    });
    await expect(send(store, 'm1')).rejects.toThrow(/Not enough replicas available/);
    expect(await send(store, 'm1')).toMatchObject({
      status: 'ok',
      seq: 1,
      duplicate: true,
      membersVersion: 3,
    });
    server.prime({ when: { query: s.members }, answer: { error: 'read_timeout' }, times: 1 });
    await expect(store.read({ conv: 'g', after: 0, limit: 10 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(await store.read({ conv: 'g', after: 0, limit: 10 })).toMatchObject({
      lastSeq: 1,
      membersVersion: 3,
    });
  });

  it('keeps seqs gap-free and one seq per key when two nodes race for the same slots', async () => {
    const server = await cluster(3);
    const [n1, n2] = [await storeOn(server), await storeOn(server)];
    await n1.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    const sends = Array.from({ length: 40 }, (_, i) => ({
      node: i % 2 === 0 ? n1 : n2,
      cmid: `m${i % 25}`,
      from: i % 3 === 0 ? 'b' : 'a',
    }));
    const results = await Promise.all(sends.map((x) => send(x.node, x.cmid, x.from)));
    const byKey = new Map<string, number[]>();
    results.forEach((r, i) => {
      if (r.status !== 'ok') throw new Error(JSON.stringify(r));
      const key = `${sends[i]!.from}/${sends[i]!.cmid}`;
      byKey.set(key, [...(byKey.get(key) ?? []), r.seq]);
    });
    for (const [key, keySeqs] of byKey) expect(new Set(keySeqs).size, key).toBe(1);
    expect(results.filter((r) => r.status === 'ok' && !r.duplicate)).toHaveLength(byKey.size);
    const stored = await seqs(n2);
    expect(stored.map((x) => Number(x.split(':')[0]))).toEqual(
      Array.from({ length: byKey.size }, (_, i) => i + 1),
    );
    // The race really happened: some placements were refused ([applied]=false) and walked on.
    expect(server.queries().filter((q) => q.query === n1.statements.place).length).toBeGreaterThan(
      byKey.size,
    );
  });

  it('walks past an occupied slot when a last-seq hint was lost, and a retry of the failed send keeps its seq', async () => {
    const server = await cluster();
    const store = await storeOn(server);
    await store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b'] });
    server.prime({
      when: { query: store.statements.writeHint },
      answer: { error: 'write_timeout', writeType: 'SIMPLE' },
      times: 1,
    });
    await expect(send(store, 'm1')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await send(store, 'm2', 'b')).toMatchObject({ status: 'ok', seq: 2, duplicate: false });
    const places = server
      .queries()
      .filter((q) => q.query === store.statements.place && q.kind === 'execute')
      .map((q) => q.values[2]);
    expect(places).toEqual([1n, 1n, 2n]); // m1 at 1; m2 tried 1 (not applied: m1 is there), then 2
    expect(await send(store, 'm1')).toMatchObject({ status: 'ok', seq: 1, duplicate: true });
    expect(await seqs(store)).toEqual(['1:a/m1', '2:b/m2']);
  });

  it('asks a slot again after a CAS write timeout: a placement that landed is its own, one that did not is made', async () => {
    const server = await cluster();
    const store = await storeOn(server);
    await store.createConversation({ id: 'g', kind: 'group', members: ['a'] });
    const place = store.statements.place;
    server.prime({
      when: { query: place },
      answer: { error: 'write_timeout', writeType: 'CAS', applyFirst: true },
      times: 1,
    });
    expect(await send(store, 'm1')).toMatchObject({ status: 'ok', seq: 1, duplicate: false });
    server.prime({ when: { query: place }, answer: { error: 'write_timeout', writeType: 'CAS' }, times: 2 });
    expect(await send(store, 'm2')).toMatchObject({ status: 'ok', seq: 2, duplicate: false });
    expect(await seqs(store)).toEqual(['1:a/m1', '2:a/m2']);
    server.prime({ when: { query: place }, answer: { error: 'write_timeout', writeType: 'CAS' }, times: 4 });
    await expect(send(store, 'm3')).rejects.toBeInstanceOf(StoreUnavailableError);
    expect(await send(store, 'm3')).toMatchObject({ status: 'ok', seq: 3, duplicate: false });
  });

  it('answers unavailable on read timeouts and unavailable replicas, and loses nothing for the retry', async () => {
    const server = await cluster();
    const store = await storeOn(server);
    await store.createConversation({ id: 'g', kind: 'group', members: ['a'] });
    const s = store.statements;
    server.prime({
      when: { query: s.conversation },
      answer: { error: 'read_timeout', received: 1, blockFor: 2 },
      times: 1,
    });
    await expect(send(store, 'm1')).rejects.toBeInstanceOf(StoreUnavailableError);
    server.prime({
      when: { query: s.writeAfter },
      answer: { error: 'unavailable', required: 2, alive: 1 },
      times: 1,
    });
    await expect(send(store, 'm1')).rejects.toThrow(/Not enough replicas available/);
    server.prime({ when: { query: s.writeSeq }, answer: { error: 'write_timeout' }, times: 1 });
    await expect(send(store, 'm1')).rejects.toBeInstanceOf(StoreUnavailableError); // placed, unacknowledged
    expect(await send(store, 'm1')).toMatchObject({ status: 'ok', seq: 1 });
    server.prime({ when: { query: s.page }, answer: { error: 'read_timeout' }, times: 1 });
    await expect(store.read({ conv: 'g', after: 0, limit: 10 })).rejects.toBeInstanceOf(
      StoreUnavailableError,
    );
    expect(await seqs(store)).toEqual(['1:a/m1']);
  });

  it('keeps working with nodes down while one is up, then answers unavailable, and works again when one is back', async () => {
    const server = await cluster(3);
    const store = await storeOn(server);
    await store.createConversation({ id: 'g', kind: 'group', members: ['a'] });
    await server.stopNode(0);
    await server.stopNode(1);
    const first = await send(store, 'm1').catch((e: unknown) => e); // may have been in flight to a node that went
    if (first instanceof Error) expect(first).toBeInstanceOf(StoreUnavailableError);
    expect(await send(store, 'm1')).toMatchObject({ status: 'ok', seq: 1 });
    await server.stopNode(2);
    await expect(store.ping()).rejects.toBeInstanceOf(StoreUnavailableError);
    await expect(send(store, 'm2')).rejects.toBeInstanceOf(StoreUnavailableError);
    await server.startNode(2);
    expect(await eventually(() => send(store, 'm2'))).toMatchObject({ status: 'ok', seq: 2 });
  });

  it('fails to open with the driver error when no contact point answers', async () => {
    const server = await cluster();
    const contactPoints = server.contactPoints;
    await server.close();
    const store = new CassandraStore({ contactPoints, keyspace: 'chat' });
    await expect(store.open()).rejects.toThrow(/All host\(s\) tried for query failed/);
    await store.close();
  });
});
