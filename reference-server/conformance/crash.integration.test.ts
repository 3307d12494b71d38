// Guarantee 1 (durable ack) under real crashes: a server (`chatsim serve`, then the minimal server of
// test-support) runs as a child process on a data dir, several clients send without pause, and the
// process is SIGKILLed at a random moment; after a restart on the same dir every acked message is there
// with its seq and body, seqs are gap-free, and no (sender, conv, cmid) was stored twice, even though
// the clients resend whatever went unanswered.

import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { ChatClient } from '../../test-support/chat-client.ts';
import { ChildServer } from '../../test-support/child-server.ts';
import { type AckedSend, ContinuousWriter, type PendingSend } from '../../test-support/continuous-writer.ts';
import { HttpApi } from '../../test-support/http.ts';
import { serverTargets } from '../../test-support/server-fixture.ts';
import { mintTestToken } from '../../test-support/tokens.ts';
import { CloseCode } from '../protocol/codes.ts';
import type { Message } from '../protocol/frames.ts';

const rounds = 4;
const writerUsers = ['crash-w0', 'crash-w1', 'crash-w2', 'crash-w3'];
const reader = 'crash-reader';
const convs = ['crash-a', 'crash-b'];
/** The kill comes this long after the writers start, drawn per round from the seeded stream. */
const killAfterMsMin = 100;
const killAfterMsMax = 700;

/** mulberry32: a tiny seeded PRNG, so a failing kill schedule can be replayed with CHATSIM_CRASH_SEED. */
function seededRandom(seed: number): () => number {
  let a = seed >>> 0;
  return () => {
    a = (a + 0x6d2b79f5) >>> 0;
    let t = a;
    t = Math.imul(t ^ (t >>> 15), t | 1);
    t ^= t + Math.imul(t ^ (t >>> 7), t | 61);
    return ((t ^ (t >>> 14)) >>> 0) / 4294967296;
  };
}

describe.each(serverTargets)('crash recovery (%s server, as a child process)', (target) => {
  let dataDir: string | null = null;
  let child: ChildServer | null = null;
  afterEach(async () => {
    await child?.stop('SIGKILL');
    child = null;
    if (dataDir) await rm(dataDir, { recursive: true, force: true });
    dataDir = null;
  });

  it('keeps every acked message, with its seq and body, across SIGKILLs at random moments', async () => {
    const seed = Number(process.env.CHATSIM_CRASH_SEED ?? Date.now() % 1_000_000);
    const random = seededRandom(seed);
    const context = `(replay with CHATSIM_CRASH_SEED=${seed})`;
    const secret = `crash-secret-${seed}`;
    dataDir = await mkdtemp(join(tmpdir(), 'chatsim-crash-'));
    const extraArgs = ['--user-send-burst', '100000', '--user-sends-per-sec', '100000'];
    const acked = new Map<string, AckedSend>(); // by `${from}/${conv}/${cmid}`
    let unanswered: { user: string; sends: PendingSend[] }[] = writerUsers.map((user) => ({
      user,
      sends: [],
    }));

    for (let round = 0; round <= rounds; round++) {
      child = await ChildServer.start({ target, dataDir, secret, extraArgs });
      const http = new HttpApi(child.url);
      if (round === 0) {
        const admin = await mintTestToken(secret, 'crash-admin', { admin: true });
        for (const id of convs)
          await http.mustCreateConversation(admin, { id, kind: 'group', members: [...writerUsers, reader] });
      }
      await verify(http, child.wsUrl, secret, acked, `after restart ${round} ${context}`);
      if (round === rounds) break;

      const writers = await Promise.all(
        writerUsers.map(async (user, i) =>
          ContinuousWriter.start({
            wsUrl: child!.wsUrl,
            token: await mintTestToken(secret, user),
            user,
            convs,
            cmidPrefix: `r${round}-w${i}`,
            retry: unanswered[i]!.sends,
          }),
        ),
      );
      const killAfterMs = killAfterMsMin + Math.floor(random() * (killAfterMsMax - killAfterMsMin));
      await new Promise((resolve) => setTimeout(resolve, killAfterMs));
      const exit = await child.stop('SIGKILL');
      expect(exit.signal, context).toBe('SIGKILL');
      child = null;
      const results = await Promise.all(writers.map((writer) => writer.done));
      unanswered = results.map((result, i) => ({ user: writerUsers[i]!, sends: result.unanswered }));
      for (const result of results) {
        expect(result.errors, context).toEqual([]);
        for (const send of result.acked) {
          const key = `${send.from}/${send.conv}/${send.cmid}`;
          const earlier = acked.get(key);
          // A resend of a message acked before the crash must get the very same ack.
          if (earlier)
            expect({ seq: send.seq, ts: send.ts }, `${key} ${context}`).toEqual({
              seq: earlier.seq,
              ts: earlier.ts,
            });
          acked.set(key, send);
        }
      }
      expect(
        results.reduce((n, r) => n + r.acked.length, 0),
        `round ${round} acked something ${context}`,
      ).toBeGreaterThan(0);
    }
  });

  it('drains on SIGTERM: clients get drain then 1012, the process exits 0, and a restart has every message', async () => {
    const secret = 'drain-secret';
    dataDir = await mkdtemp(join(tmpdir(), 'chatsim-drain-'));
    child = await ChildServer.start({ target, dataDir, secret });
    const http = new HttpApi(child.url);
    await http.mustCreateConversation(await mintTestToken(secret, 'admin', { admin: true }), {
      id: convs[0]!,
      kind: 'group',
      members: [reader, writerUsers[0]!],
    });
    const client = await ChatClient.connect(child.wsUrl, 'drained');
    await client.hello(await mintTestToken(secret, writerUsers[0]!));
    const ack = await client.mustSend(convs[0]!, 'before-term', 'kept across a graceful restart');
    const exited = child.stop('SIGTERM');
    expect(await client.waitFor('drain')).toMatchObject({ t: 'drain', reconnectInMs: expect.any(Number) });
    expect((await client.waitClosed()).code).toBe(CloseCode.restart);
    expect(await exited).toEqual({ code: 0, signal: null });
    child = await ChildServer.start({ target, dataDir, secret });
    const after = await new HttpApi(child.url).allMessages(await mintTestToken(secret, reader), convs[0]!);
    expect(after).toEqual([
      {
        conv: convs[0],
        seq: ack.seq,
        from: writerUsers[0],
        cmid: 'before-term',
        body: 'kept across a graceful restart',
        ts: ack.ts,
      },
    ]);
  });
});

/** Every acked message is stored at its seq with its body; seqs are 1..lastSeq; no (from, cmid) twice. */
async function verify(
  http: HttpApi,
  wsUrl: string,
  secret: string,
  acked: ReadonlyMap<string, AckedSend>,
  context: string,
): Promise<void> {
  const token = await mintTestToken(secret, reader);
  const stored = new Map<string, Message[]>();
  for (const conv of convs) {
    const messages = await http.allMessages(token, conv);
    stored.set(conv, messages);
    expect(
      messages.map((m) => m.seq),
      `${conv}: seqs gap-free ${context}`,
    ).toEqual(Array.from({ length: messages.length }, (_, i) => i + 1));
    const keys = messages.map((m) => `${m.from}/${m.cmid}`);
    expect(new Set(keys).size, `${conv}: one message per (sender, cmid) ${context}`).toBe(keys.length);
  }
  for (const [key, send] of acked) {
    const message = stored.get(send.conv)?.[send.seq - 1];
    expect(message, `${key} acked at seq ${send.seq} ${context}`).toEqual({
      conv: send.conv,
      seq: send.seq,
      from: send.from,
      cmid: send.cmid,
      body: send.body,
      ts: send.ts,
    });
  }
  // The WebSocket view agrees with HTTP: resume from 0 and compare the first conversation.
  const client = await ChatClient.connect(wsUrl, 'crash verifier');
  try {
    await client.hello(token);
    const first = stored.get(convs[0]!)!;
    const viaSync: Message[] = [];
    for (let after = 0; ; ) {
      const batch = await client.sync(convs[0]!, after);
      viaSync.push(...batch.msgs);
      if (!batch.more) break;
      after = batch.msgs.at(-1)!.seq;
    }
    expect(viaSync, `sync agrees with HTTP ${context}`).toEqual(first);
  } finally {
    await client.close();
  }
}
