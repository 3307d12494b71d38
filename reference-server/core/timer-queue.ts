// A binary min-heap of deadlines. The core schedules hello timeouts, coalesced notifies and the drain
// deadline here and reports the earliest one as a `wake` effect; ties break by insertion order so a
// run is the same on every replay.

export type TimerKind = 'hello' | 'notify' | 'drain' | 'gap' | 'catch-up' | 'welcome';
export type Timer = { at: number; order: number; kind: TimerKind; key: number | string };

export class TimerQueue {
  private readonly heap: Timer[] = [];
  private order = 0;

  get size(): number {
    return this.heap.length;
  }

  peekAt(): number | undefined {
    return this.heap[0]?.at;
  }

  push(at: number, kind: TimerKind, key: number | string): void {
    const heap = this.heap;
    heap.push({ at, order: this.order++, kind, key });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      [heap[i], heap[parent]] = [heap[parent]!, heap[i]!];
      i = parent;
    }
  }

  /** Removes and returns the earliest timer due at or before `now`. */
  popDue(now: number): Timer | undefined {
    const heap = this.heap;
    const top = heap[0];
    if (top === undefined || top.at > now) return undefined;
    const last = heap.pop()!;
    if (heap.length > 0) {
      heap[0] = last;
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        const right = left + 1;
        let least = i;
        if (left < heap.length && before(heap[left]!, heap[least]!)) least = left;
        if (right < heap.length && before(heap[right]!, heap[least]!)) least = right;
        if (least === i) break;
        [heap[i], heap[least]] = [heap[least]!, heap[i]!];
        i = least;
      }
    }
    return top;
  }
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
