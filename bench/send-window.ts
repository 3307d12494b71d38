// One connection's outstanding sends and when each was *scheduled*: latency is measured from the
// scheduled time, not from when the send left, so a slow server cannot hide behind a generator that
// waits for a free slot (coordinated omission). Closed model (no rate): a send is scheduled the moment
// a slot frees. Open model: sends fall due every `intervalMs`; while the window is full they wait,
// and the wait counts in their latency. Memory is bounded by the window whatever the backlog.

export type Send = (n: number) => string;

export class SendWindow {
  private readonly outstanding = new Map<string, number>();
  private nextDueMs: number;
  private sent = 0;
  private stopped = false;

  /** `intervalMs` null is the closed model. */
  constructor(
    private readonly windowMax: number,
    private readonly intervalMs: number | null,
    startMs: number,
  ) {
    if (!Number.isSafeInteger(windowMax) || windowMax < 1) throw new RangeError(`windowMax: ${windowMax}`);
    if (intervalMs !== null && !(intervalMs > 0)) throw new RangeError(`intervalMs: ${intervalMs}`);
    this.nextDueMs = startMs;
  }

  get size(): number {
    return this.outstanding.size;
  }

  get sentCount(): number {
    return this.sent;
  }

  /** Sends whatever is due at `nowMs` and fits in the window; `send` returns the key its answer will carry. */
  pump(nowMs: number, send: Send): void {
    while (!this.stopped && this.outstanding.size < this.windowMax) {
      let scheduledMs = nowMs;
      if (this.intervalMs !== null) {
        if (this.nextDueMs > nowMs) return;
        scheduledMs = this.nextDueMs;
        this.nextDueMs += this.intervalMs;
      }
      const key = send(this.sent++);
      this.outstanding.set(key, scheduledMs);
    }
  }

  /** The latency in ms of the send answered by `key`, or null for a key not outstanding (a repeat). */
  complete(key: string, nowMs: number): number | null {
    const scheduledMs = this.outstanding.get(key);
    if (scheduledMs === undefined) return null;
    this.outstanding.delete(key);
    return nowMs - scheduledMs;
  }

  /** Frees the slot of a send that failed; true if it was outstanding. */
  abandon(key: string): boolean {
    return this.outstanding.delete(key);
  }

  /** No more sends; outstanding ones can still complete. */
  stop(): void {
    this.stopped = true;
  }
}
