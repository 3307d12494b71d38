// The k6 scripts' session code run for real, on Node, against both servers (there is no k6 binary
// here): k6's modules are stood in for by test-support/k6-shim, everything else is the scripts' own
// code. Two VUs share a conversation through three sessions (the second while one VU is away, so the
// third resumes) and a last one without new sends: every send ends acked under its one cmid, nothing
// is failed, no violation is counted, and both VUs end displaying exactly what the server holds.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { ChildServer } from '../../test-support/child-server.ts';
import { HttpApi } from '../../test-support/http.ts';
import { allSocketsClosed, recorded } from '../../test-support/k6-shim/k6-shim.ts';
import { serverTargets } from '../../test-support/server-fixture.ts';
import { mintTestToken } from '../../test-support/tokens.ts';
import { runSession, VuChat } from './lib/chat-session.ts';
import { type ChatLoadConfig, chatLoadConfig, conversationOf, userId } from './lib/config.ts';
import { provision } from './lib/k6-runtime.ts';

vi.mock('k6', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6);
vi.mock('k6/crypto', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6Crypto);
vi.mock('k6/encoding', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6Encoding);
vi.mock('k6/http', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6Http);
vi.mock('k6/metrics', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6Metrics);
vi.mock('k6/timers', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6Timers);
vi.mock('k6/websockets', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6Websockets);
vi.mock('k6/execution', async () => (await import('../../test-support/k6-shim/k6-shim.ts')).k6Execution);

const sessionWaitMs = 20_000;

// The server runs as a child process: the shim's synchronous http.post blocks this one.
describe.each(serverTargets)('the k6 session code against the %s server', (target) => {
  const secret = `k6-session-secret-${target}`;
  let dataDir: string;
  let server: ChildServer;
  let config: ChatLoadConfig;
  beforeAll(async () => {
    dataDir = await mkdtemp(join(tmpdir(), 'chatsim-k6-session-'));
    const extraArgs = ['--user-send-burst', '1000', '--user-sends-per-sec', '1000'];
    server = await ChildServer.start({ target, dataDir, secret, extraArgs });
    config = chatLoadConfig({
      CHAT_URL: server.url,
      CHAT_JWT_SECRET: secret,
      USERS: '2',
      GROUP_SIZE: '2',
      SEND_INTERVAL_MS: '40',
      SESSION_SECONDS: '1',
      GAP_MS: '100',
      ID_PREFIX: `k6-${target}`,
    });
  });
  afterAll(async () => {
    await server?.stop('SIGTERM');
    await rm(dataDir, { recursive: true, force: true });
  });

  it('sends, acks, displays pushes exactly once and resumes across sessions, with no violation', async () => {
    recorded.reset();
    provision(config);
    provision(config); // idempotent, as every instance of a distributed run calls it
    const conv = conversationOf(config, 1).id;
    const a = new VuChat(userId(config, 1), conv, 1);
    const b = new VuChat(userId(config, 2), conv, 2);
    const session = async (vus: VuChat[], send = true, sessionConfig = config) => {
      for (const vu of vus) runSession(sessionConfig, vu, { send });
      await allSocketsClosed(sessionWaitMs);
    };
    await session([a, b]);
    await session([b]); // a is away
    await session([a, b]); // a resumes what b sent meanwhile

    const acked = recorded.values('ack_latency').length;
    expect(acked).toBeGreaterThan(10);
    expect(acked + a.pending.size + b.pending.size).toBe(a.issued + b.issued);
    expect(recorded.values('resumed_messages').reduce((x, y) => x + y, 0)).toBeGreaterThan(0);
    expect(recorded.values('displayed_messages', { via: 'push' }).length).toBeGreaterThan(0);

    // A last, longer session without new sends: unacked sends go again under their cmids, and both
    // VUs catch up. Then each holds exactly the server's history, every seq once.
    await session([a, b], false, { ...config, sessionMs: 4000 });
    expect([a.pending.size, b.pending.size]).toEqual([0, 0]);
    expect(recorded.values('ack_latency').length).toBe(a.issued + b.issued);
    const stored = await new HttpApi(server.url).allMessages(await mintTestToken(secret, a.user), conv);
    expect(stored.length).toBe(a.issued + b.issued);
    for (const vu of [a, b]) expect(vu.log.displayedUpTo, vu.user).toBe(stored.length);
    // Each VU displays the other's messages (its own it holds from the acks), each once.
    expect(recorded.values('displayed_messages').length).toBe(stored.length);

    expect(recorded.values('failed_sends').filter((v) => v === 1)).toEqual([]);
    expect(recorded.values('agreement_violations').reduce((x, y) => x + y, 0)).toBe(0);
    expect(recorded.values('idempotency_violations').reduce((x, y) => x + y, 0)).toBe(0);
    expect(recorded.values('session_failures')).toEqual([]);
    expect(recorded.values('sessions')).toHaveLength(7);
    expect(recorded.checks.filter((c) => !c.ok)).toEqual([]);
  });
});
