// The generators' clock for the virtual clients' timers: a hashed wheel of fixed-width slots keyed by
// due time. Timers are never cancelled (the client ignores stale ones), so a slot is a plain array;
// `due(now)` hands back, in slot order, every entry whose slot has passed.

export type TimerEntry = { client: number; kind: string; key: string | undefined };

export class TimerWheel {
  private readonly slots = new Map<number, TimerEntry[]>();
  private nextSlot: number;
  size = 0;

  constructor(
    private readonly slotMs: number,
    startMs: number,
  ) {
    this.nextSlot = Math.floor(startMs / slotMs);
  }

  add(at: number, entry: TimerEntry): void {
    // A timer due in a slot already handed out fires in the next one.
    const slot = Math.max(this.nextSlot, Math.ceil(at / this.slotMs));
    const list = this.slots.get(slot);
    if (list === undefined) this.slots.set(slot, [entry]);
    else list.push(entry);
    this.size++;
  }

  /** Calls `fire` for every entry due at or before `now`, earliest slot first. */
  due(now: number, fire: (entry: TimerEntry) => void): void {
    const last = Math.floor(now / this.slotMs);
    while (this.nextSlot <= last) {
      const slot = this.nextSlot;
      const list = this.slots.get(slot);
      if (list !== undefined) {
        // Entries added while firing this slot land in the next one (add clamps to nextSlot + 1).
        this.nextSlot = slot + 1;
        this.slots.delete(slot);
        this.size -= list.length;
        for (const entry of list) fire(entry);
      } else this.nextSlot = slot + 1;
    }
  }
}
