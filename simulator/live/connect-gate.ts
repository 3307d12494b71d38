// A bound on one generator's connects in flight. A connect holds a slot from the moment its socket is
// dialed until its session is welcomed or the socket closes; connects beyond the bound wait in a FIFO
// queue and are dialed, in order, as slots free. So a generator short of CPU (or facing slow nodes)
// paces its connects to what it and the nodes actually complete, instead of dialing them all on
// schedule, timing them out at the client's connect timeout and dialing them again from scratch (the
// spiral of the 100,000 runs, docs/benchmarks.md). Clients are named by their index in the shard.

export class ConnectGate {
  private readonly queue: number[] = [];
  private queueHead = 0;
  /** Per client: 1 waiting in the queue, 2 holding a slot, 0 neither. */
  private readonly state: Uint8Array;
  private held = 0;
  /** The most slots held at once (a test and the bench read it). */
  heldMax = 0;
  /** Connects that had to wait for a slot. */
  waited = 0;

  constructor(
    readonly capacity: number,
    clients: number,
    /** Dials client `i`'s socket: called when it gets a slot (synchronously within `request`/`release`). */
    private readonly dial: (i: number) => void,
  ) {
    if (!Number.isSafeInteger(capacity) || capacity < 1)
      throw new Error(`connects in flight must be a positive integer, got ${capacity}`);
    this.state = new Uint8Array(clients);
  }

  get inFlight(): number {
    return this.held;
  }

  get waiting(): number {
    return this.queue.length - this.queueHead;
  }

  isWaiting(i: number): boolean {
    return this.state[i] === 1;
  }

  /**
   * Client `i` wants a connection: dialed now if a slot is free, else queued. A client already holding
   * a slot (a new connect replacing one in flight) keeps it and is dialed again at once.
   */
  request(i: number): void {
    const state = this.state[i];
    if (state === 2) {
      this.dial(i);
      return;
    }
    if (state === 1) return;
    if (this.held < this.capacity) {
      this.take(i);
      this.dial(i);
      return;
    }
    this.state[i] = 1;
    this.queue.push(i);
    this.waited++;
  }

  /**
   * Client `i`'s connect is over (welcomed, or its socket closed), or it no longer wants one (it went
   * offline while queued): its slot, if any, goes to the next client waiting.
   */
  release(i: number): void {
    const state = this.state[i];
    this.state[i] = 0;
    if (state !== 2) return;
    this.held--;
    this.next();
  }

  private take(i: number): void {
    this.state[i] = 2;
    this.held++;
    if (this.held > this.heldMax) this.heldMax = this.held;
  }

  private next(): void {
    while (this.held < this.capacity && this.queueHead < this.queue.length) {
      const i = this.queue[this.queueHead++]!;
      // Released while queued (cancelled): skip it.
      if (this.state[i] !== 1) continue;
      this.take(i);
      this.dial(i);
    }
    if (this.queueHead > 1024 && this.queueHead * 2 > this.queue.length) {
      this.queue.splice(0, this.queueHead);
      this.queueHead = 0;
    }
  }
}
