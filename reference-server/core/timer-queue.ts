// A binary min-heap of deadlines. The core schedules hello timeouts, coalesced notifies and the drain
// deadline here and reports the earliest one as a `wake` effect; ties break by insertion order so a
// run is the same on every replay.
//
// Deadlines are on the caller's clock, a wall clock that an NTP step (or a clock-offset fault) can set
// back. A deadline set before such a step would then lie that much further away: an hour back, and a
// held welcome or a gap fill waits an hour. `observe` sees each reading; when the clock went back, every
// deadline moves back by the same step, so each keeps the delay it had left. A step forward cannot be
// told from time passing: deadlines then fall due early, which every timer here tolerates (each
// re-checks its state when it fires).

export type TimerKind = 'hello' | 'notify' | 'drain' | 'gap' | 'catch-up' | 'welcome' | 'members';
export type Timer = { at: number; order: number; kind: TimerKind; key: number | string };

export class TimerQueue {
  private readonly heap: Timer[] = [];
  private order = 0;
  private lastNow = Number.NEGATIVE_INFINITY;

  get size(): number {
    return this.heap.length;
  }

  peekAt(): number | undefined {
    return this.heap[0]?.at;
  }

  /** Reads the caller's clock; returns how far it stepped back since the last reading (0 if it did not). */
  observe(now: number): number {
    const stepBack = this.lastNow - now;
    this.lastNow = now;
    if (!(stepBack > 0)) return 0;
    // Moving every deadline by the same amount keeps the heap's order.
    for (const timer of this.heap) timer.at -= stepBack;
    return stepBack;
  }

  push(at: number, kind: TimerKind, key: number | string): void {
    const heap = this.heap;
    heap.push({ at, order: this.order++, kind, key });
    let i = heap.length - 1;
    while (i > 0) {
      const parent = (i - 1) >> 1;
      if (!before(heap[i]!, heap[parent]!)) break;
      swap(heap, i, parent);
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
        swap(heap, i, least);
        i = least;
      }
    }
    return top;
  }
}

/** Not a destructuring swap: that allocated an array of two per step (3% of a `million` run's bytes). */
function swap(heap: Timer[], a: number, b: number): void {
  const timer = heap[a]!;
  heap[a] = heap[b]!;
  heap[b] = timer;
}

function before(a: Timer, b: Timer): boolean {
  return a.at < b.at || (a.at === b.at && a.order < b.order);
}
