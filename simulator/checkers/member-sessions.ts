// What delivery-mode's reach judgements (push-reach.ts, receipt-reach.ts) share: the small
// conversations judged and their members at creation that no membership change the harness asked for
// named (`membershipChanged`), each device's current session (when it opened, when the server was last heard
// on it, the node it is on once a frame named it; the same for the one before), and the faults in time order. A reach judgement owes frames to
// device sessions; when a session ends (or the run does), `ended` judges what it was still owed.
// One record serves both judgements (each `judge`s through it): it follows each event once, where each
// judgement kept its own copy of the same sessions (the gate's large-group has 5 M conv-frame and
// cursor-seen events, each looked up twice).

import type { DeviceRef, HistoryEvent, HistoryKind } from '../history.ts';
import { float64Column, int32Column } from './column.ts';
import { type FaultMark, quietAfterFaults } from './fault-quiet.ts';
import type { IdTable } from './id-table.ts';
import type { WitnessList } from './witness-list.ts';

/** Conversations judged, at most (the first created): bounds memory at a million clients. */
const conversationsMax = 5000;

/** The inner map of `key` in `outer`, made on first use (what a reach judgement keeps per device). */
export function entryOf<O, K, V>(outer: Map<O, Map<K, V>>, key: O): Map<K, V> {
  let inner = outer.get(key);
  if (inner === undefined) {
    inner = new Map();
    outer.set(key, inner);
  }
  return inner;
}

/**
 * The kinds of event `MemberSessions.observe` reads itself; a reach judgement's `take` reads its own
 * (push-reach.ts, receipt-reach.ts). A checker that feeds one declares both.
 */
export const memberSessionsKinds = [
  'conv',
  'members-sent',
  'conv-frame',
  'presence-seen',
  'cursor-seen',
  'session',
  'session-lost',
  'ping',
  'fault',
] as const satisfies readonly HistoryKind[];

/** A reach judgement fed by a `MemberSessions` (push-reach.ts, receipt-reach.ts). */
export interface ReachJudgement {
  /**
   * What was owed in `conv` to the users a membership change names (or about them) stands no more; of
   * them, `removed` are those it only removes (what they were owed before it was asked may still stand).
   */
  forgetNamed(conv: string, named: ReadonlySet<string>, removed: ReadonlySet<string>): void;
  /** The judgement's own events (the sessions have already taken the shared ones). */
  take(event: HistoryEvent): void;
  /** Devices owed something in their current session. */
  owing(): Iterable<number>;
  /** `device`'s session, open since `since` and last heard at `heard`, ended at `at`. */
  ended(device: number, at: number, since: number, heard: number): void;
  /**
   * What is owed in sessions still open that their end could not judge yet but a later end could: not
   * yet due, or due with the device (or a cursor's sender, on a session still open) not heard since.
   * What waits for a fault still open, or for a sender whose session ended unheard, is not counted:
   * no wait judges it. A live run holds its sessions open after settle while this is above 0.
   */
  pending(): number;
}

/**
 * What a reach judgement owed and left unjudged when a session ended (or the run did), by why: due
 * after that end; due before it, but the receiving device never heard the server after its due time
 * (its connection may have been gone unheard); or the one who caused it (a cursor's sender) never did.
 * A run that judged few of what it owed proved little (delivery-mode says it could not judge).
 */
export class ReachUnjudged {
  pastEnd = 0;
  receiverUnheard = 0;
  senderUnheard = 0;
  /** Of those due after their session's end: how long after it at most (ms; infinite: a fault still open then). */
  pastEndMaxMs = 0;
  /**
   * Of them, those still owed when the run ended (the rest were owed to sessions that ended before it,
   * as a fault or a reconnect ends them): what a longer run would have judged.
   */
  atRunEnd = 0;

  /**
   * One owed frame left unjudged: due at `due`, its session ended at `at` (`runEnd`: by the run's end)
   * and last heard at `heard`.
   */
  add(due: number, at: number, heard: number, runEnd: boolean): void {
    if (runEnd) this.atRunEnd++;
    if (due > at) {
      this.pastEnd++;
      this.pastEndMaxMs = Math.max(this.pastEndMaxMs, due - at);
    } else if (heard < due) this.receiverUnheard++;
    else this.senderUnheard++;
  }

  get total(): number {
    return this.pastEnd + this.receiverUnheard + this.senderUnheard;
  }

  /** Why they were not judged, e.g. "12 due after their session's end (up to 1709 ms after it), ...". */
  describe(): string {
    const after =
      this.pastEndMaxMs === Number.POSITIVE_INFINITY
        ? 'some only after a fault still open then'
        : `up to ${Math.round(this.pastEndMaxMs)} ms after it`;
    return [
      this.pastEnd > 0 ? `${this.pastEnd} due after their session's end (${after})` : '',
      this.receiverUnheard > 0
        ? `${this.receiverUnheard} with the device not hearing the server after their due time`
        : '',
      this.senderUnheard > 0
        ? `${this.senderUnheard} with the cursor's sender not hearing the server after it`
        : '',
    ]
      .filter((part) => part !== '')
      .join(', ')
      .concat(`; ${this.atRunEnd} of them owed at the run's end`);
  }
}

/** A judged conversation's member devices, as the loop over them would find them, until devices or members change. */
export type MemberDevices = {
  members: readonly string[];
  deviceCount: number;
  devices: number[];
  users: string[];
};

/** A device's session state, kept aside while one judgement's finish ends sessions (see `finish`). */
type SessionState = { since: number; heard: number; node: number; endedSince: number; endedHeard: number };

export class MemberSessions {
  /** Small conversations judged -> their members at creation that no membership change named. */
  readonly members = new Map<string, readonly string[]>();
  /** Conversation with changes -> how many members it may have at most (its creation's, plus every add asked for). */
  private readonly membersMax = new Map<string, number>();
  /** Device id -> when its current session opened (-1: none). */
  readonly openSince = float64Column(-1);
  /** Device id -> when it last got a frame on its current session (-1: none). */
  private readonly lastHeard = float64Column(-1);
  /** Device id -> the number of the node its current session is on (-1: no frame named one yet). */
  private readonly nodeOf = int32Column(-1);
  private readonly nodeNumbers = new Map<string, number>();
  private readonly nodeNames: string[] = [];
  /** The last node numbered, and its number: frames come in runs from one node. */
  private lastNode = '';
  private lastNodeNumber = -1;
  /** Device id -> when its last ended session had opened, and when the server was last heard on it. */
  private readonly endedSince = float64Column(-1);
  private readonly endedHeard = float64Column(-1);
  /** Every fault start and heal, in time order. */
  private readonly faults: FaultMark[] = [];
  /** Faults started and not yet healed. */
  faultsOpen = 0;
  /** Judged conversation -> its member devices (a push or a cursor there is owed to each of them). */
  private readonly memberDevices = new Map<string, MemberDevices>();
  /** Whether the run has ended (`finish`): a session ended now ends with it. */
  runEnded = false;
  /** The judgements fed, in the order each event and each session's end reach them. */
  private readonly judgements: ReachJudgement[] = [];

  constructor(
    readonly ids: IdTable,
    private readonly threshold: number,
    readonly witness: WitnessList,
    /** How long after its cause (an ack, a cursor sent) a push or receipt is due. */
    readonly dueMs: number,
  ) {}

  /** Feeds `judgement` every event after the sessions took it, and every session's end. */
  judge(judgement: ReachJudgement): void {
    this.judgements.push(judgement);
  }

  observe(event: HistoryEvent): void {
    switch (event.k) {
      case 'conv': {
        const members = [...new Set(event.members)];
        if (members.length <= this.threshold && this.members.size < conversationsMax)
          this.members.set(event.conv, members);
        break;
      }
      case 'members-sent':
        this.membershipChanged(event);
        break;
      case 'conv-frame':
      case 'presence-seen':
      case 'cursor-seen':
      case 'ping': {
        const device = this.ids.device(event.user, event.device);
        if (this.openSince.get(device) < 0) break;
        this.lastHeard.set(device, event.at);
        if (event.k !== 'cursor-seen' && event.k !== 'ping' && event.node !== undefined)
          this.nodeOf.set(device, this.nodeNumber(event.node));
        break;
      }
      case 'session':
      case 'session-lost': {
        const device = this.ids.device(event.user, event.device);
        this.sessionEnds(device, event.at);
        if (event.k === 'session') this.openSince.set(device, event.at);
        break;
      }
      case 'fault':
        this.faults.push({ at: event.at, start: event.phase === 'start' });
        this.faultsOpen += event.phase === 'start' ? 1 : -1;
        break;
    }
    // Indexed: a for-of allocated an iterator result per event.
    for (let i = 0; i < this.judgements.length; i++) this.judgements[i]!.take(event);
  }

  /**
   * The run ended at `at`: every session still owed something is judged as it stands, one judgement
   * after the other, each as if it kept the sessions alone (when each kept its own copy, the first one's
   * ends changed nothing the second read): what one judgement's ends changed is put back after it.
   */
  finish(at: number): void {
    this.runEnded = true;
    for (const judgement of this.judgements) {
      const devices = [...judgement.owing()];
      const kept = devices.map((device) => this.stateOf(device));
      for (const device of devices) this.sessionEnds(device, at, judgement);
      for (let i = 0; i < devices.length; i++) this.restore(devices[i]!, kept[i]!);
    }
  }

  private stateOf(device: number): SessionState {
    return {
      since: this.openSince.get(device),
      heard: this.lastHeard.get(device),
      node: this.nodeOf.get(device),
      endedSince: this.endedSince.get(device),
      endedHeard: this.endedHeard.get(device),
    };
  }

  private restore(device: number, state: SessionState): void {
    this.openSince.set(device, state.since);
    this.lastHeard.set(device, state.heard);
    this.nodeOf.set(device, state.node);
    this.endedSince.set(device, state.endedSince);
    this.endedHeard.set(device, state.endedHeard);
  }

  /**
   * The harness asked to change a conversation's membership. The members it names are judged no more
   * there (what they are owed depends on when the server applied the change), and the judgement
   * forgets what it owed them (`forgetNamed`), but for what a user only removed was owed before the
   * request (acked before it: sequenced while that user was a member, promise 6 still owes it a push to
   * that user's devices). The others are members throughout, whenever the server
   * applied it, and may read every seq. Once the adds asked for could make it a large group, the
   * conversation is judged no more.
   */
  private membershipChanged(event: HistoryEvent & { k: 'members-sent' }): void {
    const members = this.members.get(event.conv);
    if (members === undefined) return;
    const max = (this.membersMax.get(event.conv) ?? members.length) + event.add.length;
    if (max > this.threshold) {
      this.members.delete(event.conv);
      this.membersMax.delete(event.conv);
      return;
    }
    this.membersMax.set(event.conv, max);
    const named = new Set([...event.add, ...event.remove]);
    const added = new Set(event.add);
    const removed = new Set(event.remove.filter((user) => !added.has(user)));
    this.members.set(
      event.conv,
      members.filter((user) => !named.has(user)),
    );
    for (const judgement of this.judgements) judgement.forgetNamed(event.conv, named, removed);
  }

  /**
   * Every device of every member of `conv` (its `members` here), in member order and each member's
   * devices in the order they appeared, with each one's user: kept until its members or the id table's
   * devices change, so a send or a cursor walks one array, not each member's devices by name.
   */
  devicesOf(conv: string, members: readonly string[]): MemberDevices {
    const known = this.memberDevices.get(conv);
    if (known !== undefined && known.members === members && known.deviceCount === this.ids.deviceCount)
      return known;
    const entry: MemberDevices = { members, deviceCount: this.ids.deviceCount, devices: [], users: [] };
    for (const member of members)
      for (const device of this.ids.devicesOfUser(member)) {
        entry.devices.push(device);
        entry.users.push(member);
      }
    this.memberDevices.set(conv, entry);
    return entry;
  }

  device(event: DeviceRef): number {
    return this.ids.device(event.user, event.device);
  }

  /** The node of `device`'s current session (or, in `ended`, of the one ending), once a frame named it. */
  nodeName(device: number): string | undefined {
    const node = this.nodeOf.get(device);
    return node < 0 ? undefined : this.nodeNames[node];
  }

  private nodeNumber(node: string): number {
    if (node !== this.lastNode) {
      this.lastNode = node;
      let number = this.nodeNumbers.get(node);
      if (number === undefined) {
        number = this.nodeNames.length;
        this.nodeNumbers.set(node, number);
        this.nodeNames.push(node);
      }
      this.lastNodeNumber = number;
    }
    return this.lastNodeNumber;
  }

  /**
   * Whether `device` heard the server at `at` or later on the session it had open since `since` (open
   * still, or the last one to end): the server still had that connection then, so a frame the device
   * sent on it before reached the server (frames on one connection arrive in order).
   */
  heardOn(device: number, since: number, at: number): boolean {
    if (this.openSince.get(device) === since) return this.lastHeard.get(device) >= at;
    return this.endedSince.get(device) === since && this.endedHeard.get(device) >= at;
  }

  /**
   * Whether a session end at the latest time heard could judge something due at `due` on `device`'s
   * session open since `since`, or a later end could: heard on it since `due`, or the session still open.
   */
  mayHear(device: number, since: number, due: number): boolean {
    return this.openSince.get(device) === since || this.heardOn(device, since, due);
  }

  /** The first time after `at` when no fault was open (infinite if that never came). */
  faultsOverAfter(at: number): number {
    let open = 0;
    for (const fault of this.faults) {
      open += fault.start ? 1 : -1;
      if (fault.at > at && open === 0) return fault.at;
    }
    return Number.POSITIVE_INFINITY;
  }

  /**
   * The end of the first `spanMs` with no fault open that starts at `at` or later (infinite if none):
   * when something owed since `at` is due, faults delaying it.
   */
  quietAfter(at: number, spanMs: number): number {
    return quietAfterFaults(this.faults, at, spanMs);
  }

  /** `device`'s session ends at `at`: every judgement judges it (or `only` that one, in `finish`). */
  private sessionEnds(device: number, at: number, only?: ReachJudgement): void {
    const since = this.openSince.get(device);
    const heard = this.lastHeard.get(device);
    if (since >= 0) {
      this.endedSince.set(device, since);
      this.endedHeard.set(device, heard);
    }
    this.openSince.set(device, -1);
    this.lastHeard.set(device, -1);
    if (only !== undefined) only.ended(device, at, since, heard);
    else for (let i = 0; i < this.judgements.length; i++) this.judgements[i]!.ended(device, at, since, heard);
    this.nodeOf.set(device, -1);
  }
}
