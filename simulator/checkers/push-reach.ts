// The reach half of delivery-mode: a message in a small conversation is pushed (`msg`: "pushed to every
// online connection of every member, the sender's other devices included", at least once) to every
// other device of every member that held one session from before the send was first issued until
// well after it. A server that leaves it to the client's own gap `sync` (a missed bus event it never
// fills, a push it skips) loses nothing, but breaks the push.
// Faults may delay a push, never waive it: a push is due `dueMs` (delivery-mode's `reachDueMs`) after the ack, or after the end of the
// faults that were open at the ack. The expectation is judged when the device's session ends (or the
// run does). The client's word that its session held is not enough (a fault may have cut the
// connection at the server unheard): the device must have heard the server on that session after the
// push was due; frames on one connection arrive in order, so a push sent by then came first.
// Members are those at the conversation's creation that no membership change the harness asked for
// ever named (member-sessions.ts): they are members throughout, so a conversation with changes is
// judged among them too (a push held while the node reads a newer membership is late, not waived).
// A member a change removes is still owed what was acked before the admin sent that change: the store
// sequenced it while the user was a member, and protocol.md promise 6 pushes such a message to that
// user's connected devices even when the removal reaches their node first (a push to a past member).
// Authorization judges pushes to non-members.
// What a session was pushed is kept per (device, conv) as the newest seq plus the intervals skipped
// below it (DisplayedSeqs): pushes come in seq order, so a session that lasts a whole soak holds one
// number per conversation, not one per message, and the set stays exact. A device holds a map of what it
// is owed only while it is owed something, and a session's pairs are a list threaded through two columns:
// at a million clients an empty map per device and an array of pairs per session were ~0.3 GiB of the
// checker thread's heap (docs/benchmarks.md, session 27).

import type { HistoryEvent, HistoryKind } from '../history.ts';
import { int32Column, uint8Column } from './column.ts';
import { DisplayedSeqs } from './displayed-seqs.ts';
import { entryOf, type MemberSessions, type ReachJudgement, ReachUnjudged } from './member-sessions.ts';
import { SlotTable } from './slot-table.ts';

type Owed = { conv: string; seq: number; from: string; sentAt: number; ackAt: number; faulted: boolean };

/** The kinds of event `PushReach.take` reads (besides memberSessionsKinds). */
export const pushReachKinds = ['conv-frame', 'ack'] as const satisfies readonly HistoryKind[];

export class PushReach implements ReachJudgement {
  /** (device, message) pairs judged: pushed, or owed past their due time. */
  judged = 0;
  /** Owed pushes left unjudged when their session ended (or the run did), and why. */
  readonly unjudged = new ReachUnjudged();
  /** (device id, conv id) -> its pair in `pushed`. */
  private readonly pairs = new SlotTable();
  /** Per pair: the seqs pushed to the device in `msg` frames during its current session. */
  private readonly pushed = new DisplayedSeqs();
  /** Per pair: 1 while `pushed` holds something of the device's current session. */
  private readonly inSession = uint8Column();
  /**
   * The pairs a device's current session was pushed in, cleared when it ends: a list by device (its
   * newest pair, -1 none) through the pairs (the one listed before it, -1 the last).
   */
  private readonly sessionPairsHead = int32Column(-1);
  private readonly sessionPairsNext = int32Column(-1);
  /**
   * Device id -> message key (conv, seq) -> a push it is owed in its current session; a device owed
   * nothing has no map (one map per device, most of them empty, was most of this judgement's memory).
   */
  private readonly owed = new Map<number, Map<number | string, Owed>>();
  /**
   * Per device: when (a count) it was first owed in its current session, -1 not yet. The devices owed
   * something are listed in that order (`owing`), as the map of maps listed them when it held every
   * device owed since its session began, emptied or not: the run's end judges them in it, so the
   * witnesses a failing run shows stay the same.
   */
  private readonly owedSince = int32Column(-1);
  private owedSinceNext = 0;
  /** This judgement's own conversation numbers, for message keys (numbers, not strings built per push). */
  private readonly convNumbers = new Map<string, number>();

  /** Judges through `memberSessions` (it feeds this judgement every event and every session's end). */
  constructor(private readonly memberSessions: MemberSessions) {
    memberSessions.judge(this);
  }

  take(event: HistoryEvent): void {
    if (event.k === 'conv-frame' && event.t === 'msg' && this.memberSessions.members.has(event.conv))
      this.pushedTo(event);
    else if (event.k === 'ack') this.owe(event);
  }

  owing(): Iterable<number> {
    const owedSince = this.owedSince;
    return [...this.owed.keys()].sort((a, b) => owedSince.get(a) - owedSince.get(b));
  }

  /** Of those judged, owed to a user a membership change removed after their ack (a push to a past member). */
  pastMemberJudged = 0;
  /** (device, message key) pairs owed to a user removed after the ack, until judged. */
  private readonly pastMemberOwed = new Set<string>();

  /**
   * Pushes owed in `conv` to a user a membership change named stand no more (those from one still do),
   * but for a user it only removes: those were acked before the change was asked, so still owed.
   */
  forgetNamed(conv: string, named: ReadonlySet<string>, removed: ReadonlySet<string>): void {
    for (const user of named)
      for (const device of this.memberSessions.ids.devicesOfUser(user)) {
        const owed = this.owed.get(device);
        if (owed === undefined) continue;
        for (const [key, miss] of owed) {
          if (miss.conv !== conv) continue;
          if (removed.has(user)) this.pastMemberOwed.add(`${device} ${key}`);
          else owed.delete(key);
        }
        if (owed.size === 0) this.owed.delete(device);
      }
  }

  /** One judgement of a push owed to `device` under `key`: counted as to a past member if it was one. */
  private judgedOne(device: number, key: number | string): void {
    this.judged++;
    if (this.pastMemberOwed.size > 0 && this.pastMemberOwed.delete(`${device} ${key}`))
      this.pastMemberJudged++;
  }

  /** Seqs held beyond one number per (device, conv) pushed in this session: skipped intervals, bitsets. */
  get heldBeyondNewest(): number {
    return this.pushed.heldBeyondNewest;
  }

  /** The pair of `device` and `conv` in `pushed`, listed for clearing when the device's session ends. */
  private sessionPair(device: number, conv: string): number {
    const pair = this.pairs.intern(device, this.memberSessions.ids.conv(conv));
    if (this.inSession.get(pair) === 0) {
      this.inSession.set(pair, 1);
      this.sessionPairsNext.set(pair, this.sessionPairsHead.get(device));
      this.sessionPairsHead.set(device, pair);
    }
    return pair;
  }

  private pushedTo(event: HistoryEvent & { k: 'conv-frame' }): void {
    const device = this.memberSessions.device(event);
    const pair = this.sessionPair(device, event.conv);
    const owed = this.owed.get(device);
    for (const seq of event.seqs ?? []) {
      this.pushed.add(pair, seq);
      const key = this.messageKey(event.conv, seq);
      if (owed?.delete(key)) this.judgedOne(device, key);
    }
    if (owed?.size === 0) this.owed.delete(device);
  }

  /** An acked message owes a push to every other member device online since before it was sent. */
  private owe(event: HistoryEvent & { k: 'ack' }): void {
    const sessions = this.memberSessions;
    const members = sessions.members.get(event.conv);
    if (members === undefined) return;
    const sender = sessions.device(event);
    // A device's own message is never pushed to it, and never owed to it: held in its pair as if pushed,
    // so a session's own sends leave no skipped interval there (an array each, ~1 a device: most of what
    // `pushed` held at a million). A pair is asked only about what other devices sent.
    if (Number.isInteger(event.seq) && event.seq >= 1 && event.seq < 2 ** 31)
      this.pushed.add(this.sessionPair(sender, event.conv), event.seq);
    const { devices } = sessions.devicesOf(event.conv, members);
    // Looked up at the first device owed, as before: the id table numbers a conversation when first asked.
    let conv = -1;
    /** One record of the push, shared by every device owed it (nothing writes into it). */
    let owed: Owed | undefined;
    let key: number | string = 0;
    for (let i = 0; i < devices.length; i++) {
      const device = devices[i]!;
      const since = sessions.openSince.get(device);
      if (device === sender || since < 0 || since > event.sentAt) continue;
      if (conv < 0) conv = sessions.ids.conv(event.conv);
      if (this.pushed.has(this.pairs.find(device, conv), event.seq)) {
        this.judged++;
        continue;
      }
      if (owed === undefined) {
        key = this.messageKey(event.conv, event.seq);
        owed = {
          conv: event.conv,
          seq: event.seq,
          from: event.user,
          sentAt: event.sentAt,
          ackAt: event.at,
          faulted: sessions.faultsOpen > 0,
        };
      }
      if (this.owedSince.get(device) < 0) this.owedSince.set(device, this.owedSinceNext++);
      entryOf(this.owed, device).set(key, owed);
    }
  }

  ended(device: number, at: number, since: number, heard: number): void {
    const owed = this.owed.get(device);
    this.owed.delete(device);
    this.owedSince.set(device, -1);
    for (let pair = this.sessionPairsHead.get(device); pair >= 0; pair = this.sessionPairsNext.get(pair)) {
      this.pushed.clear(pair);
      this.inSession.set(pair, 0);
    }
    this.sessionPairsHead.set(device, -1);
    if (owed === undefined) return;
    for (const [key, miss] of owed) {
      const due = this.dueOf(miss);
      // The server must be heard on that session after the push was due: then the connection held.
      if (!this.memberSessions.members.has(miss.conv)) continue;
      if (due > at || heard < due) {
        this.pastMemberOwed.delete(`${device} ${key}`);
        this.unjudged.add(due, at, heard, this.memberSessions.runEnded);
        continue;
      }
      this.judgedOne(device, key);
      const { user, device: name } = this.memberSessions.ids.deviceName(device);
      const member = this.memberSessions.members.get(miss.conv)!.includes(user);
      this.memberSessions.witness.add(
        member
          ? 'message never pushed to a member online throughout'
          : 'message never pushed to a past member online throughout',
        () => ({
          problem: `${user}/${name} held one session from ${since} (before ${miss.from} sent ${miss.conv} seq ${miss.seq} at ${miss.sentAt}, acked at ${miss.ackAt}) until ${at}, ${member ? 'a member throughout' : 'a member until a removal the admin asked for after that ack'}, and was never pushed that message in a msg, though it was due by ${due} (protocol.md: pushed to every online connection of every member${member ? '' : ", promise 6: a message sequenced while a since-removed user was a member is pushed to that user's connected devices"}; a missed bus event is the server's to fill, not the client's sync)`,
          path: [],
        }),
      );
    }
  }

  pending(): number {
    const sessions = this.memberSessions;
    let pending = 0;
    for (const [device, owed] of this.owed) {
      const since = sessions.openSince.get(device);
      for (const miss of owed.values()) {
        const due = this.dueOf(miss);
        if (due === Number.POSITIVE_INFINITY || !sessions.members.has(miss.conv)) continue;
        if (!sessions.heardOn(device, since, due)) pending++;
      }
    }
    return pending;
  }

  /** When a push is due: `dueMs` after its ack, or after the faults open at its ack are over. */
  private dueOf(miss: Owed): number {
    return (
      (miss.faulted ? this.memberSessions.faultsOverAfter(miss.ackAt) : miss.ackAt) +
      this.memberSessions.dueMs
    );
  }

  /**
   * One number for (conversation, seq), exact while seqs are below 2^32 and conversations below 2^21
   * (5,000 are judged); a seq a server got wrong (not such an integer) keys by text instead.
   */
  private messageKey(conv: string, seq: number): number | string {
    let number = this.convNumbers.get(conv);
    if (number === undefined) {
      number = this.convNumbers.size;
      this.convNumbers.set(conv, number);
    }
    return Number.isInteger(seq) && seq >= 0 && seq < 2 ** 32 ? number * 2 ** 32 + seq : `${conv} ${seq}`;
  }
}
