// One stage of a link's toxic chain (Toxiproxy's ToxicStub): an input queue, an output (the next stub
// or the link's writer), and the toxic that moves chunks from one to the other. A stub can be
// interrupted, so the link can splice stubs in and out of a running connection; an interrupted toxic
// hands on every chunk it holds before it returns, so no byte is lost or reordered.

import { performance } from 'node:perf_hooks';

export type Chunk = {
  data: Buffer /** performance.now() when the proxy read it (latency counts from here). */;
  atMs: number;
};
export const EOF = Symbol('eof');
export type Item = Chunk | typeof EOF;
export const INTERRUPTED = Symbol('interrupted');
export const TIMED_OUT = Symbol('timed-out');

/** Whatever a stub writes into: the next stub or the link's writer. */
export interface Inlet {
  put(item: Item): void;
  hasRoom(): boolean;
  /** The one writer into this inlet; told when room frees up. */
  upstream: { notify(): void } | null;
}

export const now = (): number => performance.now();

export class ToxicStub implements Inlet {
  readonly queue: Item[] = [];
  upstream: { notify(): void } | null = null;
  output: Inlet;
  /** Per-connection state of a stateful toxic (limit_data); kept across restarts of this stub. */
  state: unknown = undefined;
  closed = false;
  private interruptRequested = false;
  private signal: (() => void) | null = null;
  private running: Promise<void> | null = null;
  private microsOwed = 0;

  constructor(
    readonly capacity: number,
    output: Inlet,
  ) {
    this.output = output;
  }

  // ---- the inlet side ---------------------------------------------------------------------------

  put(item: Item): void {
    if (this.closed) return;
    this.queue.push(item);
    this.notify();
  }

  hasRoom(): boolean {
    return this.closed || this.queue.length < this.capacity;
  }

  notify(): void {
    const signal = this.signal;
    this.signal = null;
    signal?.();
  }

  // ---- what a toxic uses ------------------------------------------------------------------------

  get interrupted(): boolean {
    return this.interruptRequested;
  }

  /** The next chunk or EOF; INTERRUPTED when the link wants the stub back; TIMED_OUT after `timeoutMs`. */
  async read(timeoutMs?: number): Promise<Item | typeof INTERRUPTED | typeof TIMED_OUT> {
    let timedOut = false;
    const timer =
      timeoutMs === undefined
        ? undefined
        : setTimeout(() => {
            timedOut = true;
            this.notify();
          }, timeoutMs);
    try {
      for (;;) {
        if (this.interruptRequested) return INTERRUPTED;
        const item = this.queue.shift();
        if (item !== undefined) {
          this.upstream?.notify();
          return item;
        }
        if (timedOut) return TIMED_OUT;
        await this.wait();
      }
    } finally {
      clearTimeout(timer);
    }
  }

  /** Puts the item back at the head of the input (a toxic interrupted while it held an EOF). */
  unread(item: Item): void {
    this.queue.unshift(item);
  }

  /** Hands an item on, waiting for room; an interrupted stub never waits (its chunks must move on). */
  async write(item: Item): Promise<void> {
    for (;;) {
      const target = this.output;
      if (this.interruptRequested || target.hasRoom()) {
        target.put(item);
        return;
      }
      await this.wait();
    }
  }

  /** Sleeps; false (early) when interrupted. */
  async sleep(ms: number): Promise<boolean> {
    if (this.interruptRequested) return false;
    if (!(ms > 0)) return true;
    let fired = false;
    const timer = setTimeout(() => {
      fired = true;
      this.notify();
    }, ms);
    while (!fired) {
      if (this.interruptRequested) {
        clearTimeout(timer);
        return false;
      }
      await this.wait();
    }
    return !this.interruptRequested;
  }

  /** Sleeps in microseconds: timers tick in ms, so the delay is owed until it adds up to one. */
  async sleepMicros(us: number): Promise<boolean> {
    this.microsOwed += Math.max(0, us);
    if (this.microsOwed < 1000) return !this.interruptRequested;
    const ms = Math.floor(this.microsOwed / 1000);
    this.microsOwed -= ms * 1000;
    return this.sleep(ms);
  }

  /** Sleeps until interrupted (bandwidth 0 stalls a chunk for as long as the toxic stays). */
  async stall(): Promise<void> {
    while (!this.interruptRequested) await this.wait();
  }

  /** Ends this stub's stream: EOF goes on, and the link (so the connection) closes behind it. */
  close(): void {
    if (this.closed) return;
    this.output.put(EOF);
    this.closed = true;
    this.queue.length = 0;
    this.upstream?.notify();
  }

  // ---- what the link uses -----------------------------------------------------------------------

  /** Starts the toxic, or a noop if this connection's toxicity roll fails (rolled on every start). */
  run(pipe: (stub: ToxicStub) => Promise<void>, toxicity: number, random: () => number): void {
    const toxic = random() < toxicity ? pipe : noopPipe;
    this.running = toxic(this).finally(() => {
      this.running = null;
    });
  }

  /** Stops the running toxic (it hands on what it holds); false if the stub is already closed. */
  async interrupt(): Promise<boolean> {
    if (this.closed) return false;
    this.interruptRequested = true;
    this.notify();
    await this.running;
    this.interruptRequested = false;
    return !this.closed;
  }

  /** The connection is gone: whatever runs returns at its next step, nothing more is delivered. */
  kill(): void {
    this.closed = true;
    this.interruptRequested = true;
    this.queue.length = 0;
    this.notify();
  }

  private wait(): Promise<void> {
    return new Promise((resolve) => {
      this.signal = resolve;
    });
  }
}

export async function noopPipe(stub: ToxicStub): Promise<void> {
  for (;;) {
    const item = await stub.read();
    if (item === INTERRUPTED || item === TIMED_OUT) return;
    if (item === EOF) return stub.close();
    await stub.write(item);
  }
}
