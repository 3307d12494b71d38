// The receipt half of delivery-mode's reach: when a member moves a cursor in a small conversation
// (protocol.md `receipt`: "a member's cursor moved forward; sent to members of conversations at or
// below the large-group threshold"), every device of every other member that held one session
// throughout hears of it: a receipt about that member and kind, at that seq or past it (cursors are
// cumulative; a later receipt covers an earlier one). A server that never sends receipts passed every
// other check.
// Only a cursor past every cursor that user's devices sent before must move it: a device sends a seq it
// displayed, which the store holds, so the store's clamp to its lastSeq (guarantee 7) leaves it whole.
// Faults may delay a receipt, never waive it: it is due `dueMs` after the cursor was sent, counted in
// time with no fault open (a node paused or cut from the bus relays it once it is back, by its bus or
// its catch-up). A cursor frame has no answer when it works, so the sender must hear the server on that
// session after the receipt was due (a client may hold a session the server closed unheard, as after a
// partition, and send a cursor into it), and so must the receiving device on its own; a cursor the
// server refused (`cursor-refused`: an `err` naming it, e.g. `unavailable` while the store is away)
// moved nothing and is owed nothing. Members are those at the conversation's creation that no
// membership change the harness asked for ever named (member-sessions.ts): a conversation with changes
// is judged among them too (a receipt held while the node reads a newer membership is late, not waived).
// A busy server takes a cursor frame in turn behind everything queued before it, and nothing it sends
// says when it got there: the clock of `dueMs` starts later by the longest ack latency of sends issued
// in the 10 s before the cursor (the same queue, as the harness saw it), so an overloaded node is slow,
// not silent; and it is no earlier than `dueMs` after the queue ahead of the cursor drained
// (queue-drain.ts: the latest ack of a send issued before it on the sender's or the receiver's node),
// which in a settle phase, with nothing issued, is all that shows a backlog. Both count only sends
// acked on the session they were issued on: one acked after a reconnect waited in an offline outbox,
// not in a node's queue. The latency is a wait in real time, faults or not, so it delays the start of
// the quiet `dueMs`, not its length: counted as quiet time, a send retried through a fault for 15 s
// put every receipt owed in the 10 s around it past the run's end (fleet-races seed 1: receipts a node
// dropped while its members' pushes waited for a membership read were due at 29.6-40 s in a run that
// ended at 31 s, never judged; due at 23 s now, 3 s after the last fault).

import type { HistoryEvent, HistoryKind } from '../history.ts';
import { int32Column } from './column.ts';
import { type MemberSessions, type ReachJudgement, ReachUnjudged } from './member-sessions.ts';
import { QueueDrain } from './queue-drain.ts';
import { SlotTable } from './slot-table.ts';

/** How far back the sends whose ack latency stretches a receipt's due time go (s): a queue drains slowly. */
const lagWindowS = 10;
/** (conversation, user) pairs numbered at most: a cursor's key (pair and kind) stays a small integer. */
const pairsMax = 2 ** 29;

/**
 * A (device, cursor key) slot's state: one row of nine numbers, so a receipt reads a cache line or two
 * (a Map of Maps per device cost six scattered lookups per receipt: large-group spent 15% of its run
 * here, every cursor in its threshold-sized group owed to 99 members). Told and owed hold only while
 * their session stamp is the device's current one: a session's end forgets them all at once.
 */
const told = 0; // the highest receipt seq the device heard this session
const toldSession = 1;
const owedSeq = 2; // the oldest receipt it is owed this session: its seq,
const owedSentAt = 3; // when the cursor was sent,
const owedSender = 4; // by which device,
const owedSenderSince = 5; // on its session open since then,
const owedSenderNode = 6; // on that node's number (-1: not known)
const owedSession = 7; // 0: nothing owed
const owedAt = 8; // its place in the device's owed list (a slot owed again is listed again)
const rowSize = 9;

/** The kinds of event `ReceiptReach.take` reads (besides memberSessionsKinds). */
export const receiptReachKinds = [
  'ack',
  'cursor-sent',
  'cursor-seen',
  'cursor-refused',
] as const satisfies readonly HistoryKind[];

export class ReceiptReach implements ReachJudgement {
  /** (device, cursor) pairs judged: told, or owed past their due time. */
  judged = 0;
  /** Owed receipts not judged only because the queue ahead of their cursor still drained at the session's end. */
  drainWaited = 0;
  /** Owed receipts left unjudged when their session ended (or the run did), and why. */
  readonly unjudged = new ReachUnjudged();
  /** (device id, cursor key) -> its row in `rows`. */
  private readonly slots = new SlotTable();
  private rows = new Float64Array(1024 * rowSize);
  /** Device id -> its current session's stamp (from 1; a row stamped otherwise is of an ended session). */
  private readonly sessions = int32Column(1);
  /**
   * Device id -> the slots it was owed a receipt in during its current session, in the order first owed
   * (a slot whose `owedAt` is not its place here was owed again later, or no longer): the order the
   * session's end judges them in, and so the witness's.
   */
  private readonly owed = new Map<number, number[]>();
  /** Cursor key -> the highest cursor that user's devices sent: only a higher one must move it. */
  private readonly highest = new Map<number, number>();
  /**
   * This judgement's own numbers for conversations and users, so a cursor's key is a number, not a
   * string built and hashed per receipt (the shared IdTable is not used: its numbering order is other
   * checkers' to decide).
   */
  private readonly convNumbers = new Map<string, number>();
  private readonly convNames: string[] = [];
  private readonly userNumbers = new Map<string, number>();
  private readonly userNames: string[] = [];
  /**
   * By conversation number: user number -> the pair's number. A cursor's key is the pair's number and
   * its kind, a small integer: a key past 2^31 (conv * 2^26 + user, as before) is a heap number V8 boxes
   * for every map lookup (large-group spent 14% of its run in this checker, most of it in those maps).
   */
  private readonly pairsOfConv: Map<number, number>[] = [];
  /** By pair number: its conversation's and user's numbers. */
  private readonly pairConv: number[] = [];
  private readonly pairUser: number[] = [];
  /** Second of a send's issue -> the longest time to its ack among sends issued in it and acked on that session. */
  private readonly ackLag = new Map<number, number>();
  /** Per node, the latest ack of sends issued by a time. */
  private readonly drain = new QueueDrain();
  /** The nodes of senders' sessions, numbered for the rows. */
  private readonly senderNodeNumbers = new Map<string, number>();
  private readonly senderNodeNames: string[] = [];

  /** Judges through `memberSessions` (it feeds this judgement every event and every session's end). */
  constructor(private readonly memberSessions: MemberSessions) {
    memberSessions.judge(this);
  }

  /** Nothing owed in `conv` to or about a user a membership change named stands. */
  forgetNamed(conv: string, named: ReadonlySet<string>): void {
    if (!this.convNumbers.has(conv)) return;
    for (const [device, slots] of this.owed) {
      const receiver = named.has(this.memberSessions.ids.deviceName(device).user);
      const session = this.sessions.get(device);
      for (let at = 0; at < slots.length; at++) {
        const row = slots[at]! * rowSize;
        if (!this.owes(row, session, at)) continue;
        const cursor = this.cursorOf(this.slots.keyB(slots[at]!));
        if (cursor.conv === conv && (receiver || named.has(cursor.of))) this.rows[row + owedSession] = 0;
      }
    }
  }

  take(event: HistoryEvent): void {
    if (event.k === 'ack') this.ackTook(event);
    else if (event.k === 'cursor-sent') this.owe(event);
    else if (event.k === 'cursor-seen' && event.source === 'receipt') this.toldOf(event);
    else if (event.k === 'cursor-refused') this.refused(event);
  }

  /** A refused cursor moved nothing: no device is owed it (the oldest owed of its key is dropped). */
  private refused(event: HistoryEvent & { k: 'cursor-refused' }): void {
    const sender = this.memberSessions.device(event);
    const key = this.cursorKey(event.conv, event.user, event.kind);
    for (const device of this.owed.keys()) {
      const slot = this.slots.find(device, key);
      if (slot < 0) continue;
      const row = slot * rowSize;
      if (
        this.rows[row + owedSession] === this.sessions.get(device) &&
        this.rows[row + owedSender] === sender
      )
        this.rows[row + owedSession] = 0;
    }
  }

  private ackTook(event: HistoryEvent & { k: 'ack' }): void {
    // Acked on the session it was issued on: it waited in the node's queue, not in an offline outbox.
    const device = this.memberSessions.device(event);
    const since = this.memberSessions.openSince.get(device);
    if (!(since >= 0 && since <= event.sentAt)) return;
    const second = Math.floor(event.sentAt / 1000);
    const took = event.at - event.sentAt;
    if (took > (this.ackLag.get(second) ?? 0)) this.ackLag.set(second, took);
    this.drain.acked(this.memberSessions.nodeName(device), event.sentAt, event.at);
  }

  /** The longest ack latency of sends issued from `lagWindowS` seconds before `at` to a second after (0: none). */
  private lagAround(at: number): number {
    const second = Math.floor(at / 1000);
    let lag = 0;
    for (let s = second - lagWindowS; s <= second + 1; s++) lag = Math.max(lag, this.ackLag.get(s) ?? 0);
    return lag;
  }

  owing(): Iterable<number> {
    return this.owed.keys();
  }

  /**
   * A receipt heard. Only a judged conversation's receipts are kept (only a cursor there is owed, and a
   * conversation is judged from its creation on); one that was judged when the cursor was sent may
   * still settle what is owed.
   */
  private toldOf(event: HistoryEvent & { k: 'cursor-seen' }): void {
    const device = this.memberSessions.device(event);
    const judged = this.memberSessions.members.has(event.conv);
    const key = judged ? this.cursorKey(event.conv, event.of, event.kind) : this.knownKey(event);
    if (key < 0) return;
    const slot = judged ? this.slotOf(device, key) : this.slots.find(device, key);
    if (slot < 0) return;
    const rows = this.rows;
    const row = slot * rowSize;
    const session = this.sessions.get(device);
    if (judged) {
      if (rows[row + toldSession] !== session) {
        rows[row + toldSession] = session;
        rows[row + told] = event.seq;
      } else if (event.seq > rows[row + told]!) rows[row + told] = event.seq;
    }
    if (rows[row + owedSession] === session && event.seq >= rows[row + owedSeq]!) {
      rows[row + owedSession] = 0;
      this.judged++;
    }
  }

  /** A cursor owes a receipt to every other member's devices online since. */
  private owe(event: HistoryEvent & { k: 'cursor-sent' }): void {
    const members = this.memberSessions.members.get(event.conv);
    if (members === undefined || !members.includes(event.user)) return;
    const key = this.cursorKey(event.conv, event.user, event.kind);
    // Another device of the same user may have moved the cursor past it already: no news then.
    if (event.seq <= (this.highest.get(key) ?? 0)) return;
    this.highest.set(key, event.seq);
    const sender = this.memberSessions.device(event);
    const senderSince = this.memberSessions.openSince.get(sender);
    if (senderSince < 0) return;
    const node = this.memberSessions.nodeName(sender);
    const senderNode = node === undefined ? -1 : numberOf(node, this.senderNodeNumbers, this.senderNodeNames);
    const { devices, users } = this.memberSessions.devicesOf(event.conv, members);
    for (let i = 0; i < devices.length; i++) {
      if (users[i] === event.user) continue;
      const device = devices[i]!;
      const since = this.memberSessions.openSince.get(device);
      if (since < 0 || since > event.at) continue;
      const session = this.sessions.get(device);
      let slot = this.slots.find(device, key);
      if (slot >= 0) {
        const row = slot * rowSize;
        if (this.rows[row + toldSession] === session && this.rows[row + told]! >= event.seq) {
          this.judged++;
          continue;
        }
      }
      let slots = this.owed.get(device);
      if (slots === undefined) {
        slots = [];
        this.owed.set(device, slots);
      }
      if (slot < 0) slot = this.slotOf(device, key);
      const rows = this.rows;
      const row = slot * rowSize;
      // The oldest owed receipt is kept: a receipt covering it is judged, and later ones wait.
      if (rows[row + owedSession] === session) continue;
      rows[row + owedSeq] = event.seq;
      rows[row + owedSentAt] = event.at;
      rows[row + owedSender] = sender;
      rows[row + owedSenderSince] = senderSince;
      rows[row + owedSenderNode] = senderNode;
      rows[row + owedSession] = session;
      rows[row + owedAt] = slots.length;
      slots.push(slot);
    }
  }

  ended(device: number, at: number, since: number, heard: number): void {
    const slots = this.owed.get(device);
    const session = this.sessions.get(device);
    // Whatever it was told or owed in that session is forgotten with it.
    this.sessions.set(device, session + 1);
    this.owed.delete(device);
    if (slots === undefined) return;
    const rows = this.rows;
    const node = this.memberSessions.nodeName(device);
    for (let place = 0; place < slots.length; place++) {
      const slot = slots[place]!;
      const row = slot * rowSize;
      if (!this.owes(row, session, place)) continue;
      const sentAt = rows[row + owedSentAt]!;
      const sender = rows[row + owedSender]!;
      const { due, byLag } = this.dueOf(row, node);
      const senderSince = rows[row + owedSenderSince]!;
      if (due > at || heard < due || !this.memberSessions.heardOn(sender, senderSince, due)) {
        if (this.memberSessions.members.has(this.convOf(this.slots.keyB(slot))))
          this.unjudged.add(due, at, heard, this.memberSessions.runEnded);
        // Shown, so that a queue said to drain to the end cannot hide receipts unseen.
        if (
          byLag < due &&
          byLag <= at &&
          heard >= byLag &&
          this.memberSessions.heardOn(sender, senderSince, byLag)
        )
          this.drainWaited++;
        continue;
      }
      const { conv, of, kind } = this.cursorOf(this.slots.keyB(slot));
      if (!this.memberSessions.members.has(conv)) continue;
      this.judged++;
      const seq = rows[row + owedSeq]!;
      const { user, device: name } = this.memberSessions.ids.deviceName(device);
      this.memberSessions.witness.add('cursor never told to a member online throughout', () => ({
        problem: `${user}/${name} held one session from ${since} and heard the server after ${due}, but never got a receipt of ${of}'s ${kind} cursor at ${seq} or past it in ${conv}, sent at ${sentAt} and due by ${due} (protocol.md: a receipt goes to the members when a member's cursor moves forward)`,
        path: [],
      }));
    }
  }

  pending(): number {
    const sessions = this.memberSessions;
    const rows = this.rows;
    let pending = 0;
    for (const [device, slots] of this.owed) {
      const session = this.sessions.get(device);
      const since = sessions.openSince.get(device);
      const node = sessions.nodeName(device);
      for (let place = 0; place < slots.length; place++) {
        const slot = slots[place]!;
        const row = slot * rowSize;
        if (!this.owes(row, session, place) || !sessions.members.has(this.convOf(this.slots.keyB(slot))))
          continue;
        const { due } = this.dueOf(row, node);
        if (due === Number.POSITIVE_INFINITY) continue;
        const sender = rows[row + owedSender]!;
        const senderSince = rows[row + owedSenderSince]!;
        // A sender whose session ended unheard after the due time never makes it judgeable.
        if (!sessions.mayHear(sender, senderSince, due)) continue;
        if (!sessions.heardOn(device, since, due) || !sessions.heardOn(sender, senderSince, due)) pending++;
      }
    }
    return pending;
  }

  /**
   * When the receipt owed in the row at `row` is due (to a device on `node`), and when it would be by
   * the ack latency around its cursor alone (`byLag`): the later of that and `dueMs` after the queue
   * ahead of the cursor drained, each counted in time with no fault open.
   */
  private dueOf(row: number, node: string | undefined): { due: number; byLag: number } {
    const rows = this.rows;
    const sentAt = rows[row + owedSentAt]!;
    const senderNode = rows[row + owedSenderNode]!;
    const drained = this.drain.drainedBy(sentAt, [
      senderNode < 0 ? undefined : this.senderNodeNames[senderNode],
      node,
    ]);
    const byLag = this.memberSessions.quietAfter(sentAt + this.lagAround(sentAt), this.memberSessions.dueMs);
    const due = Math.max(
      byLag,
      this.memberSessions.quietAfter(Math.max(sentAt, drained), this.memberSessions.dueMs),
    );
    return { due, byLag };
  }

  /** Whether the row at `row` holds a receipt owed in `session`, listed at `place` of its device's owed list. */
  private owes(row: number, session: number, place: number): boolean {
    return this.rows[row + owedSession] === session && this.rows[row + owedAt] === place;
  }

  /** The (device, key) slot, made with an empty row if it had none. */
  private slotOf(device: number, key: number): number {
    const slot = this.slots.intern(device, key);
    if ((slot + 1) * rowSize > this.rows.length) {
      const rows = new Float64Array(Math.ceil((this.rows.length * 1.5) / rowSize) * rowSize);
      rows.set(this.rows);
      this.rows = rows;
    }
    return slot;
  }

  /** One number for (conversation, whose cursor, kind). */
  private cursorKey(conv: string, user: string, kind: 'delivered' | 'read'): number {
    const convNumber = numberOf(conv, this.convNumbers, this.convNames);
    const userNumber = numberOf(user, this.userNumbers, this.userNames);
    // Conversation numbers come in order, so the list grows by one at most.
    if (convNumber === this.pairsOfConv.length) this.pairsOfConv.push(new Map());
    const pairs = this.pairsOfConv[convNumber]!;
    let pair = pairs.get(userNumber);
    if (pair === undefined) {
      pair = this.pairConv.length;
      if (pair >= pairsMax) throw new Error('receipt reach: too many (conversation, user) pairs to key');
      pairs.set(userNumber, pair);
      this.pairConv.push(convNumber);
      this.pairUser.push(userNumber);
    }
    return pair * 2 + (kind === 'read' ? 1 : 0);
  }

  /** The receipt's cursor key if it was ever numbered (else -1), numbering nothing new. */
  private knownKey(event: { conv: string; of: string; kind: 'delivered' | 'read' }): number {
    const convNumber = this.convNumbers.get(event.conv);
    const userNumber = this.userNumbers.get(event.of);
    if (convNumber === undefined || userNumber === undefined) return -1;
    const pair = this.pairsOfConv[convNumber]!.get(userNumber);
    return pair === undefined ? -1 : pair * 2 + (event.kind === 'read' ? 1 : 0);
  }

  /** The conversation of a cursor key (no object made: called per receipt left unjudged). */
  private convOf(key: number): string {
    return this.convNames[this.pairConv[key >> 1]!]!;
  }

  private cursorOf(key: number): { conv: string; of: string; kind: 'delivered' | 'read' } {
    const read = key % 2;
    const pair = (key - read) / 2;
    return {
      conv: this.convNames[this.pairConv[pair]!]!,
      of: this.userNames[this.pairUser[pair]!]!,
      kind: read === 1 ? 'read' : 'delivered',
    };
  }
}

function numberOf(name: string, numbers: Map<string, number>, names: string[]): number {
  let number = numbers.get(name);
  if (number === undefined) {
    number = names.length;
    numbers.set(name, number);
    names.push(name);
  }
  return number;
}
