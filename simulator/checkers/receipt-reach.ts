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
// says when it got there: the due time grows by the longest ack latency of sends issued in the 10 s
// before the cursor (the same queue, as the harness saw it), so an overloaded node is slow, not silent;
// and it is no earlier than `dueMs` after the queue ahead of the cursor drained (queue-drain.ts: the
// latest ack of a send issued before it on the sender's or the receiver's node, on the session it was
// issued on), which in a settle phase, with nothing issued, is all that shows a backlog.

import type { HistoryEvent } from '../history.ts';
import { entryOf, MemberSessions } from './member-sessions.ts';
import { QueueDrain } from './queue-drain.ts';

/** `senderNode`: the node of the sender's session (undefined: not known). */
type Owed = {
  seq: number;
  sentAt: number;
  sender: number;
  senderSince: number;
  senderNode: string | undefined;
};

/** How far back the sends whose ack latency stretches a receipt's due time go (s): a queue drains slowly. */
const lagWindowS = 10;
/** (conversation, user) pairs numbered at most: a cursor's key (pair and kind) stays a small integer. */
const pairsMax = 2 ** 29;

export class ReceiptReach extends MemberSessions {
  /** (device, cursor) pairs judged: told, or owed past their due time. */
  judged = 0;
  /** Device id -> cursor key (conv, whose, kind) -> the highest receipt seq it heard this session. */
  private readonly told = new Map<number, Map<number, number>>();
  /** Device id -> cursor key -> the oldest receipt it is owed this session. */
  private readonly owed = new Map<number, Map<number, Owed>>();
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
  /** Second of a send's issue -> the longest time to its ack among sends issued in it. */
  private readonly ackLag = new Map<number, number>();
  /** Per node, the latest ack of sends issued by a time. */
  private readonly drain = new QueueDrain();

  /** Nothing owed in `conv` to or about a user a membership change named stands. */
  protected forgetNamed(conv: string, named: ReadonlySet<string>): void {
    if (!this.convNumbers.has(conv)) return;
    for (const [device, owed] of this.owed) {
      const receiver = named.has(this.ids.deviceName(device).user);
      for (const key of owed.keys()) {
        const cursor = this.cursorOf(key);
        if (cursor.conv === conv && (receiver || named.has(cursor.of))) owed.delete(key);
      }
    }
  }

  protected take(event: HistoryEvent): void {
    if (event.k === 'ack') this.ackTook(event);
    else if (event.k === 'cursor-sent') this.owe(event);
    else if (event.k === 'cursor-seen' && event.source === 'receipt') this.toldOf(event);
    else if (event.k === 'cursor-refused') this.refused(event);
  }

  /** A refused cursor moved nothing: no device is owed it (the oldest owed of its key is dropped). */
  private refused(event: HistoryEvent & { k: 'cursor-refused' }): void {
    const sender = this.device(event);
    const key = this.cursorKey(event.conv, event.user, event.kind);
    for (const owed of this.owed.values()) if (owed.get(key)?.sender === sender) owed.delete(key);
  }

  private ackTook(event: HistoryEvent & { k: 'ack' }): void {
    const second = Math.floor(event.sentAt / 1000);
    const took = event.at - event.sentAt;
    if (took > (this.ackLag.get(second) ?? 0)) this.ackLag.set(second, took);
    // Acked on the session it was issued on: it waited in the node's queue, not in an offline outbox.
    const device = this.device(event);
    const since = this.openSince.get(device);
    if (since >= 0 && since <= event.sentAt) this.drain.acked(this.nodeName(device), event.sentAt, event.at);
  }

  /** The longest ack latency of sends issued from `lagWindowS` seconds before `at` to a second after (0: none). */
  private lagAround(at: number): number {
    const second = Math.floor(at / 1000);
    let lag = 0;
    for (let s = second - lagWindowS; s <= second + 1; s++) lag = Math.max(lag, this.ackLag.get(s) ?? 0);
    return lag;
  }

  protected owing(): Iterable<number> {
    return this.owed.keys();
  }

  private toldOf(event: HistoryEvent & { k: 'cursor-seen' }): void {
    const device = this.device(event);
    const key = this.cursorKey(event.conv, event.of, event.kind);
    const told = entryOf(this.told, device);
    told.set(key, Math.max(told.get(key) ?? 0, event.seq));
    const owed = this.owed.get(device);
    if (owed !== undefined && event.seq >= (owed.get(key)?.seq ?? Number.POSITIVE_INFINITY)) {
      owed.delete(key);
      this.judged++;
    }
  }

  /** A cursor owes a receipt to every other member's devices online since. */
  private owe(event: HistoryEvent & { k: 'cursor-sent' }): void {
    const members = this.members.get(event.conv);
    if (members === undefined || !members.includes(event.user)) return;
    const key = this.cursorKey(event.conv, event.user, event.kind);
    // Another device of the same user may have moved the cursor past it already: no news then.
    if (event.seq <= (this.highest.get(key) ?? 0)) return;
    this.highest.set(key, event.seq);
    const sender = this.device(event);
    const senderSince = this.openSince.get(sender);
    if (senderSince < 0) return;
    for (const member of members) {
      if (member === event.user) continue;
      for (const device of this.ids.devicesOfUser(member)) {
        const since = this.openSince.get(device);
        if (since < 0 || since > event.at) continue;
        if ((this.told.get(device)?.get(key) ?? 0) >= event.seq) {
          this.judged++;
          continue;
        }
        const owed = entryOf(this.owed, device);
        // The oldest owed receipt is kept: a receipt covering it is judged, and later ones wait.
        if (!owed.has(key))
          owed.set(key, {
            seq: event.seq,
            sentAt: event.at,
            sender,
            senderSince,
            senderNode: this.nodeName(sender),
          });
      }
    }
  }

  protected ended(device: number, at: number, since: number, heard: number): void {
    const owed = this.owed.get(device);
    this.owed.delete(device);
    this.told.delete(device);
    if (owed === undefined) return;
    const node = this.nodeName(device);
    for (const [key, miss] of owed) {
      const drained = this.drain.drainedBy(miss.sentAt, [miss.senderNode, node]);
      const due = Math.max(
        this.quietAfter(miss.sentAt, this.dueMs + this.lagAround(miss.sentAt)),
        this.quietAfter(Math.max(miss.sentAt, drained), this.dueMs),
      );
      if (due > at || heard < due || !this.heardOn(miss.sender, miss.senderSince, due)) continue;
      const { conv, of, kind } = this.cursorOf(key);
      if (!this.members.has(conv)) continue;
      this.judged++;
      const { user, device: name } = this.ids.deviceName(device);
      this.witness.add('cursor never told to a member online throughout', () => ({
        problem: `${user}/${name} held one session from ${since} and heard the server after ${due}, but never got a receipt of ${of}'s ${kind} cursor at ${miss.seq} or past it in ${conv}, sent at ${miss.sentAt} and due by ${due} (protocol.md: a receipt goes to the members when a member's cursor moves forward)`,
        path: [],
      }));
    }
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
