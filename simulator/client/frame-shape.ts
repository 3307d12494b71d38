// The shape protocol.md gives a `welcome` and an `err`, judged field by field as a client gets them:
// what the rest of the harness reads only in part (a client skips a welcome entry it cannot use, and
// nothing read an err's `ref` as long as its `conv` named the conversation), so a server that sent a
// malformed entry or an empty `ref` passed every check (mutation run 8: a welcome entry `{}` or a
// string, and `ref: ""` on the errs answering a refused resume, sync, typing or watch). The other
// frames' fields are judged by the checkers that read them (seqs, cursors, presence, pages).

import { ErrorCode } from '../../reference-server/protocol/codes.ts';
import type { ErrFrame, WelcomeFrame } from '../../reference-server/protocol/frames.ts';
import { isId, isSeq } from '../../reference-server/protocol/limits.ts';

/** The codes an `err` on the socket may carry (`unauthorized` and `conflict` are HTTP's only). */
const socketErrorCodes: ReadonlySet<string> = new Set([
  ErrorCode.badRequest,
  ErrorCode.forbidden,
  ErrorCode.notFound,
  ErrorCode.tooLarge,
  ErrorCode.rateLimited,
  ErrorCode.unavailable,
]);

const nonEmpty = (value: unknown): boolean => typeof value === 'string' && value.length > 0;

/** What is wrong with a `welcome` for `user`, or null: its identity fields and each `convs` entry. */
export function welcomeProblem(frame: WelcomeFrame, user: string): string | null {
  if (frame.user !== user) return `user ${JSON.stringify(frame.user)}, signed in as ${user}`;
  if (!nonEmpty(frame.conn)) return `conn ${JSON.stringify(frame.conn)} is not a connection id`;
  if (!nonEmpty(frame.node)) return `node ${JSON.stringify(frame.node)} is not a node id`;
  if (typeof frame.heartbeatMs !== 'number' || !(frame.heartbeatMs > 0))
    return `heartbeatMs ${JSON.stringify(frame.heartbeatMs)} is not a positive number`;
  if (!Array.isArray(frame.convs)) return 'convs is not a list';
  for (const entry of frame.convs as unknown[]) {
    const problem = convsEntryProblem(entry);
    // The entry shown only when it is wrong: a welcome per session, a million sessions in `million`.
    if (problem !== null) return `convs entry ${JSON.stringify(entry)?.slice(0, 120)}${problem}`;
  }
  const twice = listedTwice(frame.convs);
  if (twice !== null) return `convs lists ${JSON.stringify(twice)} twice`;
  return null;
}

/**
 * A conversation two `convs` entries name (the first found), or null: one entry says what the user is to
 * a conversation, so two (both current, or current beside `member: false`) contradict each other or
 * repeat it. Most welcomes list a few conversations: compared pairwise, with no allocation.
 */
function listedTwice(convs: readonly { conv: string }[]): string | null {
  if (convs.length > 32) {
    const seen = new Set<string>();
    for (const { conv } of convs) {
      if (seen.has(conv)) return conv;
      seen.add(conv);
    }
    return null;
  }
  for (let i = 1; i < convs.length; i++)
    for (let j = 0; j < i; j++) if (convs[i]!.conv === convs[j]!.conv) return convs[i]!.conv;
  return null;
}

/** What is wrong with one welcome `convs` entry (to follow the entry in the message), or null. */
function convsEntryProblem(entry: unknown): string | null {
  if (typeof entry !== 'object' || entry === null || Array.isArray(entry)) return ' is not an object';
  const e = entry as Record<string, unknown>;
  if (!isId(e.conv)) return ': conv is not a conversation id';
  if (!isSeq(e.lastSeq)) return ': lastSeq is not a seq';
  if (!isSeq(e.delivered)) return ': delivered is not a seq';
  if (!isSeq(e.read)) return ': read is not a seq';
  if (e.member !== undefined && typeof e.member !== 'boolean') return ': member is not a boolean';
  return null;
}

/**
 * What is wrong with an `err`, or null: a socket error code, a message, and `ref` (the cmid or frame
 * type it answers: an id), `retryAfterMs` (ms, not negative) and `conv` (an id) when present.
 */
export function errProblem(frame: ErrFrame): string | null {
  if (!socketErrorCodes.has(frame.code))
    return `code ${JSON.stringify(frame.code)} is not a socket error code`;
  if (typeof frame.message !== 'string') return 'message is not a string';
  if (frame.ref !== undefined && !isId(frame.ref))
    return `ref ${JSON.stringify(frame.ref)} is neither a cmid nor a frame type`;
  if (
    frame.retryAfterMs !== undefined &&
    !(typeof frame.retryAfterMs === 'number' && frame.retryAfterMs >= 0)
  )
    return `retryAfterMs ${JSON.stringify(frame.retryAfterMs)} is not a duration`;
  if (frame.conv !== undefined && !isId(frame.conv))
    return `conv ${JSON.stringify(frame.conv)} is not a conversation id`;
  return null;
}
