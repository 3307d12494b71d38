// The receipt half of delivery-mode's reach: when a member moves a cursor in a small conversation
// (protocol.md `receipt`: "a member's cursor moved forward; sent to members of conversations at or
// below the large-group threshold"), every device of every other member that held one session
// throughout hears of it: a receipt about that member and kind, at that seq or past it (cursors are
// cumulative; a later receipt covers an earlier one). A server that never sends receipts passed every
// other check.
// Only a cursor past every cursor that user's devices sent before, at a seq the sender's node pushed it
// on that session (so the node knows the seq and does not clamp the cursor), must move it. Judged only away from
// faults, since a cursor frame has no answer: the cursor is sent after the warm-up, with no fault open
// and no fault starting or healing from 5 s before it until it is due, the sender hears the server on that session after it was due (so the server still
// had the connection and read the frame: a client may hold a session the server closed unheard, as
// after a partition), and so does the receiving device on its own. Members are those at the
// conversation's creation, in conversations the harness never changed.

import type { HistoryEvent } from '../history.ts';
import type { IdTable } from './id-table.ts';
import { MemberSessions } from './member-sessions.ts';
import type { WitnessList } from './witness-list.ts';

/** A receipt is due this long after the cursor was sent (a durable cursor write, then the fan-out). */
const dueMs = 3000;
/**
 * A node that (re)starts, or hears another go or come back, reads every conversation record again,
 * cursors included; a cursor it learns that way before its bus receipt is not relayed (the reference
 * server's catch-up, swarm seed 43242092515799 at start). Cursors this close to a fault event or in
 * the warm-up (nodes starting) are not judged.
 */
const afterFaultMs = 5000;

type Owed = { seq: number; sentAt: number; sender: number; senderSince: number };

export class ReceiptReach extends MemberSessions {
  /** (device, cursor) pairs judged: told, or owed past their due time. */
  judged = 0;
  /** Device id -> `conv of kind` -> the highest receipt seq it heard this session. */
  private readonly told = new Map<number, Map<string, number>>();
  /** Device id -> `conv of kind` -> the oldest receipt it is owed this session. */
  private readonly owed = new Map<number, Map<string, Owed>>();
  /** Device id -> conv -> the highest seq its node pushed it this session (the node knew of it). */
  private readonly pushedUpTo = new Map<number, Map<string, number>>();
  /** `conv user kind` -> the highest cursor that user's devices sent: only a higher one must move it. */
  private readonly highest = new Map<string, number>();

  constructor(
    ids: IdTable,
    threshold: number,
    private readonly witness: WitnessList,
  ) {
    super(ids, threshold);
  }

  /** Cursors sent before this are not judged (the warm-up: nodes start and catch up). */
  private judgeFrom = 0;

  protected take(event: HistoryEvent): void {
    if (event.k === 'phase') {
      if (event.phase === 'warmup') this.judgeFrom = Number.POSITIVE_INFINITY;
      else if (event.phase === 'faults') this.judgeFrom = event.at;
    } else if (event.k === 'cursor-sent') this.owe(event);
    else if (event.k === 'cursor-seen' && event.source === 'receipt') this.toldOf(event);
    else if (event.k === 'conv-frame' && event.t === 'msg' && this.members.has(event.conv)) {
      const device = this.device(event);
      let convs = this.pushedUpTo.get(device);
      if (convs === undefined) {
        convs = new Map();
        this.pushedUpTo.set(device, convs);
      }
      convs.set(event.conv, Math.max(convs.get(event.conv) ?? 0, ...(event.seqs ?? [])));
    }
  }

  protected owing(): Iterable<number> {
    return this.owed.keys();
  }

  private toldOf(event: HistoryEvent & { k: 'cursor-seen' }): void {
    const device = this.device(event);
    const key = `${event.conv} ${event.of} ${event.kind}`;
    let told = this.told.get(device);
    if (told === undefined) {
      told = new Map();
      this.told.set(device, told);
    }
    told.set(key, Math.max(told.get(key) ?? 0, event.seq));
    const owed = this.owed.get(device);
    if (owed !== undefined && event.seq >= (owed.get(key)?.seq ?? Number.POSITIVE_INFINITY)) {
      owed.delete(key);
      this.judged++;
    }
  }

  /** A cursor sent away from faults owes a receipt to every other member's devices online since. */
  private owe(event: HistoryEvent & { k: 'cursor-sent' }): void {
    const members = this.members.get(event.conv);
    if (members === undefined || !members.includes(event.user)) return;
    const key = `${event.conv} ${event.user} ${event.kind}`;
    // Another device of the same user may have moved the cursor past it already: no news then.
    if (event.seq <= (this.highest.get(key) ?? 0)) return;
    this.highest.set(key, event.seq);
    const sender = this.device(event);
    const senderSince = this.openSince.get(sender);
    if (senderSince < 0 || this.faultsOpen > 0 || event.at < this.judgeFrom) return;
    // The sender's node clamps a cursor to the lastSeq it knows: a seq the device read from the store
    // (a sync, a resume) may be past it for a while. Owed only if that node pushed the device the seq.
    if ((this.pushedUpTo.get(sender)?.get(event.conv) ?? 0) < event.seq) return;
    for (const member of members) {
      if (member === event.user) continue;
      for (const device of this.ids.devicesOfUser(member)) {
        const since = this.openSince.get(device);
        if (since < 0 || since > event.at) continue;
        if ((this.told.get(device)?.get(key) ?? 0) >= event.seq) {
          this.judged++;
          continue;
        }
        let owed = this.owed.get(device);
        if (owed === undefined) {
          owed = new Map();
          this.owed.set(device, owed);
        }
        // The oldest owed receipt is kept: a receipt covering it is judged, and later ones wait.
        if (!owed.has(key)) owed.set(key, { seq: event.seq, sentAt: event.at, sender, senderSince });
      }
    }
  }

  protected ended(device: number, at: number, since: number, heard: number): void {
    const owed = this.owed.get(device);
    this.owed.delete(device);
    this.told.delete(device);
    this.pushedUpTo.delete(device);
    if (owed === undefined) return;
    for (const [key, miss] of owed) {
      const due = miss.sentAt + dueMs;
      if (due > at || heard < due || !this.heardOn(miss.sender, miss.senderSince, due)) continue;
      const [conv = '', of, kind] = key.split(' ');
      if (this.faultNear(miss.sentAt - afterFaultMs, due) || !this.members.has(conv)) continue;
      this.judged++;
      const { user, device: name } = this.ids.deviceName(device);
      this.witness.add('cursor never told to a member online throughout', () => ({
        problem: `${user}/${name} held one session from ${since} and heard the server after ${due}, but never got a receipt of ${of}'s ${kind} cursor at ${miss.seq} or past it in ${conv}, sent at ${miss.sentAt} with no fault near (protocol.md: a receipt goes to the members when a member's cursor moves forward)`,
        path: [],
      }));
    }
  }
}
