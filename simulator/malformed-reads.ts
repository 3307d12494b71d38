// The HTTP reads the harness sends malformed on purpose, for the simulator's readers (behaviours.ts) and
// the live driver's (live/live-http-reads.ts) alike: protocol.md answers a read whose `after` is not a
// seq, or whose `limit` is not an integer from 1 to 500, with a 400, and read-pages judges that they got
// it (a server that served limit 0 or 2.5, mutant 1739 of the 0ff7ab0 sample, passed the gate). They
// come from their own seed stream, at an eighth of the scenario's read rate, so the well-formed reads'
// draws stay what they were. A read asked, well formed or not, is recorded and sent by `httpReadAsked`
// in both worlds.

import { protocolLimits } from '../reference-server/protocol/limits.ts';
import type { HistoryEventOf } from './history.ts';
import type { Prng, SeedStreams } from './kernel/prng.ts';

/**
 * One well-formed read in this many (by its id) leaves `limit` out: protocol.md makes both parameters
 * optional, and a server's own default page holds at most `syncLimitMax` (a server that needed `limit`
 * answered such reads 400: mutant 1738 of the 3c0f288 sample). No draw is spent on it.
 */
export const limitLeftOutEvery = 8;

/** Malformed reads per well-formed one (`workload.httpReadsPerMin`). */
const malformedReadShare = 1 / 8;

/** One parameter's text in place of its number: each is a 400 by protocol.md. */
const malformedParams: readonly (readonly ['after' | 'limit', string])[] = [
  ['limit', '0'],
  ['limit', '-2'],
  ['limit', '2.5'],
  ['limit', 'NaN'],
  ['limit', String(protocolLimits.syncLimitMax + 1)],
  ['after', '-1'],
  ['after', '1.5'],
  ['after', 'seven'],
];

export type MalformedRead = {
  /** The numbers drawn, as a well-formed read's. */
  after: number;
  limit: number;
  /** `token`: a well-formed read sent with a forged token or none (protocol.md: 401). */
  param: 'after' | 'limit' | 'token';
  /** The text sent for `param` (for `token`, `forged` or `none`: what the history says was sent). */
  text: string;
  /** What the history records (`http-read-sent`'s `malformed`), e.g. `limit=2.5`. */
  malformed: string;
};

type ReadEach = (atMs: number, read: MalformedRead, rng: Prng) => void;

/** The times of one kind of read: a Poisson stream at the malformed reads' rate, from its own seed stream. */
function scheduleReadsOf(
  stream: string,
  streams: SeedStreams,
  perMin: number,
  fromMs: number,
  untilMs: number,
  read: (atMs: number, rng: Prng) => void,
): void {
  if (perMin <= 0) return;
  const rng = streams.stream(stream);
  const meanGapMs = 60_000 / (perMin * malformedReadShare);
  for (let t = fromMs + rng.exponential(meanGapMs); t < untilMs; t += rng.exponential(meanGapMs))
    read(t, rng);
}

/**
 * Calls `each` for every malformed read of the run, in time order, with the read's draws and the
 * stream to pick its reader and conversation from.
 */
export function scheduleMalformedReads(
  streams: SeedStreams,
  perMin: number,
  fromMs: number,
  untilMs: number,
  each: ReadEach,
): void {
  scheduleReadsOf('http-read-malformed', streams, perMin, fromMs, untilMs, (t, rng) => {
    const [param, text] = malformedParams[rng.int(malformedParams.length)]!;
    const after = rng.int(24);
    const limit = 1 + rng.int(8);
    each(t, { after, limit, param, text, malformed: `${param}=${text}` }, rng);
  });
}

/**
 * Calls `each` for every read of the run sent well formed with no token that signs in (the simulator's
 * readers), in time order, at the malformed reads' rate, from a stream of their own so no other draw
 * moves: the first, third, ... with a forged token (the server's verifier turns it into an `invalid`
 * principal), the others with no Authorization header at all (no draw is spent on which). protocol.md's
 * answer is a 401 to both: never a page, and never a 403 or 404 that tells a caller nobody signed in
 * which conversations exist (mutant 1564 of the 3c0f288 sample answered a forged token 403/404, and
 * 1625 of the 74bbde3 seed-6 sample a missing one).
 */
export function scheduleUnauthenticatedReads(
  streams: SeedStreams,
  perMin: number,
  fromMs: number,
  untilMs: number,
  each: ReadEach,
): void {
  let count = 0;
  scheduleReadsOf('http-read-forged', streams, perMin, fromMs, untilMs, (t, rng) => {
    const after = rng.int(24);
    const limit = 1 + rng.int(8);
    const text = count++ % 2 === 0 ? 'forged' : 'none';
    each(t, { after, limit, param: 'token', text, malformed: `token=${text}` }, rng);
  });
}

/**
 * Calls `each` for every read of the run by a user of a conversation it was not a member of when the run
 * began (the simulator's readers: one of another reader's conversations), in time order, at the malformed
 * reads' rate, from a stream of its own so no other read's draws move. protocol.md's messages route is
 * for members: such a read is owed its 403 (or a page the user may read, if an admin added it since),
 * and silence is silence (read-pages). A server that looked the record up again for every refusal and
 * never answered one (mutant 1647 of the 3c0f288 sample, seed 3) passed a gate whose readers only read
 * their own conversations.
 */
export function scheduleStrangerReads(
  streams: SeedStreams,
  perMin: number,
  fromMs: number,
  untilMs: number,
  each: (atMs: number, read: { after: number; limit: number }, rng: Prng) => void,
): void {
  scheduleReadsOf('http-read-stranger', streams, perMin, fromMs, untilMs, (t, rng) => {
    const after = rng.int(24);
    const limit = 1 + rng.int(8);
    each(t, { after, limit }, rng);
  });
}

/**
 * A read asked (the sim's readers and the live driver's alike): its history event and its query as sent,
 * one parameter replaced by its malformed text when `bad` is given; a well-formed one in
 * `limitLeftOutEvery` sent without `limit`, recorded as asking for up to `syncLimitMax`.
 */
export function httpReadAsked(
  read: { at: number; id: number; conv: string; user: string; after: number; limit: number; pager?: number },
  bad?: MalformedRead,
): { event: HistoryEventOf<'http-read-sent'>; query: { after: string; limit?: string } } {
  const query = { after: String(read.after), limit: String(read.limit) };
  if (bad === undefined)
    return read.id % limitLeftOutEvery === limitLeftOutEvery - 1
      ? {
          event: { k: 'http-read-sent', ...read, limit: protocolLimits.syncLimitMax },
          query: { after: query.after },
        }
      : { event: { k: 'http-read-sent', ...read }, query };
  return {
    event: { k: 'http-read-sent', ...read, malformed: bad.malformed },
    query: bad.param === 'token' ? query : { ...query, [bad.param]: bad.text },
  };
}
