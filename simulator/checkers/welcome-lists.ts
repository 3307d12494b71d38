// A welcome lists every conversation the user is a member of (protocol.md: `convs` covers the user's
// conversations; promise 6: membership decides who reads). The other side of authorization's welcome
// judgement (a welcome tells a user only what it may read): a welcome that leaves out a conversation
// the user surely belongs to hides it from that device, which then neither resumes nor pulls it (a
// fleet node that restarted and never heard of a create or an add made through another node while it
// read its records: mutant 16 of the session-18 sample). What the user belongs to comes from the
// harness only: the conversations it created during the run (`conv`, recorded when the create was
// answered) and the membership changes it asked for (`members-sent`) and when they were answered,
// through the membership oracle. A fleet may hear of a change made through another node a moment
// later (its bus), and later still across faults (a catch-up after a bus cut or a restart), so a
// conversation is owed from `lagMs` of time with no fault open after the answer that made the user a
// member, counted up to when the device began its connection (its hello came after), and only while
// the user was surely a member from that answer until the welcome. The conversations the population
// made before the run are not judged (every node loads them at start; indexing every user's would
// cost a list per user at a million clients).
// The same welcome's v1.1 `member` flags, by the same rule (protocol.md, "Past memberships in
// `welcome`"): an entry the welcome lists for a conversation the user was removed from carries
// `member: false`, and one for a conversation it is a member of does not. A removed user's entry is
// judged from `lagMs` of time with no fault open after the removal's answer (a fleet node that has not
// heard of it yet still lists the conversation as current), while the user was surely no member from
// that answer until the welcome (no add sent meanwhile: a node may apply a re-add before it builds the
// welcome); a member's entry as its omission is. A server need not list past memberships at all: an
// entry left out is not judged here.
// What a welcome listed comes from the client's record of it: a `session` event, then one
// `cursor-seen` (source `welcome`) per entry and cursor kind, at the same instant and from the same
// device, recorded in one synchronous step (an adversary's own events may come between, from that
// device): a welcome is judged at the first event fed from another device or at another instant.
// The welcoming node's own bus cut is no excuse (bus-cuts.ts): a node that knows it lost the bus holds
// its welcomes until it has read every record again, so a conversation joined before that cut healed
// is owed in a welcome whose connection began after the cut began, with no lag and whatever else was
// open (mutants 43, 335, 746 of the 74bbde3 seed-5 sample and 747 of seed 4 released them early).

import type { HistoryEvent, HistoryKind } from '../history.ts';
import { BusCuts } from './bus-cuts.ts';
import { type FaultMark, quietAfterFaults } from './fault-quiet.ts';
import type { MembershipOracle } from './membership-oracle.ts';

/** A conversation the user was owed in a welcome and that the welcome left out. */
export type WelcomeOmission = {
  session: Extract<HistoryEvent, { k: 'session' }>;
  conv: string;
  /** When the create or add that made the user a member was answered. */
  memberSince: number;
  /** Owed because the welcoming node's own bus was cut after the connection's start (not by the lag). */
  cut: boolean;
};

/** The kinds of event `WelcomeLists.observe` reads: a checker that feeds it declares them too. */
export const welcomeListsKinds = [
  'conv',
  'members-sent',
  'members-answered',
  'session',
  'cursor-seen',
  'fault',
] as const satisfies readonly HistoryKind[];

/** A welcome entry whose `member` flag says the opposite of what the harness knows. */
export type WelcomeMisflag = {
  session: Extract<HistoryEvent, { k: 'session' }>;
  conv: string;
  /** The entry's flag (undefined: left out, which says "member"). */
  member: boolean | undefined;
  /** True: the user was surely removed; false: surely a member. */
  removed: boolean;
  /** When the removal or the create or add that made the user a member was answered. */
  since: number;
};

/** A welcome, and its entries' `member` flags (undefined: none sent). */
type Welcome = { session: Extract<HistoryEvent, { k: 'session' }>; listed: Map<string, boolean | undefined> };

export class WelcomeLists {
  /** Per user: the conversations the run made it a member of, and when the latest such answer came. */
  private readonly joined = new Map<string, Map<string, number>>();
  /** Per user: the conversations the run removed it from, and when the latest such answer came. */
  private readonly left = new Map<string, Map<string, number>>();
  /** Membership changes still waiting for their answer: their conversation and the users they change. */
  private readonly changing = new Map<
    number,
    { conv: string; add: readonly string[]; remove: readonly string[] }
  >();
  private readonly faults: FaultMark[] = [];
  private readonly busCuts = new BusCuts();
  private pending: Welcome | null = null;
  /** Welcomes of users the run made members of something or removed, the entries owed in them, and those left out. */
  judged = 0;
  owed = 0;
  /** Of owed, those owed only because the welcoming node's own bus was cut (bus-cuts.ts). */
  owedByCut = 0;
  omitted = 0;
  /** Entries whose `member` flag was judged (a removed user's and a member's), and those flagged wrong. */
  flagsJudged = 0;
  /** Of flagsJudged, a removed user's entries. */
  pastFlagsJudged = 0;
  misflagged = 0;

  constructor(
    private readonly membership: MembershipOracle,
    private readonly lagMs: number,
    private readonly convict: (omission: WelcomeOmission) => void,
    private readonly convictFlag: (misflag: WelcomeMisflag) => void,
  ) {}

  observe(event: HistoryEvent): void {
    const pending = this.pending;
    if (pending !== null && !sameStep(pending.session, event)) this.finishWelcome();
    switch (event.k) {
      case 'conv':
        // The population's (at 0, before the run); a create over HTTP is recorded when answered, later.
        if (event.at === 0) return;
        for (const user of event.members) note(this.joined, user, event.conv, event.at);
        return;
      case 'members-sent':
        if (event.add.length > 0 || event.remove.length > 0)
          this.changing.set(event.id, { conv: event.conv, add: event.add, remove: event.remove });
        return;
      case 'members-answered': {
        const change = this.changing.get(event.id);
        if (change === undefined) return;
        this.changing.delete(event.id);
        if (event.status >= 200 && event.status < 300) {
          for (const user of change.add) note(this.joined, user, change.conv, event.at);
          for (const user of change.remove) note(this.left, user, change.conv, event.at);
        }
        return;
      }
      case 'fault':
        this.faults.push({ at: event.at, start: event.phase === 'start' });
        this.busCuts.observe(event);
        return;
      case 'session':
        if (this.joined.has(event.user) || this.left.has(event.user))
          this.pending = { session: event, listed: new Map() };
        return;
      case 'cursor-seen':
        if (this.pending !== null && event.source === 'welcome')
          this.pending.listed.set(event.conv, event.member);
        return;
    }
  }

  /** The run ended: a welcome still open is judged. */
  finish(): void {
    if (this.pending !== null) this.finishWelcome();
  }

  private finishWelcome(): void {
    const { session, listed } = this.pending!;
    this.pending = null;
    this.judged++;
    const began = session.at - session.connectMs;
    for (const [conv, since] of this.joined.get(session.user) ?? []) {
      const lagged = quietAfterFaults(this.faults, since, this.lagMs) <= began;
      const cut = !lagged && this.busCuts.binds(session.node, since, began, session.at);
      if (!lagged && !cut) continue;
      if (!this.membership.surelyMemberThroughout(conv, session.user, since, session.at)) continue;
      this.owed++;
      if (cut) this.owedByCut++;
      if (!listed.has(conv)) {
        this.omitted++;
        this.convict({ session, conv, memberSince: since, cut });
        continue;
      }
      this.flagsJudged++;
      const member = listed.get(conv);
      if (member !== false) continue;
      this.misflagged++;
      this.convictFlag({ session, conv, member, removed: false, since });
    }
    for (const [conv, since] of this.left.get(session.user) ?? []) {
      if (!listed.has(conv)) continue;
      if (quietAfterFaults(this.faults, since, this.lagMs) > began) continue;
      if (!this.membership.surelyOutThroughout(conv, session.user, since, session.at)) continue;
      this.flagsJudged++;
      this.pastFlagsJudged++;
      const member = listed.get(conv);
      if (member === false) continue;
      this.misflagged++;
      this.convictFlag({ session, conv, member, removed: true, since });
    }
  }
}

/** Notes in `book` that `user`'s membership of `conv` changed by an answer at `at` (the latest wins). */
function note(book: Map<string, Map<string, number>>, user: string, conv: string, at: number): void {
  let convs = book.get(user);
  if (convs === undefined) {
    convs = new Map();
    book.set(user, convs);
  }
  convs.set(conv, at);
}

/** Whether `event` was recorded in the same step as the welcome's `session`: same device, same instant. */
function sameStep(session: Extract<HistoryEvent, { k: 'session' }>, event: HistoryEvent): boolean {
  return (
    event.at === session.at &&
    'device' in event &&
    event.device === session.device &&
    event.user === session.user
  );
}
