// The receipt half of delivery-mode's reach: when a member moves a cursor in a small conversation
// (protocol.md `receipt`: "a member's cursor moved forward; sent to members of conversations at or
// below the large-group threshold"), every device of every other member that held one session
// throughout hears of it: a receipt about that member and kind, at that seq or past it (cursors are
// cumulative; a later receipt covers an earlier one). A server that never sends receipts passed every
// other check.
// Only a cursor past every cursor that user's devices sent before must move it. Judged only away from
// faults, since a cursor frame has no answer: the cursor is sent with no fault
// open and none beginning before it is due, the sender's session holds until then (so the server read
// the frame), and the receiving device hears the server on its session after it was due. Members are
// those at the conversation's creation, in conversations the harness never changed.

import type { DeviceRef, HistoryEvent } from '../history.ts';
import { float64Column } from './column.ts';
import type { IdTable } from './id-table.ts';
import type { WitnessList } from './witness-list.ts';

/** Conversations judged, at most (the first created): bounds memory at a million clients. */
const conversationsMax = 5000;
/** A receipt is due this long after the cursor was sent (a durable cursor write, then the fan-out). */
const dueMs = 3000;

type Owed = { seq: number; due: number; sender: number; senderSince: number };

export class ReceiptReach {
  /** (device, cursor) pairs judged: told, or owed past their due time. */
  judged = 0;
  private readonly members = new Map<string, readonly string[]>();
  private readonly openSince = float64Column(-1);
  private readonly lastHeard = float64Column(-1);
  /** Device id -> when its last session ended and when that session had opened. */
  private readonly endedAt = float64Column(-1);
  private readonly endedSince = float64Column(-1);
  /** Device id -> `conv of kind` -> the highest receipt seq it heard this session. */
  private readonly told = new Map<number, Map<string, number>>();
  /** Device id -> `conv of kind` -> the oldest receipt it is owed this session. */
  private readonly owed = new Map<number, Map<string, Owed>>();
  /** `conv user kind` -> the highest cursor that user's devices sent: only a higher one must move it. */
  private readonly highest = new Map<string, number>();
  private readonly faultStarts: number[] = [];
  private faultsOpen = 0;

  constructor(
    private readonly ids: IdTable,
    private readonly threshold: number,
    private readonly witness: WitnessList,
  ) {}

  observe(event: HistoryEvent): void {
    switch (event.k) {
      case 'conv': {
        const members = [...new Set(event.members)];
        if (members.length <= this.threshold && this.members.size < conversationsMax)
          this.members.set(event.conv, members);
        return;
      }
      case 'members-sent':
        this.members.delete(event.conv);
        return;
      case 'cursor-sent':
        this.owe(event);
        return;
      case 'cursor-seen':
        this.heard(event);
        if (event.source === 'receipt') this.toldOf(event);
        return;
      case 'conv-frame':
      case 'presence-seen':
        this.heard(event);
        return;
      case 'session':
      case 'session-lost': {
        const device = this.ids.device(event.user, event.device);
        this.sessionEnds(device, event.at);
        if (event.k === 'session') this.openSince.set(device, event.at);
        return;
      }
      case 'fault':
        if (event.phase === 'start') this.faultStarts.push(event.at);
        this.faultsOpen += event.phase === 'start' ? 1 : -1;
        return;
    }
  }

  finish(at: number): void {
    for (const device of [...this.owed.keys()]) this.sessionEnds(device, at);
  }

  private heard(event: HistoryEvent & DeviceRef): void {
    const device = this.ids.device(event.user, event.device);
    if (this.openSince.get(device) >= 0) this.lastHeard.set(device, event.at);
  }

  private toldOf(event: HistoryEvent & { k: 'cursor-seen' }): void {
    const device = this.ids.device(event.user, event.device);
    const key = `${event.conv} ${event.of} ${event.kind}`;
    let told = this.told.get(device);
    if (told === undefined) {
      told = new Map();
      this.told.set(device, told);
    }
    told.set(key, Math.max(told.get(key) ?? 0, event.seq));
    const owed = this.owed.get(device)?.get(key);
    if (owed !== undefined && event.seq >= owed.seq) {
      this.owed.get(device)!.delete(key);
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
    const sender = this.ids.device(event.user, event.device);
    const senderSince = this.openSince.get(sender);
    if (senderSince < 0 || this.faultsOpen > 0) return;
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
        if (!owed.has(key)) owed.set(key, { seq: event.seq, due: event.at + dueMs, sender, senderSince });
      }
    }
  }

  private sessionEnds(device: number, at: number): void {
    const owed = this.owed.get(device);
    const heard = this.lastHeard.get(device);
    const since = this.openSince.get(device);
    this.owed.delete(device);
    this.told.delete(device);
    if (since >= 0) {
      this.endedAt.set(device, at);
      this.endedSince.set(device, since);
    }
    this.openSince.set(device, -1);
    this.lastHeard.set(device, -1);
    if (owed === undefined) return;
    for (const [key, miss] of owed) {
      if (heard < miss.due || !this.senderHeld(miss) || this.faultBegan(miss.due - dueMs, miss.due)) continue;
      if (!this.members.has(key.slice(0, key.indexOf(' ')))) continue;
      this.judged++;
      const [conv, of, kind] = key.split(' ');
      const { user, device: name } = this.ids.deviceName(device);
      this.witness.add('cursor never told to a member online throughout', () => ({
        problem: `${user}/${name} held one session from ${since} and heard the server after ${miss.due}, but never got a receipt of ${of}'s ${kind} cursor at ${miss.seq} or past it in ${conv}, sent at ${miss.due - dueMs} with no fault near (protocol.md: a receipt goes to the members when a member's cursor moves forward)`,
        path: [],
      }));
    }
  }

  /** The sender's session lasted until the receipt was due: the server read the cursor frame. */
  private senderHeld(miss: Owed): boolean {
    if (this.openSince.get(miss.sender) === miss.senderSince) return true;
    return this.endedSince.get(miss.sender) === miss.senderSince && this.endedAt.get(miss.sender) >= miss.due;
  }

  private faultBegan(from: number, to: number): boolean {
    return this.faultStarts.some((at) => at >= from && at <= to);
  }
}
