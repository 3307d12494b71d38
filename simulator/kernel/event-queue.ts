// The simulator's agenda: an O(log n) binary min-heap of (time, insertion order) -> event. Ties break
// by insertion order, so a run is a pure function of its seed. Times are virtual milliseconds.

export class EventQueue<T> {
  private times: number[] = [];
  private orders: number[] = [];
  private items: T[] = [];
  private order = 0;

  get size(): number {
    return this.items.length;
  }

  peekTime(): number | undefined {
    return this.times[0];
  }

  push(at: number, item: T): void {
    const times = this.times;
    const orders = this.orders;
    const items = this.items;
    const order = this.order++;
    let i = items.length;
    times.push(at);
    orders.push(order);
    items.push(item);
    while (i > 0) {
      const parent = (i - 1) >> 1;
      const pt = times[parent]!;
      if (pt < at || (pt === at && orders[parent]! < order)) break;
      times[i] = pt;
      orders[i] = orders[parent]!;
      items[i] = items[parent]!;
      i = parent;
    }
    times[i] = at;
    orders[i] = order;
    items[i] = item;
  }

  /** Removes the earliest event; call only when size > 0. Its time is what peekTime() returned. */
  pop(): T {
    const times = this.times;
    const orders = this.orders;
    const items = this.items;
    const top = items[0]!;
    const lastTime = times.pop()!;
    const lastOrder = orders.pop()!;
    const lastItem = items.pop()!;
    const n = items.length;
    if (n > 0) {
      let i = 0;
      for (;;) {
        const left = 2 * i + 1;
        if (left >= n) break;
        const right = left + 1;
        let child = left;
        if (right < n) {
          const lt = times[left]!;
          const rt = times[right]!;
          if (rt < lt || (rt === lt && orders[right]! < orders[left]!)) child = right;
        }
        const ct = times[child]!;
        if (lastTime < ct || (lastTime === ct && lastOrder < orders[child]!)) break;
        times[i] = ct;
        orders[i] = orders[child]!;
        items[i] = items[child]!;
        i = child;
      }
      times[i] = lastTime;
      orders[i] = lastOrder;
      items[i] = lastItem;
    }
    return top;
  }
}
