// `chatsim serve --cassandra ... --keyspace K`, spawned as an operator runs it, against the CQL test
// server (a model of Cassandra, not Cassandra): the schema is created on start, a send is acked and
// survives a SIGKILL of the node, and a second node on the same keyspace continues the seqs. An
// unreachable cluster is one line and exit 2.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ChatClient } from '../test-support/chat-client.ts';
import { ChildServer } from '../test-support/child-server.ts';
import { CqlTestServer } from '../test-support/cql/cql-test-server.ts';
import { HttpApi } from '../test-support/http.ts';
import { mintTestToken } from '../test-support/tokens.ts';

const secret = 'cassandra-serve-secret-0123456789abcdef';
const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
let cluster: CqlTestServer;
beforeAll(async () => {
  cluster = await CqlTestServer.start({ nodes: 2 });
});
afterAll(async () => {
  await cluster?.close();
});

describe('chatsim serve --cassandra', () => {
  it('creates its schema, acks a send, and keeps it across a SIGKILL for the next node', async () => {
    const args = ['--cassandra', cluster.contactPoints.join(','), '--keyspace', 'served'];
    const first = await ChildServer.start({ secret, extraArgs: args, launcher: 'bin' });
    let alice: ChatClient | undefined;
    try {
      const admin = await mintTestToken(secret, 'admin', { admin: true });
      await new HttpApi(first.url).mustCreateConversation(admin, {
        id: 'g',
        kind: 'group',
        members: ['alice', 'bob'],
      });
      alice = await ChatClient.connect(first.wsUrl, 'alice');
      await alice.hello(await mintTestToken(secret, 'alice'));
      expect((await alice.mustSend('g', 'm1', 'into cassandra')).seq).toBe(1);
    } finally {
      alice?.terminate();
      await first.stop('SIGKILL');
    }
    expect(cluster.queries(/^CREATE TABLE IF NOT EXISTS served\./)).not.toHaveLength(0);
    const second = await ChildServer.start({ secret, extraArgs: args, launcher: 'bin' });
    let bob: ChatClient | undefined;
    try {
      bob = await ChatClient.connect(second.wsUrl, 'bob');
      await bob.hello(await mintTestToken(secret, 'bob'));
      expect((await bob.mustSend('g', 'm2', 'after the crash')).seq).toBe(2);
      const history = await new HttpApi(second.url).allMessages(await mintTestToken(secret, 'bob'), 'g');
      expect(history.map((m) => [m.seq, m.from, m.body])).toEqual([
        [1, 'alice', 'into cassandra'],
        [2, 'bob', 'after the crash'],
      ]);
    } finally {
      bob?.terminate();
      await second.stop('SIGTERM');
    }
  });

  it('exits 2 with one line when no contact point answers', () => {
    const result = spawnSync(
      process.execPath,
      [binPath, 'serve', '--port', '0', '--cassandra', '127.0.0.1:1', '--keyspace', 'k'],
      {
        env: { ...process.env, CHAT_JWT_SECRET: secret },
        encoding: 'utf8',
        timeout: 30_000,
      },
    );
    expect(result.status).toBe(2);
    const lines = result.stderr.trim().split('\n');
    expect(lines).toHaveLength(1);
    expect(lines[0]).toMatch(
      /^chatsim: cannot reach Cassandra at 127\.0\.0\.1:1 \(.*ECONNREFUSED.*\): start it or fix --cassandra$/,
    );
  });
});
