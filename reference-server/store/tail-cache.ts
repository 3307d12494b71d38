// The newest messages of recently written conversations, kept in memory because most syncs and
// resumes read a conversation's tail. Bounded per conversation and in conversations (least recently
// touched evicted). Invariant: a cached list holds consecutive seqs ending at the newest appended one.

import type { ConvId, Message } from '../protocol/frames.ts';

export class TailCache {
  private readonly perConvMax: number;
  private readonly convsMax: number;
  /** Map order is recency order: a touched conversation is re-inserted at the end. */
  private readonly tails = new Map<ConvId, Message[]>();

  constructor(perConvMax: number, convsMax: number) {
    this.perConvMax = perConvMax;
    this.convsMax = convsMax;
  }

  /** Records a newly sequenced message; it must be the conversation's next seq. */
  push(message: Message): void {
    if (this.perConvMax <= 0 || this.convsMax <= 0) return;
    let tail = this.tails.get(message.conv);
    if (tail !== undefined) {
      this.tails.delete(message.conv);
      const newest = tail[tail.length - 1];
      // Started again from this message if the list stopped being consecutive (never expected).
      if (newest !== undefined && newest.seq + 1 !== message.seq) tail = [];
    } else {
      tail = [];
    }
    tail.push(message);
    if (tail.length > this.perConvMax) tail.shift();
    this.tails.set(message.conv, tail);
    if (this.tails.size > this.convsMax) {
      const oldest = this.tails.keys().next().value;
      if (oldest !== undefined) this.tails.delete(oldest);
    }
  }

  /** Copies of seqs `from`..`to` inclusive if the cache holds all of them, else null. */
  range(conv: ConvId, from: number, to: number): Message[] | null {
    const tail = this.tails.get(conv);
    if (tail === undefined || tail.length === 0) return null;
    const first = tail[0]!.seq;
    const newest = tail[tail.length - 1]!.seq;
    if (from < first || to > newest) return null;
    return tail.slice(from - first, to - first + 1).map((m) => ({ ...m }));
  }
}
