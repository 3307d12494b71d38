// The known-bug variants of the live server (bugs.ts), over real sockets: for every bug, one check of
// the guarantee it breaks, run against a correct server (it holds) and against the variant (it visibly
// breaks), so each check can fail. Also `chatsim serve --bug`: validated, warned about, passed on.

import { appendFile, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { main } from '../../cli/main.ts';
import { ChatClient } from '../../test-support/chat-client.ts';
import { ChildServer } from '../../test-support/child-server.ts';
import { eventually } from '../../test-support/eventually.ts';
import { HttpApi } from '../../test-support/http.ts';
import { type FixtureOptions, ServerFixture } from '../../test-support/server-fixture.ts';
import { mintTestToken } from '../../test-support/tokens.ts';
import { type BugName, bugNames } from '../known-bugs/bugs.ts';
import { logBugPolicies } from '../known-bugs/log-bugs.ts';
import type { NodeBus } from '../runtime/node-bus.ts';
import { ControllableSink } from '../store/controllable-sink.ts';
import { LogStore, type LogStoreOptions } from '../store/log-store.ts';
import { MemoryStore } from '../store/memory-store.ts';
import { FileSegmentSink } from '../store/segment-file.ts';

const fixtures: ServerFixture[] = [];
const sinks: ControllableSink[] = [];
const dirs: string[] = [];
let child: ChildServer | null = null;

afterEach(async () => {
  // A held sync would keep the store's close waiting forever.
  for (const sink of sinks.splice(0)) sink.release();
  await Promise.all(fixtures.splice(0).map((fixture) => fixture.close()));
  await child?.stop('SIGKILL');
  child = null;
  await Promise.all(dirs.splice(0).map((dir) => rm(dir, { recursive: true, force: true })));
});

async function tempDir(): Promise<string> {
  const dir = await mkdtemp(join(tmpdir(), 'chatsim-known-bugs-'));
  dirs.push(dir);
  return dir;
}

async function start(options: FixtureOptions): Promise<ServerFixture> {
  const fixture = await ServerFixture.start(options);
  fixtures.push(fixture);
  return fixture;
}

/** A server on a LogStore whose fsyncs the test can hold back, to see what is answered before one. */
async function startOnHeldLog(bugs: readonly BugName[]) {
  const dir = await tempDir();
  const sink = new ControllableSink(new FileSegmentSink(dir));
  sinks.push(sink);
  const store = new LogStore({ dir, sink, ackBeforeDurable: bugs.includes('ack-before-durable') });
  return { fixture: await start({ storeInstance: store, bugs }), sink };
}

/** Every body `user` can read in `conv`, over HTTP. */
async function stored(fixture: ServerFixture, user: string, conv: string) {
  const messages = await fixture.http.allMessages(await fixture.token(user), conv);
  return messages.map((m) => `${m.seq}:${m.body}`);
}

const seqsUpTo = (n: number, except: number[] = []) =>
  Array.from({ length: n }, (_, i) => i + 1).filter((seq) => !except.includes(seq));

/** A fleet node's bus whose peers never speak: up, and nothing arrives on it. */
function silentBus(): NodeBus {
  return { start: async () => {}, publish: () => {}, problem: () => null, close: async () => {} };
}

/** What a check observes on a correct server, on the variant, and how it observes it. */
type Probe = { correct: unknown; broken: unknown; observe(bugs: readonly BugName[]): Promise<unknown> };

/** Typed by BugName: a new bug without a live check does not compile. */
const probes: Record<BugName, Probe> = {
  'ack-before-durable': {
    // Guarantee 1: no ack before the fdatasync that makes the message durable.
    correct: { ackedWhileSyncHeld: false, syncsWhileHeld: 0 },
    broken: { ackedWhileSyncHeld: true, syncsWhileHeld: 0 },
    async observe(bugs) {
      const { fixture, sink } = await startOnHeldLog(bugs);
      const conv = await fixture.conversation(['ann', 'bo']);
      const { client } = await fixture.session('ann');
      const [syncs, writes] = [sink.syncs, sink.writes.length];
      sink.hold();
      client.send({ t: 'send', conv, cmid: 'early', body: 'acked too soon?' });
      // The record is written and its sync is waiting: the server has taken the send.
      await eventually(() => expect(sink.writes.length).toBeGreaterThan(writes));
      await client.barrier();
      const ackedWhileSyncHeld = client.received('ack').length > 0;
      const syncsWhileHeld = sink.syncs - syncs;
      sink.release();
      await client.waitFor('ack', (ack) => ack.cmid === 'early');
      return { ackedWhileSyncHeld, syncsWhileHeld };
    },
  },
  'non-atomic-seq': {
    // Guarantee 3: one seq per message; acks of concurrent sends must not share one.
    correct: { ackSeqs: seqsUpTo(10), storedSeqs: seqsUpTo(10) },
    broken: { ackSeqs: Array(10).fill(1), storedSeqs: seqsUpTo(10) },
    async observe(bugs) {
      const { fixture, sink } = await startOnHeldLog(bugs);
      const conv = await fixture.conversation(['ann', 'bo']);
      const { client } = await fixture.session('ann');
      const cmids = seqsUpTo(10).map((i) => `c${i}`);
      sink.hold();
      for (const cmid of cmids) client.send({ t: 'send', conv, cmid, body: cmid });
      // Every append is in flight at once: concurrency without depending on timing.
      await eventually(() => expect(fixture.server.node.pendingStoreOps).toBe(cmids.length));
      sink.release();
      const acks = await Promise.all(cmids.map((cmid) => client.waitFor('ack', (a) => a.cmid === cmid)));
      const all = await fixture.http.allMessages(await fixture.token('ann'), conv);
      return { ackSeqs: acks.map((a) => a.seq).sort((a, b) => a - b), storedSeqs: all.map((m) => m.seq) };
    },
  },
  'no-idempotency': {
    // Guarantee 2: a resent (sender, conv, cmid) gets the same seq and creates nothing.
    correct: { seqs: [1, 1], stored: ['1:hello'] },
    broken: { seqs: [1, 2], stored: ['1:hello', '2:hello'] },
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo']);
      const { client } = await fixture.session('ann');
      const first = await client.mustSend(conv, 'c1', 'hello');
      const again = await client.mustSend(conv, 'c1', 'hello');
      return { seqs: [first.seq, again.seq], stored: await stored(fixture, 'bo', conv) };
    },
  },
  'key-without-sender': {
    // Guarantee 2: the key includes the sender; two senders' equal cmids are two messages.
    correct: { seqs: [1, 2], stored: ['1:from ann', '2:from bo'] },
    broken: { seqs: [1, 1], stored: ['1:from ann'] },
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo']);
      const ann = (await fixture.session('ann')).client;
      const bo = (await fixture.session('bo')).client;
      const first = await ann.mustSend(conv, 'same', 'from ann');
      const second = await bo.mustSend(conv, 'same', 'from bo');
      return { seqs: [first.seq, second.seq], stored: await stored(fixture, 'bo', conv) };
    },
  },
  'sync-skips': {
    // Guarantee 5: sync returns every message after `after`, in seq order.
    correct: { seqs: seqsUpTo(15), lastSeq: 15 },
    broken: { seqs: seqsUpTo(15, [7, 14]), lastSeq: 15 },
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo']);
      const ann = (await fixture.session('ann')).client;
      for (const i of seqsUpTo(15)) await ann.mustSend(conv, `m${i}`, `message ${i}`);
      const bo = (await fixture.session('bo')).client;
      const batch = await bo.sync(conv, 0);
      return { seqs: batch.msgs.map((m) => m.seq), lastSeq: batch.lastSeq };
    },
  },
  'dropped-pushes': {
    // Guarantee 4: every message is pushed to every online member.
    correct: seqsUpTo(8),
    broken: seqsUpTo(8, [7]),
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo']);
      const ann = (await fixture.session('ann')).client;
      const bo = (await fixture.session('bo')).client;
      for (const i of seqsUpTo(8)) await ann.mustSend(conv, `m${i}`, `message ${i}`);
      await bo.barrier();
      return bo.received('msg', (m) => m.conv === conv).map((m) => m.seq);
    },
  },
  'push-to-removed': {
    // Guarantee 6: only current members get pushes.
    correct: [],
    broken: ['after the removal'],
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo', 'cy']);
      const ann = (await fixture.session('ann')).client;
      const cy = (await fixture.session('cy')).client;
      await fixture.changeMembers(conv, { remove: ['cy'] });
      await ann.mustSend(conv, 'm1', 'after the removal');
      await cy.barrier();
      return cy.received('msg').map((m) => m.body);
    },
  },
  'cursor-regression': {
    // Guarantee 7: cursors never move backwards, so neither do receipts.
    correct: [3],
    broken: [3, 1],
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo']);
      const ann = (await fixture.session('ann')).client;
      const bo = (await fixture.session('bo')).client;
      for (const i of seqsUpTo(3)) await ann.mustSend(conv, `m${i}`, `message ${i}`);
      bo.send({ t: 'read', conv, seq: 3 });
      await ann.waitFor('receipt', (r) => r.user === 'bo' && r.seq === 3);
      bo.send({ t: 'read', conv, seq: 1 });
      await bo.barrier();
      await ann.barrier();
      return ann.received('receipt', (r) => r.user === 'bo' && r.kind === 'read').map((r) => r.seq);
    },
  },
  'no-receipts': {
    // protocol.md `receipt`: a member's cursor moved forward is told to the other members.
    correct: [2],
    broken: [],
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo']);
      const ann = (await fixture.session('ann')).client;
      const bo = (await fixture.session('bo')).client;
      for (const i of seqsUpTo(2)) await ann.mustSend(conv, `m${i}`, `message ${i}`);
      bo.send({ t: 'read', conv, seq: 2 });
      // The cursor is stored (the node moves its own view and relays in one step), then ann's socket
      // is flushed past that step.
      const token = await fixture.token('ann');
      await eventually(async () => {
        const body = (await fixture.http.receipts(token, conv)).body;
        expect(body.members.find((m) => m.user === 'bo')?.read).toBe(2);
      });
      await ann.barrier();
      return ann.received('receipt', (r) => r.user === 'bo' && r.kind === 'read').map((r) => r.seq);
    },
  },
  'stuck-presence': {
    // Presence: a watcher sees a user go offline once the user's last connection is gone.
    correct: [true, false],
    broken: [true],
    async observe(bugs) {
      const fixture = await start({ bugs });
      const bo = (await fixture.session('bo')).client;
      const ann = (await fixture.session('ann')).client;
      ann.send({ t: 'watch', users: ['bo'] });
      await ann.waitFor('presence', (p) => p.user === 'bo');
      await bo.close();
      // The server has handled the disconnect; anything it told ann precedes her barrier's answer.
      await eventually(() => expect(fixture.server.node.connectionCount).toBe(1));
      await ann.barrier();
      return ann.received('presence', (p) => p.user === 'bo').map((p) => p.online);
    },
  },
  'stale-refusals': {
    // Guarantee 5 (a member may read): a fleet node's view lags the store's by the bus, so a user
    // added through another node is a member here at once. The other node is the store written to
    // directly; its bus event never comes (a bus whose peers are silent).
    correct: ['batch', 'ack'],
    broken: ['err:forbidden', 'err:forbidden'],
    async observe(bugs) {
      const store = new MemoryStore();
      const fixture = await start({ bugs, storeInstance: store, bus: silentBus() });
      const conv = await fixture.conversation(['ann', 'bo']);
      const carol = (await fixture.session('carol')).client;
      await store.changeMembers({ conv, add: ['carol'], remove: [] });
      carol.send({ t: 'sync', conv, after: 0 });
      carol.send({ t: 'send', conv, cmid: 'c1', body: 'added elsewhere' });
      // Each frame is answered once: a page or a refusal, an ack or a refusal.
      const answers = () =>
        carol
          .received('err', (e) => e.conv === conv)
          .map((e) => `err:${e.code}`)
          .concat(carol.received('batch', (b) => b.conv === conv).map(() => 'batch'))
          .concat(carol.received('ack', (a) => a.cmid === 'c1').map(() => 'ack'));
      await eventually(() => expect(answers()).toHaveLength(2));
      return answers();
    },
  },
  'refused-admin-changes': {
    // protocol.md's HTTP section: an admin's valid membership change is applied (a 2xx), and the added
    // member may then send.
    correct: [200, 'ack'],
    broken: [404, 'err:forbidden'],
    async observe(bugs) {
      const fixture = await start({ bugs });
      const conv = await fixture.conversation(['ann', 'bo']);
      const answer = await fixture.http.changeMembers(await fixture.adminToken(), conv, { add: ['carol'] });
      const carol = (await fixture.session('carol')).client;
      carol.send({ t: 'send', conv, cmid: 'c1', body: 'added' });
      const answers = () =>
        carol
          .received('ack', (a) => a.cmid === 'c1')
          .map(() => 'ack')
          .concat(carol.received('err', (e) => e.ref === 'c1').map((e) => `err:${e.code}`));
      await eventually(() => expect(answers()).toHaveLength(1));
      return [answer.status, ...answers()];
    },
  },
  // Log bugs: the LogStore on a real data dir, built with the bug's policy (log-bugs.ts).
  'fsync-retry': {
    // Guarantee 1: an fsync that failed acknowledges nothing, even if a retry would "succeed".
    correct: { ackedAfterFailedFsync: false },
    broken: { ackedAfterFailedFsync: true },
    async observe(bugs) {
      const dir = await tempDir();
      const sink = new ControllableSink(new FileSegmentSink(dir));
      sinks.push(sink);
      const store = await openLog(dir, bugs, { sink });
      sink.failNextSync(Object.assign(new Error('EIO: i/o error, fdatasync'), { code: 'EIO' }));
      const acked = await store
        .append({ conv: 'c', from: 'ann', cmid: 'm', body: 'fsync failed', ts: 1 })
        .then(
          () => true,
          () => false,
        );
      await store.close();
      return { ackedAfterFailedFsync: acked };
    },
  },
  'recovery-truncates-segment': {
    // Guarantee 1 across a torn tail: recovery keeps every intact record before it.
    correct: { bodiesAfterTornTail: 5 },
    broken: { bodiesAfterTornTail: 'refused' },
    async observe(bugs) {
      const dir = await tempDir();
      const store = await openLog(dir, [], {});
      for (let n = 1; n <= 5; n++)
        await store.append({ conv: 'c', from: 'ann', cmid: `m${n}`, body: `b${n}`, ts: n });
      await store.close();
      await appendFile(join(dir, '00000001.seg'), Buffer.from([9, 0, 0, 0, 1, 2, 3]));
      const reopened = await openLog(dir, bugs, {});
      const bodies = await reopened.read({ conv: 'c', after: 0, limit: 10 }).then(
        (result) => (result.status === 'ok' ? result.messages.length : result.status),
        () => 'refused',
      );
      await reopened.close();
      return { bodiesAfterTornTail: bodies };
    },
  },
  'checkpoint-rewinds-offset': {
    // A checkpoint covers exactly the log before its position: recovery replays each record once.
    correct: { reopened: 'ok' },
    broken: { reopened: 'CHATSIM_ERR_LOG_CORRUPT' },
    async observe(bugs) {
      const dir = await tempDir();
      const store = await openLog(dir, bugs, {});
      for (let n = 1; n <= 3; n++)
        await store.append({ conv: 'c', from: 'ann', cmid: `m${n}`, body: `b${n}`, ts: n });
      await store.close();
      const reopened = new LogStore({ dir });
      const outcome = await reopened.open().then(
        () => 'ok',
        (error: { code?: string }) => error.code ?? String(error),
      );
      await reopened.close();
      return { reopened: outcome };
    },
  },
};

/** A LogStore on `dir` built with the log bugs among `bugs`, holding conversation `c` (ann, bo). */
async function openLog(dir: string, bugs: readonly BugName[], options: Partial<LogStoreOptions>) {
  const store = new LogStore({ dir, ...options, policies: logBugPolicies(bugs) });
  await store.open();
  await store.createConversation({ id: 'c', kind: 'direct', members: ['ann', 'bo'] });
  return store;
}

describe('known-bug variants of the live server', () => {
  it.each(bugNames)('%s: the check holds on a correct server and breaks on the variant', async (bug) => {
    const probe = probes[bug];
    expect(await probe.observe([])).toEqual(probe.correct);
    expect(await probe.observe([bug])).toEqual(probe.broken);
  });
});

describe('chatsim serve --bug', () => {
  const secret = 'known-bugs-cli-secret-0123456789abcdef';

  async function runMain(args: string[]) {
    const err: string[] = [];
    const code = await main(args, {
      out: () => {},
      err: (line) => err.push(line),
      env: { CHAT_JWT_SECRET: secret },
    });
    return { code, err };
  }

  it('refuses an unknown bug with exit 2 and one line naming every bug', async () => {
    const { code, err } = await runMain(['serve', '--port', '0', '--store', 'memory', '--bug', 'nope']);
    expect(code).toBe(2);
    expect(err).toHaveLength(1);
    for (const name of bugNames) expect(err[0]).toContain(name);
  });

  it('refuses ack-before-durable on the memory store with exit 2, saying to use the log', async () => {
    const { code, err } = await runMain([
      'serve',
      '--port',
      '0',
      '--store',
      'memory',
      '--bug',
      'ack-before-durable',
    ]);
    expect(code).toBe(2);
    expect(err).toEqual([expect.stringMatching(/needs --store log/)]);
  });

  it('warns on stderr and runs the named bugs', async () => {
    child = await ChildServer.start({
      dataDir: await tempDir(),
      secret,
      extraArgs: ['--bug', 'no-idempotency', '--bug', 'ack-before-durable'],
    });
    expect(child.output()).toContain(
      'chatsim: WARNING: running with deliberate bug(s) no-idempotency, ack-before-durable: this server breaks the protocol on purpose',
    );
    const http = new HttpApi(child.url);
    const admin = await mintTestToken(secret, 'admin', { admin: true });
    await http.mustCreateConversation(admin, { id: 'g', kind: 'group', members: ['ann'] });
    const ann = await ChatClient.connect(child.wsUrl, 'ann');
    try {
      await ann.hello(await mintTestToken(secret, 'ann'));
      const first = await ann.mustSend('g', 'c1', 'hello');
      const again = await ann.mustSend('g', 'c1', 'hello');
      expect([first.seq, again.seq]).toEqual([1, 2]);
    } finally {
      ann.terminate();
    }
  });
});
