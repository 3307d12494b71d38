// The reorder buffer of one conversation: messages that arrived ahead of a gap wait here, keyed by
// seq, until the gap fills. Bounded: when full it keeps the seqs nearest to display, and what it
// gives up comes back by `sync`. Allocated only while something is out of order.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { Via } from '../history.ts';

export type Held = { message: Message; via: Via };

export class ReorderBuffer {
  private readonly held = new Map<number, Held>();

  get size(): number {
    return this.held.size;
  }

  hold(message: Message, via: Via, max: number): 'held' | 'duplicate' | 'dropped' {
    const held = this.held;
    if (held.has(message.seq)) return 'duplicate';
    if (held.size >= max) {
      let highest = 0;
      for (const seq of held.keys()) if (seq > highest) highest = seq;
      if (message.seq > highest) return 'dropped';
      held.delete(highest);
    }
    held.set(message.seq, { message, via });
    return 'held';
  }

  /** Removes and returns the message at `seq`, if held. */
  take(seq: number): Held | undefined {
    const found = this.held.get(seq);
    if (found !== undefined) this.held.delete(seq);
    return found;
  }

  /** Forgets every seq up to `seq` (they were displayed or will never come). */
  dropUpTo(seq: number): void {
    for (const held of this.held.keys()) if (held <= seq) this.held.delete(held);
  }
}
