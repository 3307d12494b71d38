// Users reading a conversation's messages over HTTP during a live run (`workload.httpReadsPerMin`), as
// the simulator's readers do (behaviours.ts scheduleHttpReads): a random user and one of the
// conversations it is or was a member of, from a random `after`, in pages of 1-8 through a random node,
// following the pages while the answer says there is more, and an eighth as many sent malformed on
// purpose (malformed-reads.ts: a 400 is owed). Each page is one request with no retry: what
// was asked and what came back go into the history, and read-pages judges them. protocol.md's answer is
// `{messages, lastSeq}`; a `more` is recorded only when the server sends one, and without it the
// reader follows while its last seq is below `lastSeq`.

import type { Scenario } from '../../scenarios/scenario.ts';
import type { HistoryEvent } from '../history.ts';
import type { SeedStreams } from '../kernel/prng.ts';
import { httpReadAsked, type MalformedRead, scheduleMalformedReads } from '../malformed-reads.ts';
import type { TokenCache } from './hs256.ts';
import { liveLimits } from './limits.ts';

export type HttpReadsContext = {
  /** The nodes' HTTP base URLs. */
  urls: readonly string[];
  tokens: TokenCache;
  record(event: HistoryEvent): void;
  now(): number;
  at(ms: number, run: () => void): void;
  fromMs: number;
  untilMs: number;
  /** The users who read (not the adversaries), one entry per device as the simulator draws them. */
  readers: readonly string[];
  /** Every conversation `user` is or was a member of, as the harness made it. */
  convsOf(user: string): readonly string[];
};

export type LiveHttpReads = {
  /** Resolves once no read is in flight. */
  idle(): Promise<void>;
};

export function scheduleLiveHttpReads(
  scenario: Scenario,
  streams: SeedStreams,
  context: HttpReadsContext,
): LiveHttpReads {
  const inFlight = new Set<Promise<void>>();
  const perMin = scenario.workload.httpReadsPerMin;
  if (perMin <= 0 || context.readers.length === 0) return { idle: async () => {} };
  const rng = streams.stream('http-read');
  const nodeRng = streams.stream('http-read-node');
  let nextId = 0;

  const track = (read: Promise<void>): void => {
    inFlight.add(read);
    void read.finally(() => inFlight.delete(read));
  };

  const page = async (
    conv: string,
    user: string,
    after: number,
    limit: number,
    left: number,
    bad?: MalformedRead,
  ): Promise<void> => {
    const base = context.urls[nodeRng.int(context.urls.length)]!;
    const asked = httpReadAsked({ at: context.now(), id: nextId++, conv, user, after, limit }, bad);
    context.record(asked.event);
    const { id } = asked.event;
    const query = new URLSearchParams(asked.query);
    let answer: { status: number; body: unknown };
    try {
      const response = await fetch(`${base}/v1/conversations/${encodeURIComponent(conv)}/messages?${query}`, {
        headers: { authorization: `Bearer ${context.tokens.of(user)}` },
        signal: AbortSignal.timeout(liveLimits.httpReadTimeoutMs),
      });
      const text = await response.text();
      let body: unknown = null;
      try {
        body = text === '' ? null : JSON.parse(text);
      } catch {
        // Not JSON: a 200 without a page is recorded as status 200 with nothing on it.
      }
      answer = { status: response.status, body };
    } catch {
      // No answer within the reader's timeout, or no connection: status 0, as in the simulator.
      answer = { status: 0, body: null };
    }
    if (answer.status !== 200) {
      context.record({ k: 'http-read', at: context.now(), id, status: answer.status });
      return;
    }
    const body = answer.body as { messages?: unknown; lastSeq?: unknown; more?: unknown } | null;
    const messages = Array.isArray(body?.messages) ? (body.messages as { seq?: unknown }[]) : [];
    const seqs = messages.map((m) => (typeof m?.seq === 'number' ? m.seq : Number.NaN));
    const lastSeq = typeof body?.lastSeq === 'number' ? body.lastSeq : undefined;
    const more = typeof body?.more === 'boolean' ? body.more : undefined;
    context.record({
      k: 'http-read',
      at: context.now(),
      id,
      status: 200,
      seqs,
      ...(lastSeq === undefined ? {} : { lastSeq }),
      ...(more === undefined ? {} : { more }),
    });
    const last = seqs.length > 0 ? seqs[seqs.length - 1]! : after;
    const goOn = more ?? (lastSeq !== undefined && last < lastSeq);
    if (goOn && left > 1 && last > after) await page(conv, user, last, limit, left - 1);
  };

  for (
    let t = context.fromMs + rng.exponential(60_000 / perMin);
    t < context.untilMs;
    t += rng.exponential(60_000 / perMin)
  ) {
    const user = context.readers[rng.int(context.readers.length)]!;
    const after = rng.int(24);
    const limit = 1 + rng.int(8);
    const pick = rng.float();
    context.at(t, () => {
      const convs = context.convsOf(user);
      if (convs.length === 0) return;
      const conv = convs[Math.floor(pick * convs.length)]!;
      track(page(conv, user, after, limit, liveLimits.httpReadPagesMax));
    });
  }
  scheduleMalformedReads(streams, perMin, context.fromMs, context.untilMs, (t, bad, badRng) => {
    const user = context.readers[badRng.int(context.readers.length)]!;
    const pick = badRng.float();
    context.at(t, () => {
      const convs = context.convsOf(user);
      if (convs.length > 0)
        track(page(convs[Math.floor(pick * convs.length)]!, user, bad.after, bad.limit, 1, bad));
    });
  });
  return {
    idle: async () => {
      await Promise.all([...inFlight]);
    },
  };
}
