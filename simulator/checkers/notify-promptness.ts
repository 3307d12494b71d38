// The large-group half of delivery-mode's reach, for lateness: a message in a large group is announced
// by a coalesced `notify` to every online connection of every member (protocol.md), and a notify that
// names a seq is late when it comes more than `dueMs` (delivery-mode's `reachDueMs`) after that seq's
// ack, or after the end of the faults open then, to a device whose session was open since before the
// send was issued. The reference server flushes a notify 20 ms after the first message it covers; one
// held back for seconds is a server that sat on its timers (the sample of session 18, mutant 2154: a
// timer heap never sifted after a pop kept notifies buried behind a hello timeout, up to 6.9 s late in
// large-group at 600 clients, where every one came within 26 ms on the shipped core).
// A notify covers every seq up to its `lastSeq`: the seqs it newly names on a session are those past
// the newest that session already knew (its welcome's lastSeq, or an earlier notify). The oldest few
// of them are judged (seqs are acked about in order, so the oldest ack is among them); a seq whose ack
// the harness had not seen yet, or sent before the device's session opened, is not judged.
// Large groups are those the harness created above the threshold with no membership change asked
// (a member named by a change may rightly get no notify); a notify that never comes is not judged here.

import type { HistoryEvent, HistoryKind } from '../history.ts';
import { float64Column, int32Column } from './column.ts';
import type { MemberSessions, ReachJudgement } from './member-sessions.ts';
import { SlotTable } from './slot-table.ts';

/** The kinds of event `NotifyPromptness.take` reads (besides memberSessionsKinds). */
export const notifyPromptnessKinds = [
  'conv',
  'members-sent',
  'ack',
  'conv-frame',
  'cursor-seen',
] as const satisfies readonly HistoryKind[];

/** Seqs a notify newly names that are judged, the oldest first (bounds the work of a notify). */
const seqsJudgedPerNotifyMax = 16;

/** One large group's acks, by seq: when the ack came, and when the send was first issued. */
type Acks = { ackAt: number[]; sentAt: number[] };

export class NotifyPromptness implements ReachJudgement {
  /** Seqs judged on notifies (came in time or late). */
  judged = 0;
  /** Large groups judged -> their acks so far. */
  private readonly large = new Map<string, Acks>();
  /** (device id, conv id) -> its row in the columns below. */
  private readonly pairs = new SlotTable();
  /** Per pair: the newest seq the device's session knew of, and when that session opened. */
  private readonly known = int32Column();
  private readonly knownOn = float64Column(Number.NaN);

  constructor(
    private readonly memberSessions: MemberSessions,
    private readonly threshold: number,
  ) {
    memberSessions.judge(this);
  }

  take(event: HistoryEvent): void {
    switch (event.k) {
      case 'conv':
        if (new Set(event.members).size > this.threshold)
          this.large.set(event.conv, { ackAt: [], sentAt: [] });
        return;
      case 'members-sent':
        this.large.delete(event.conv);
        return;
      case 'ack': {
        const acks = this.large.get(event.conv);
        if (acks === undefined || !Number.isSafeInteger(event.seq) || event.seq < 1) return;
        if (acks.ackAt[event.seq] === undefined) {
          acks.ackAt[event.seq] = event.at;
          acks.sentAt[event.seq] = event.sentAt;
        }
        return;
      }
      case 'cursor-seen':
        // A welcome lists each conversation as two cursors of one lastSeq: taken once.
        if (event.source === 'welcome' && event.kind === 'delivered' && this.large.has(event.conv))
          this.knows(event, event.lastSeq);
        return;
      case 'conv-frame':
        if (event.t === 'notify' && event.lastSeq !== undefined) this.notified(event, event.lastSeq);
        return;
    }
  }

  owing(): Iterable<number> {
    return [];
  }

  forgetNamed(): void {}

  ended(): void {}

  /** Judged as notifies come: nothing waits for a session's end. */
  pending(): number {
    return 0;
  }

  /** The session of `event`'s device knows `conv` up to `lastSeq`; returns the seq it knew before (0: none). */
  private knows(
    event: HistoryEvent & { conv: string; user: string; device: string },
    lastSeq: number,
  ): number {
    const sessions = this.memberSessions;
    const device = sessions.ids.device(event.user, event.device);
    const since = sessions.openSince.get(device);
    if (since < 0) return Number.POSITIVE_INFINITY;
    const pair = this.pairs.intern(device, sessions.ids.conv(event.conv));
    const before = this.knownOn.get(pair) === since ? this.known.get(pair) : 0;
    if (lastSeq > before || this.knownOn.get(pair) !== since) {
      this.known.set(pair, Math.max(before, Number.isSafeInteger(lastSeq) ? lastSeq : before));
      this.knownOn.set(pair, since);
    }
    return before;
  }

  private notified(event: HistoryEvent & { k: 'conv-frame' }, lastSeq: number): void {
    const acks = this.large.get(event.conv);
    if (acks === undefined) return;
    const sessions = this.memberSessions;
    const since = sessions.openSince.get(sessions.ids.device(event.user, event.device));
    const before = this.knows(event, lastSeq);
    let judged = 0;
    for (let seq = before + 1; seq <= lastSeq && judged < seqsJudgedPerNotifyMax; seq++) {
      const ackAt = acks.ackAt[seq];
      if (ackAt === undefined || acks.sentAt[seq]! < since) continue;
      judged++;
      this.judged++;
      const due = sessions.quietAfter(ackAt, sessions.dueMs);
      if (event.at <= due) continue;
      sessions.witness.add('notify late', () => ({
        problem: `${event.user}/${event.device} (a session open since ${since}) was first told of ${event.conv} seq ${seq} by a notify at ${event.at}, though it was acked at ${ackAt} and due by ${due} (protocol.md: in a large group a notify goes to every online connection of every member)`,
        path: [event],
      }));
    }
  }
}
