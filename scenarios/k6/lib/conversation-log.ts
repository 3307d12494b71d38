// One conversation as one k6 virtual user sees it: exactly-once, in-seq-order display with a bounded
// reorder buffer, and the two protocol promises a k6 user can judge from inside one VU: a seq always
// carries the same message (agreement) and a cmid is acked with one seq (idempotency). Pure
// TypeScript with no k6 import, so vitest tests it and k6 runs it unchanged.

import type { Message } from '../../../reference-server/protocol/frames.ts';

export type { Message };

/** Bounds: held out-of-order messages, and seqs remembered for the agreement check. */
export const conversationLogLimits = { heldMax: 10_000, rememberedMax: 4096 } as const;

export type Offered = {
  /** Messages displayed by this offer, in seq order (the offered one and any it released). */
  shown: Message[];
  duplicate: boolean;
  /** The seq was seen before with another sender, cmid or body: a protocol violation. */
  disagreement: boolean;
};

export class ConversationLog {
  displayedUpTo = 0;
  /** The newest seq the server said exists (welcome, batch, notify, pushes). */
  knownLastSeq = 0;
  private readonly held = new Map<number, Message>();
  private readonly fingerprints = new Map<number, string>();

  constructor(readonly conv: string) {}

  get behind(): boolean {
    return this.displayedUpTo < this.knownLastSeq;
  }

  learnLastSeq(lastSeq: number): void {
    if (lastSeq > this.knownLastSeq) this.knownLastSeq = lastSeq;
  }

  /** Takes one message from a push, a batch or the VU's own ack. */
  offer(message: Message): Offered {
    this.learnLastSeq(message.seq);
    const disagreement = !this.remember(message);
    if (message.seq <= this.displayedUpTo || this.held.has(message.seq))
      return { shown: [], duplicate: true, disagreement };
    if (message.seq !== this.displayedUpTo + 1) {
      if (this.held.size < conversationLogLimits.heldMax) this.held.set(message.seq, message);
      return { shown: [], duplicate: false, disagreement };
    }
    const shown = [message];
    this.displayedUpTo = message.seq;
    for (
      let next = this.held.get(this.displayedUpTo + 1);
      next;
      next = this.held.get(this.displayedUpTo + 1)
    ) {
      this.held.delete(next.seq);
      shown.push(next);
      this.displayedUpTo = next.seq;
    }
    return { shown, duplicate: false, disagreement };
  }

  /**
   * A batch answering a sync or resume after `after` that starts later than after + 1 proves the seqs
   * between are not readable by this user (sequenced while it was not a member): move past them.
   */
  skipUnreadable(after: number, firstSeq: number): void {
    if (after !== this.displayedUpTo || firstSeq <= this.displayedUpTo + 1) return;
    this.displayedUpTo = firstSeq - 1;
    for (const seq of this.held.keys()) if (seq <= this.displayedUpTo) this.held.delete(seq);
  }

  /** False when `message` contradicts what was seen before at its seq. */
  private remember(message: Message): boolean {
    const fingerprint = `${message.from}\n${message.cmid}\n${message.body}`;
    const seen = this.fingerprints.get(message.seq);
    if (seen !== undefined) return seen === fingerprint;
    if (this.fingerprints.size >= conversationLogLimits.rememberedMax) {
      const oldest = this.fingerprints.keys().next().value;
      if (oldest !== undefined) this.fingerprints.delete(oldest);
    }
    this.fingerprints.set(message.seq, fingerprint);
    return true;
  }
}

/** cmid → the one seq its acks must carry (bounded, oldest forgotten first). */
export class AckBook {
  private readonly seqs = new Map<string, number>();

  constructor(private readonly rememberedMax: number = conversationLogLimits.rememberedMax) {}

  /** False when this cmid was acked before with another seq. */
  record(conv: string, cmid: string, seq: number): boolean {
    const key = `${conv}\n${cmid}`;
    const seen = this.seqs.get(key);
    if (seen !== undefined) return seen === seq;
    if (this.seqs.size >= this.rememberedMax) {
      const oldest = this.seqs.keys().next().value;
      if (oldest !== undefined) this.seqs.delete(oldest);
    }
    this.seqs.set(key, seq);
    return true;
  }
}
