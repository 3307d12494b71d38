// The reach half of delivery-mode: a message in a small conversation is pushed (`msg`: "pushed to every
// online connection of every member, the sender's other devices included", at least once) to every
// other device of every member that held one session from before the send was first issued until
// well after it. A server that leaves it to the client's own gap `sync` (a missed bus event it never
// fills, a push it skips) loses nothing, but breaks the push.
// Faults may delay a push, never waive it: a push is due `dueMs` after the ack, or after the end of the
// faults that were open at the ack. The expectation is judged when the device's session ends (or the
// run does). The client's word that its session held is not enough (a fault may have cut the
// connection at the server unheard): the device must have heard the server on that session after the
// push was due; frames on one connection arrive in order, so a push sent by then came first. Members are those at the conversation's creation; a
// conversation whose membership the harness changed is not judged (authorization judges pushes to
// non-members).

import type { DeviceRef, HistoryEvent } from '../history.ts';
import { float64Column } from './column.ts';
import type { IdTable } from './id-table.ts';
import type { WitnessList } from './witness-list.ts';

/** Conversations judged, at most (the first created): bounds memory at a million clients. */
const conversationsMax = 5000;
/** A push is due this long after its ack, or after the faults open at the ack ended (a node that
 * missed a bus event fills the gap from the store within a gap grace of 200 ms of hearing of it). */
const dueMs = 3000;

type Owed = { conv: string; seq: number; from: string; sentAt: number; ackAt: number; faulted: boolean };

export class PushReach {
  /** (device, message) pairs judged: pushed, or owed past their due time. */
  judged = 0;
  /** Small conversations judged -> their members at creation (unchanged since). */
  private readonly members = new Map<string, readonly string[]>();
  /** Device id -> when its current session opened (-1: none). */
  private readonly openSince = float64Column(-1);
  /** Device id -> when it last got a frame on its current session (-1: none). */
  private readonly lastHeard = float64Column(-1);
  /** Device id -> conv -> seqs pushed to it in `msg` frames during its current session. */
  private readonly pushed = new Map<number, Map<string, Set<number>>>();
  /** Device id -> `conv seq` -> a push it is owed in its current session. */
  private readonly owed = new Map<number, Map<string, Owed>>();
  /** Every fault start and heal, in time order. */
  private readonly faults: { at: number; start: boolean }[] = [];
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
      case 'conv-frame':
        this.heard(event);
        if (event.t === 'msg' && this.members.has(event.conv)) this.pushedTo(event);
        return;
      case 'presence-seen':
      case 'cursor-seen':
        this.heard(event);
        return;
      case 'ack':
        this.owe(event);
        return;
      case 'session':
      case 'session-lost':
        this.sessionEnds(this.ids.device(event.user, event.device), event.at);
        if (event.k === 'session') this.openSince.set(this.ids.device(event.user, event.device), event.at);
        return;
      case 'fault':
        this.faults.push({ at: event.at, start: event.phase === 'start' });
        this.faultsOpen += event.phase === 'start' ? 1 : -1;
        return;
    }
  }

  /** The run ended at `at` with these sessions still open. */
  finish(at: number): void {
    for (const device of [...this.owed.keys()]) this.sessionEnds(device, at);
  }

  private heard(event: HistoryEvent & DeviceRef): void {
    const device = this.ids.device(event.user, event.device);
    if (this.openSince.get(device) >= 0) this.lastHeard.set(device, event.at);
  }

  private pushedTo(event: HistoryEvent & { k: 'conv-frame' } & DeviceRef): void {
    const device = this.ids.device(event.user, event.device);
    let convs = this.pushed.get(device);
    if (convs === undefined) {
      convs = new Map();
      this.pushed.set(device, convs);
    }
    let seqs = convs.get(event.conv);
    if (seqs === undefined) {
      seqs = new Set();
      convs.set(event.conv, seqs);
    }
    const owed = this.owed.get(device);
    for (const seq of event.seqs ?? []) {
      seqs.add(seq);
      if (owed?.delete(`${event.conv} ${seq}`)) this.judged++;
    }
  }

  /** An acked message owes a push to every other member device online since before it was sent. */
  private owe(event: HistoryEvent & { k: 'ack' }): void {
    const members = this.members.get(event.conv);
    if (members === undefined) return;
    const sender = this.ids.device(event.user, event.device);
    for (const member of members)
      for (const device of this.ids.devicesOfUser(member)) {
        const since = this.openSince.get(device);
        if (device === sender || since < 0 || since > event.sentAt) continue;
        if (this.pushed.get(device)?.get(event.conv)?.has(event.seq)) {
          this.judged++;
          continue;
        }
        let owed = this.owed.get(device);
        if (owed === undefined) {
          owed = new Map();
          this.owed.set(device, owed);
        }
        owed.set(`${event.conv} ${event.seq}`, {
          conv: event.conv,
          seq: event.seq,
          from: event.user,
          sentAt: event.sentAt,
          ackAt: event.at,
          faulted: this.faultsOpen > 0,
        });
      }
  }

  /** The device's session ended at `at` (or the run did): judge what it was still owed. */
  private sessionEnds(device: number, at: number): void {
    const owed = this.owed.get(device);
    const since = this.openSince.get(device);
    const heard = this.lastHeard.get(device);
    this.owed.delete(device);
    this.pushed.delete(device);
    this.openSince.set(device, -1);
    this.lastHeard.set(device, -1);
    if (owed === undefined) return;
    for (const miss of owed.values()) {
      const due = this.dueAt(miss);
      if (due > at) continue;
      // The server must be heard on that session after the push was due: then the connection held.
      if (heard < due) continue;
      if (!this.members.has(miss.conv)) continue;
      this.judged++;
      const { user, device: name } = this.ids.deviceName(device);
      this.witness.add('message never pushed to a member online throughout', () => ({
        problem: `${user}/${name} held one session from ${since} (before ${miss.from} sent ${miss.conv} seq ${miss.seq} at ${miss.sentAt}, acked at ${miss.ackAt}) until ${at}, a member throughout, and was never pushed that message in a msg, though it was due by ${due} (protocol.md: pushed to every online connection of every member; a missed bus event is the server's to fill, not the client's sync)`,
        path: [],
      }));
    }
  }

  /** When the push was due: `dueMs` after the ack, or after the faults open at the ack had all healed. */
  private dueAt(miss: Owed): number {
    if (!miss.faulted) return miss.ackAt + dueMs;
    let open = 0;
    for (const fault of this.faults) {
      open += fault.start ? 1 : -1;
      if (fault.at > miss.ackAt && open === 0) return fault.at + dueMs;
    }
    return Number.POSITIVE_INFINITY;
  }
}
