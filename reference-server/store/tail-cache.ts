// The newest messages of recently written conversations, kept in memory because most syncs and
// resumes read a conversation's tail. Bounded per conversation, in conversations and in bytes (least
// recently touched evicted first): a node's memory for it stops growing once every busy conversation's
// tail is full, whatever the bodies' size (4,096 conversations of 64 protocol-maximum bodies would
// otherwise be over a gigabyte). Invariant: a cached list holds consecutive seqs ending at the newest
// appended one.

import type { ConvId, Message } from '../protocol/frames.ts';

/** A message's cost as counted against the byte bound: its strings at two bytes a character, and its object. */
export function cachedMessageBytes(message: Message): number {
  return 2 * (message.body.length + message.cmid.length + message.from.length) + 96;
}

type Tail = { messages: Message[]; bytes: number };

export class TailCache {
  private readonly perConvMax: number;
  private readonly convsMax: number;
  private readonly bytesMax: number;
  /** Map order is recency order: a touched conversation is re-inserted at the end. */
  private readonly tails = new Map<ConvId, Tail>();
  private bytesHeld = 0;

  constructor(perConvMax: number, convsMax: number, bytesMax = Number.POSITIVE_INFINITY) {
    this.perConvMax = perConvMax;
    this.convsMax = convsMax;
    this.bytesMax = bytesMax;
  }

  /** What the cached messages count for against the byte bound. */
  get bytes(): number {
    return this.bytesHeld;
  }

  get conversations(): number {
    return this.tails.size;
  }

  /** Records a newly sequenced message; it must be the conversation's next seq. */
  push(message: Message): void {
    if (this.perConvMax <= 0 || this.convsMax <= 0) return;
    const size = cachedMessageBytes(message);
    if (size > this.bytesMax) {
      this.evict(message.conv);
      return;
    }
    let tail = this.tails.get(message.conv);
    if (tail !== undefined) {
      this.tails.delete(message.conv);
      const newest = tail.messages[tail.messages.length - 1];
      // Started again from this message if the list stopped being consecutive (never expected).
      if (newest !== undefined && newest.seq + 1 !== message.seq) {
        this.bytesHeld -= tail.bytes;
        tail = { messages: [], bytes: 0 };
      }
    } else {
      tail = { messages: [], bytes: 0 };
    }
    tail.messages.push(message);
    tail.bytes += size;
    this.bytesHeld += size;
    if (tail.messages.length > this.perConvMax) {
      const dropped = cachedMessageBytes(tail.messages.shift()!);
      tail.bytes -= dropped;
      this.bytesHeld -= dropped;
    }
    this.tails.set(message.conv, tail);
    while (this.tails.size > this.convsMax || this.bytesHeld > this.bytesMax) {
      const oldest = this.tails.keys().next().value;
      if (oldest === undefined || oldest === message.conv) break;
      this.evict(oldest);
    }
    // Alone over the byte bound (a bound below one conversation's tail): its oldest messages go.
    while (this.bytesHeld > this.bytesMax && tail.messages.length > 1) {
      const dropped = cachedMessageBytes(tail.messages.shift()!);
      tail.bytes -= dropped;
      this.bytesHeld -= dropped;
    }
  }

  /** Copies of seqs `from`..`to` inclusive if the cache holds all of them, else null. */
  range(conv: ConvId, from: number, to: number): Message[] | null {
    const tail = this.tails.get(conv)?.messages;
    if (tail === undefined || tail.length === 0) return null;
    const first = tail[0]!.seq;
    const newest = tail[tail.length - 1]!.seq;
    if (from < first || to > newest) return null;
    return tail.slice(from - first, to - first + 1).map((m) => ({ ...m }));
  }

  private evict(conv: ConvId): void {
    const tail = this.tails.get(conv);
    if (tail === undefined) return;
    this.tails.delete(conv);
    this.bytesHeld -= tail.bytes;
  }
}
