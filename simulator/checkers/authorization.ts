// Judges protocol.md guarantee 6, authorization: nothing about a conversation reaches a non-member.
// `msg`/`batch` frames carry only seqs the user could read (its spans), and so does a `receipt` (a
// cursor is news about one seq: a node that was paused may tell a just-removed member of a cursor
// that moved while it was a member, which is no leak); `notify` and `typing` reach only users who are
// members then (or were removed less than `graceMs` before: frames in flight); every message comes from a member; and every adversarial `attempt` gets an `outcome`
// that is not 'accepted'. What the stream's membership calls unauthorized is kept as a suspect and
// re-judged at the end against FinalState's spans or a late-reported join, so a late `members` event
// cannot cause a false failure. Keeps the membership spans and the attempts awaiting their outcome.

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { FinalMembership } from './final-membership.ts';
import { SpanBook } from './span-book.ts';
import { WitnessList } from './witness-list.ts';

export const authorizationProperty = 'authorization';

export type AuthorizationOptions = CheckerOptions & {
  /** How long after a removal frames already in flight may still reach the removed member. */
  graceMs?: number;
};

type ConvFrame = Extract<HistoryEvent, { k: 'conv-frame' }>;
type Attempt = Extract<HistoryEvent, { k: 'attempt' }>;
type Suspect =
  | { kind: 'unreadable seqs'; event: ConvFrame; conv: string; user: string; seqs: number[] }
  | { kind: 'message from a non-member'; event: Durable; conv: string; user: string; seqs: number[] }
  | { kind: 'frame to a non-member'; event: ConvFrame; conv: string; user: string };
type Durable = Extract<HistoryEvent, { k: 'durable' }>;

const seqFrames: ReadonlySet<string> = new Set(['msg', 'batch', 'receipt']);
const memberFrames: ReadonlySet<string> = new Set(['notify', 'typing']);

export function createAuthorizationChecker(options: AuthorizationOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const graceMs = options.graceMs ?? 1000;
  const spans = new SpanBook(ids);
  const suspects: Suspect[] = [];
  const attempts = new Map<number, Attempt>();
  const outcomes = new Map<string, number>();
  const witness = new WitnessList(limits.witnessCasesMax);
  let settleAt = Number.POSITIVE_INFINITY;
  let evicted = 0;

  const convict = (entry: Suspect, membership: readonly unknown[]): void => {
    witness.add(entry.kind, () => ({
      problem: problemOf(entry),
      path: [{ k: 'membership', conv: entry.conv, user: entry.user, spans: membership }, entry.event],
    }));
  };

  const suspect = (entry: Suspect): void => {
    if (suspects.length < limits.authorizationSuspectsMax) suspects.push(entry);
    else convict(entry, []);
  };

  const observeFrame = (event: ConvFrame): void => {
    const conv = ids.conv(event.conv);
    const user = ids.user(event.user);
    if (seqFrames.has(event.t)) {
      const seqs = event.seqs ?? [];
      if (seqs.every((seq) => spans.canRead(conv, user, seq))) return;
      const unreadable = seqs.filter((seq) => !spans.canRead(conv, user, seq));
      suspect({ kind: 'unreadable seqs', event, conv: event.conv, user: event.user, seqs: unreadable });
    } else if (memberFrames.has(event.t) && !spans.isMember(conv, user, event.at, graceMs)) {
      suspect({ kind: 'frame to a non-member', event, conv: event.conv, user: event.user });
    }
  };

  const observe = (event: HistoryEvent): void => {
    switch (event.k) {
      case 'conv':
      case 'members':
        return spans.observe(event);
      case 'conv-frame':
        return observeFrame(event);
      case 'durable': {
        const { conv, from, seq } = event.message;
        if (!spans.canRead(ids.conv(conv), ids.user(from), seq))
          suspect({ kind: 'message from a non-member', event, conv, user: from, seqs: [seq] });
        return;
      }
      case 'attempt':
        if (attempts.size >= limits.pendingAttemptsMax) {
          attempts.delete(attempts.keys().next().value!);
          evicted++;
        }
        attempts.set(event.id, event);
        return;
      case 'outcome': {
        const attempt = attempts.get(event.id);
        attempts.delete(event.id);
        outcomes.set(event.result, (outcomes.get(event.result) ?? 0) + 1);
        if (event.result === 'accepted') {
          witness.add('attempt accepted', () => ({
            problem: `the server let ${attempt?.user ?? 'an adversary'} through: ${attempt?.action ?? `attempt ${event.id}`} on ${attempt?.conv ?? '?'}`,
            path: attempt === undefined ? [event] : [attempt, event],
          }));
        }
        return;
      }
      case 'phase':
        if (event.phase === 'settle') settleAt = Math.min(settleAt, event.at);
        return;
    }
  };

  const cleared = (entry: Suspect, membership: FinalMembership): boolean => {
    if (entry.kind === 'frame to a non-member') {
      return spans.joinedWithin(
        ids.conv(entry.conv),
        ids.user(entry.user),
        entry.event.at,
        entry.event.at + graceMs,
      );
    }
    entry.seqs = entry.seqs.filter((seq) => !membership.canRead(entry.conv, entry.user, seq));
    return entry.seqs.length === 0;
  };

  return {
    property: authorizationProperty,
    observe,
    finish(final: FinalState): CheckResult {
      const membership = new FinalMembership(final);
      suspects.sort((a, b) => (a.conv < b.conv ? -1 : a.conv > b.conv ? 1 : 0));
      for (const entry of suspects) {
        if (!cleared(entry, membership)) convict(entry, membership.spans(entry.conv, entry.user));
      }
      const stale = [...attempts.values()].filter((attempt) => attempt.at < settleAt).length;
      const answered = [...outcomes].map(([result, n]) => `${n} ${result}`).join(', ') || 'none';
      const details =
        `attempt outcomes: ${answered}; ${attempts.size} unanswered (${stale} from before the settle phase` +
        `${evicted > 0 ? `, ${evicted} more past pendingAttemptsMax` : ''}); ${suspects.length} frames re-judged at the end`;
      return witness.result(authorizationProperty, details, stale + evicted > 0 ? 'unknown' : 'pass');
    },
  };
}

function problemOf(entry: Suspect): string {
  switch (entry.kind) {
    case 'unreadable seqs':
      return `${entry.user} received ${entry.conv} seqs ${entry.seqs.join(', ')} in a ${entry.event.t}, outside its membership spans`;
    case 'message from a non-member':
      return `${entry.user} sent ${entry.conv}#${entry.seqs[0]} but was not a member when it was sequenced`;
    case 'frame to a non-member':
      return `${entry.user} received a ${entry.event.t} about ${entry.conv} while not a member`;
  }
}
