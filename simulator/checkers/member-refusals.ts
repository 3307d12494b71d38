// The other side of protocol.md guarantee 6: only members act on a conversation, and a member may. A
// `forbidden` or `not_found` answering a send, a cursor, a `sync` or a `typing` of a user who was surely
// a member from the moment it sent that frame until the answer is a violation, just as a leak is (a
// fleet node that refuses a user just added through another node, because it has not heard of the add).
// When the frame was sent comes from the harness: a send's first issue (the `failed` event's sentAt;
// retries reuse the cmid), a send made again after its ack (`resent-err`'s resentAt); for the frames
// no answer pairs with, the first of that kind the device sent on the conversation in its current
// session (the refused one was sent then or later, and an err never crosses sessions).
// Pairs whose membership never changed need no times: a member from the creation is one throughout.
// A read is owed to more than current members (protocol.md guarantee 6: a message is readable by the
// users who were members when it was sequenced, including those removed since): a `sync` refused to a
// user no longer a member is a violation too when it asked for seqs the oracle says the user surely may
// read and that existed when it was asked. Which sync an err answers is not known, so per device and
// conversation in the current session the largest `after` asked (no refused sync asked from further on)
// and the newest seq seen when the first was asked (every refused sync was asked then or later) bound
// the stretch every one of them covered. (A resume refused is asked again by a sync: that one is judged.)

import type { HistoryEvent, HistoryKind } from '../history.ts';
import { entryOf } from './member-sessions.ts';
import type { MembershipOracle } from './membership-oracle.ts';

type Refusal = Extract<HistoryEvent, { k: 'failed' | 'cursor-refused' | 'refused' | 'resent-err' }>;
type Sent = Extract<HistoryEvent, { k: 'cursor-sent' | 'typing-sent' | 'sync-sent' }>;
type SyncSent = Extract<HistoryEvent, { k: 'sync-sent' }>;

/** `readable`: a removed user's read refused, and the seqs of its own past it asked for (inclusive). */
export type MemberRefused = { refusal: Refusal; ref: string; sentFrom: number; readable?: [number, number] };

/** Pipelined syncs kept per device until its welcome (a client sends at most 32 after one hello). */
const pipelinedKeptMax = 64;

/** Codes that say "you may not", as opposed to "not now" (unavailable, rate_limited). */
const notAllowed: ReadonlySet<string> = new Set(['forbidden', 'not_found']);

/** The kinds of event `MemberRefusals.observe` reads: a checker that feeds it declares them too. */
export const memberRefusalsKinds = [
  'session',
  'cursor-sent',
  'typing-sent',
  'sync-sent',
  'failed',
  'cursor-refused',
  'refused',
  'resent-err',
] as const satisfies readonly HistoryKind[];

export class MemberRefusals {
  /** Per device, per `conv \0 kind`: its first such frame in the current session (changed pairs only). */
  private readonly firstSent = new Map<string, Map<string, number>>();
  /** Per device, per conv: the stretch every sync of the current session covered (changed pairs only). */
  private readonly syncsAsked = new Map<string, Map<string, { after: number; existed: number }>>();
  /**
   * Per device: syncs pipelined after a hello, before its welcome (changed pairs only), with what existed
   * when each was asked: they belong to the session that welcome opens.
   */
  private readonly beforeWelcome = new Map<string, { event: SyncSent; existed: number }[]>();
  judged = 0;
  /** Refusals of a changed pair whose frame the harness cannot date (not judged). */
  undated = 0;

  constructor(
    private readonly membership: MembershipOracle,
    private readonly convict: (refused: MemberRefused) => void,
  ) {}

  observe(event: HistoryEvent): void {
    switch (event.k) {
      case 'session': {
        const key = deviceKey(event);
        if (this.firstSent.size > 0) this.firstSent.delete(key);
        if (this.syncsAsked.size > 0) this.syncsAsked.delete(key);
        const pipelined = this.beforeWelcome.size > 0 ? this.beforeWelcome.get(key) : undefined;
        if (pipelined === undefined) return;
        this.beforeWelcome.delete(key);
        for (const { event, existed } of pipelined) {
          this.syncAsked(event, existed);
          this.sent(event, 'sync');
        }
        return;
      }
      case 'cursor-sent':
        return this.sent(event, event.kind);
      case 'typing-sent':
        return this.sent(event, 'typing');
      case 'sync-sent':
        if (event.beforeWelcome) return this.pipelined(event);
        this.syncAsked(event, this.membership.newestSeen(event.conv));
        return this.sent(event, 'sync');
      case 'failed':
        return this.refused(event, 'send', event.sentAt);
      case 'cursor-refused':
        return this.refused(event, event.kind, this.firstOf(event, event.kind));
      case 'refused':
        return this.refused(event, event.ref, this.firstOf(event, event.ref));
      case 'resent-err':
        return this.refused(event, 'send made again', event.resentAt);
    }
  }

  private sent(event: Sent & { conv: string }, kind: string): void {
    if (!this.membership.hasChanges(event.conv, event.user)) return;
    const kinds = entryOf(this.firstSent, deviceKey(event));
    const key = `${event.conv}\0${kind}`;
    if (!kinds.has(key)) kinds.set(key, event.at);
  }

  /** `existed`: the newest seq seen when it was asked. */
  private syncAsked(event: SyncSent, existed: number): void {
    if (!this.membership.hasChanges(event.conv, event.user)) return;
    const convs = entryOf(this.syncsAsked, deviceKey(event));
    const asked = convs.get(event.conv);
    if (asked === undefined) convs.set(event.conv, { after: event.after, existed });
    else asked.after = Math.max(asked.after, event.after);
  }

  /** Kept for the session its welcome opens (a connection lost before it: the next one's, dated earlier). */
  private pipelined(event: SyncSent): void {
    if (!this.membership.hasChanges(event.conv, event.user)) return;
    const key = deviceKey(event);
    const list = this.beforeWelcome.get(key);
    const entry = { event, existed: this.membership.newestSeen(event.conv) };
    if (list === undefined) this.beforeWelcome.set(key, [entry]);
    else {
      // Those of connections lost before their welcome are never what an err answers: the oldest go.
      if (list.length >= pipelinedKeptMax) list.shift();
      list.push(entry);
    }
  }

  private firstOf(refusal: Refusal, kind: string): number | undefined {
    return this.firstSent.get(deviceKey(refusal))?.get(`${refusal.conv}\0${kind}`);
  }

  private refused(refusal: Refusal, ref: string, sentAt: number | undefined): void {
    if (!notAllowed.has(refusal.code)) return;
    const changed = this.membership.hasChanges(refusal.conv, refusal.user);
    if (changed && sentAt === undefined) {
      this.undated++;
      return;
    }
    this.judged++;
    const from = changed ? sentAt! : refusal.at;
    if (this.membership.surelyMemberThroughout(refusal.conv, refusal.user, from, refusal.at))
      this.convict({ refusal, ref, sentFrom: from });
    else if (refusal.k === 'refused' && refusal.ref === 'sync') this.readRefused(refusal, from);
  }

  /** A sync refused to a user not surely a member throughout: wrong if it asked for the user's own past. */
  private readRefused(refusal: Refusal, from: number): void {
    const asked = this.syncsAsked.get(deviceKey(refusal))?.get(refusal.conv);
    if (asked === undefined || asked.existed <= asked.after) return;
    const { conv, user } = refusal;
    for (const [lo, hi] of this.membership.surelyReadable(conv, user, asked.existed))
      if (hi > asked.after) {
        this.convict({ refusal, ref: 'sync', sentFrom: from, readable: [Math.max(lo, asked.after + 1), hi] });
        return;
      }
  }
}

function deviceKey(ref: { user: string; device: string }): string {
  return `${ref.user}\0${ref.device}`;
}
