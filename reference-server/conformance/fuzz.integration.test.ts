// Fuzzing the frame gate over a real socket: whatever an authenticated client sends, the server answers
// `bad_request` (or `too_large` for an oversized body), closes with 4400 on the 11th bad_request, and
// never falls over: another member of the same conversation keeps sending and getting acks throughout.

import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type BadFrame, badFrame } from '../../test-support/bad-frames.ts';
import type { ChatClient } from '../../test-support/chat-client.ts';
import { ServerFixture, serverTargets } from '../../test-support/server-fixture.ts';
import { CloseCode } from '../protocol/codes.ts';

const badFramesMax = 10;
const runs = 25;

describe.each(serverTargets)('fuzzed frames (%s server)', (target) => {
  let fx: ServerFixture;
  let conv: string;
  let fuzzer: string;
  let peerUser: string;
  let peer: ChatClient;
  let peerSends = 0;

  beforeAll(async () => {
    fx = await ServerFixture.start({
      target,
      limits: { badFramesMax, userSendBurst: 10_000, userSendsPerSec: 10_000 },
    });
    fuzzer = fx.id('fuzzer');
    peerUser = fx.id('peer');
    conv = await fx.conversation([fuzzer, peerUser]);
    peer = (await fx.session(peerUser)).client;
  });
  afterAll(() => fx.close());

  /** The peer's send is acked with the next seq: the node is alive and sequencing. */
  async function peerStillWorks(): Promise<void> {
    peerSends++;
    const ack = await peer.mustSend(conv, `peer-${peerSends}`, `still here ${peerSends}`);
    expect(ack.seq).toBe(peerSends);
  }

  /** Sends `frames` on a fresh session; checks each answer; pads with garbage until the 11th bad_request closes it. */
  async function fuzzSession(frames: readonly BadFrame[]): Promise<void> {
    const { client } = await fx.session(fuzzer, { label: 'fuzzer' });
    let badRequests = 0;
    const queue = [...frames];
    while (badRequests <= badFramesMax) {
      const frame = queue.shift() ?? { data: 'padding: not json', expected: 'bad_request', kind: 'padding' };
      client.sendRaw(frame.data);
      if (frame.expected === 'bad_request' && badRequests === badFramesMax) {
        expect((await client.waitClosed()).code, `the 11th bad frame (${frame.kind})`).toBe(
          CloseCode.tooManyBadFrames,
        );
        return;
      }
      const answer = await client.waitFor('err');
      expect(answer.code, `${frame.kind}: ${describeData(frame.data)}`).toBe(frame.expected);
      expect(answer.message.length).toBeGreaterThan(0);
      if (frame.expected === 'bad_request') badRequests++;
    }
  }

  it('answers every bad frame with the prescribed error, closes on the 11th bad_request, and keeps serving others', async () => {
    await peerStillWorks();
    await fc.assert(
      fc.asyncProperty(fc.array(badFrame(conv), { minLength: 1, maxLength: 16 }), async (frames) => {
        await fuzzSession(frames);
        await peerStillWorks();
        expect((await fx.http.request('GET', '/healthz')).status).toBe(200);
      }),
      { numRuns: runs },
    );
    // Nothing the fuzzer sent was stored: the conversation holds the peer's messages only.
    const stored = await peer.sync(conv, 0);
    expect(stored.msgs.map((m) => m.from)).toEqual(Array.from({ length: peerSends }, () => peerUser));
    expect(stored.lastSeq).toBe(peerSends);
  });

  it('answers a burst of bad frames sent without waiting in order, then closes', async () => {
    const sample = fc.sample(badFrame(conv), { numRuns: 40, seed: 7 });
    const { client } = await fx.session(fuzzer, { label: 'burst' });
    for (const frame of sample) client.sendRaw(frame.data);
    const closed = await client.waitClosed();
    expect(closed.code).toBe(CloseCode.tooManyBadFrames);
    const expectedBefore: string[] = [];
    let badRequests = 0;
    for (const frame of sample) {
      if (frame.expected === 'bad_request' && ++badRequests > badFramesMax) break;
      expectedBefore.push(frame.expected);
    }
    expect(client.received('err').map((err) => err.code)).toEqual(expectedBefore);
    await peerStillWorks();
  });
});

function describeData(data: string | Buffer): string {
  const text = typeof data === 'string' ? JSON.stringify(data) : `<binary ${data.length} bytes>`;
  return text.length > 200 ? `${text.slice(0, 200)}... (${text.length} chars)` : text;
}
