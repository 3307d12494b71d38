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
// What a welcome listed comes from the client's record of it: a `session` event, then one
// `cursor-seen` (source `welcome`) per entry and cursor kind, at the same instant and from the same
// device, recorded in one synchronous step (an adversary's own events may come between, from that
// device): a welcome is judged at the first event fed from another device or at another instant.

import type { HistoryEvent, HistoryKind } from '../history.ts';
import { type FaultMark, quietAfterFaults } from './fault-quiet.ts';
import type { MembershipOracle } from './membership-oracle.ts';

/** A conversation the user was owed in a welcome and that the welcome left out. */
export type WelcomeOmission = {
  session: Extract<HistoryEvent, { k: 'session' }>;
  conv: string;
  /** When the create or add that made the user a member was answered. */
  memberSince: number;
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

type Welcome = { session: Extract<HistoryEvent, { k: 'session' }>; listed: Set<string> };

export class WelcomeLists {
  /** Per user: the conversations the run made it a member of, and when the latest such answer came. */
  private readonly joined = new Map<string, Map<string, number>>();
  /** Membership changes still waiting for their answer: their conversation and the users they add. */
  private readonly adding = new Map<number, { conv: string; add: readonly string[] }>();
  private readonly faults: FaultMark[] = [];
  private pending: Welcome | null = null;
  /** Welcomes of users the run made members of something, the entries owed in them, and those left out. */
  judged = 0;
  owed = 0;
  omitted = 0;

  constructor(
    private readonly membership: MembershipOracle,
    private readonly lagMs: number,
    private readonly convict: (omission: WelcomeOmission) => void,
  ) {}

  observe(event: HistoryEvent): void {
    const pending = this.pending;
    if (pending !== null && !sameStep(pending.session, event)) this.finishWelcome();
    switch (event.k) {
      case 'conv':
        // The population's (at 0, before the run); a create over HTTP is recorded when answered, later.
        if (event.at === 0) return;
        for (const user of event.members) this.join(user, event.conv, event.at);
        return;
      case 'members-sent':
        if (event.add.length > 0) this.adding.set(event.id, { conv: event.conv, add: event.add });
        return;
      case 'members-answered': {
        const change = this.adding.get(event.id);
        if (change === undefined) return;
        this.adding.delete(event.id);
        if (event.status >= 200 && event.status < 300)
          for (const user of change.add) this.join(user, change.conv, event.at);
        return;
      }
      case 'fault':
        this.faults.push({ at: event.at, start: event.phase === 'start' });
        return;
      case 'session':
        if (this.joined.has(event.user)) this.pending = { session: event, listed: new Set() };
        return;
      case 'cursor-seen':
        if (this.pending !== null && event.source === 'welcome') this.pending.listed.add(event.conv);
        return;
    }
  }

  /** The run ended: a welcome still open is judged. */
  finish(): void {
    if (this.pending !== null) this.finishWelcome();
  }

  private join(user: string, conv: string, at: number): void {
    let convs = this.joined.get(user);
    if (convs === undefined) {
      convs = new Map();
      this.joined.set(user, convs);
    }
    convs.set(conv, at);
  }

  private finishWelcome(): void {
    const { session, listed } = this.pending!;
    this.pending = null;
    this.judged++;
    const began = session.at - session.connectMs;
    for (const [conv, since] of this.joined.get(session.user)!) {
      if (quietAfterFaults(this.faults, since, this.lagMs) > began) continue;
      if (!this.membership.surelyMemberThroughout(conv, session.user, since, session.at)) continue;
      this.owed++;
      if (listed.has(conv)) continue;
      this.omitted++;
      this.convict({ session, conv, memberSince: since });
    }
  }
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
