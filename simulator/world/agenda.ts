// Virtual time: the agenda of events every part of the world schedules on, the clock it advances,
// and the trace hash of every event it runs. The world's parts never read a clock of their own; an
// event's (time, kind, target, instance) is what the trace hash covers, so a run is a pure function
// of its seed. The real log store is Promise-based: when an event settles a promise (a simulated
// disk operation completing), the agenda lets every promise reaction run to quiescence before the
// next event, so the store's continuations happen at that event's virtual time, in an order fixed by
// the code alone (no real I/O is pending, so nothing else can interleave).

import { CalendarQueue } from '../kernel/calendar-queue.ts';
import { TraceHash } from '../kernel/trace-hash.ts';

/** What an event does; its number is part of the trace hash, so these values never change. */
export const EventKind = {
  nodeInput: 0,
  nodeTick: 1,
  clientConnected: 2,
  clientFrame: 3,
  clientClosed: 4,
  clientTimer: 5,
  storeFlush: 6,
  callback: 8,
  linkDrain: 9,
} as const;

/**
 * An event as `dispatch` gets it. `target` is the node or client index the event is for; `instance` is
 * the node's epoch (node events) or the client's connection id (client events): an event whose target
 * has since moved on to another instance is void. Both are integers.
 */
export type SimEvent = {
  kind: number;
  target: number;
  instance: number;
  data: unknown;
  at: number;
};

export class Agenda {
  /**
   * Pending events are handles, not objects: the queue keeps a handle's time, insertion order, kind,
   * target and instance in one 32-byte row (the words it keeps for its caller), `data` its data. At a
   * million clients about 1.2 million wait at every moment (each client's idle check among them), each
   * an object of six fields and a boxed time (88 bytes, two objects for the collector to mark) where a
   * row and a slot hold 40 bytes; the row is read whole when the event runs.
   */
  private queue = new CalendarQueue();
  private data: unknown[] = [];
  /** Handles popped and free again, and how many were ever made. */
  private free: number[] = [];
  private handles = 0;
  /**
   * What dispatch gets for every event: one object filled again for each, which dispatch must not keep.
   * A paused or busy node that holds a node event keeps a copy of it (sim-node.ts: `kept`); the object
   * of its own each node event got was 2.5% of a `million` run's bytes.
   */
  private readonly running: SimEvent = { kind: 0, target: 0, instance: 0, data: null, at: 0 };
  readonly trace = new TraceHash();
  now = 0;
  /** Events run so far. */
  events = 0;
  /** An event settled a promise: its reactions must run before the next event. */
  private asyncPending = false;

  constructor(private readonly dispatch: (event: SimEvent) => void) {}

  schedule(at: number, kind: number, target: number, instance: number, data: unknown): void {
    let handle = this.free.pop();
    if (handle === undefined) {
      handle = this.handles++;
      this.data.push(data);
    } else this.data[handle] = data;
    this.queue.push(at, handle, kind, target, instance);
  }

  /** Drops every event still pending (World.release: the run is over). */
  release(): void {
    this.queue = new CalendarQueue();
    this.data = [];
    this.free = [];
    this.handles = 0;
  }

  /** Runs `callback` at virtual time `at`. */
  at(at: number, callback: () => void): void {
    this.schedule(at, EventKind.callback, 0, 0, callback);
  }

  markAsync(): void {
    this.asyncPending = true;
  }

  /** Runs events up to and including time `until`; returns false if the queue ran dry first. */
  async runUntil(until: number): Promise<boolean> {
    const queue = this.queue;
    const trace = this.trace;
    const running = this.running;
    for (;;) {
      if (this.asyncPending) await this.settle();
      const at = queue.peekTime();
      if (at === undefined) {
        this.now = until;
        return false;
      }
      if (at > until) {
        this.now = until;
        return true;
      }
      const handle = queue.pop();
      const kind = queue.wordOf(handle, 0);
      const target = queue.wordOf(handle, 1);
      const instance = queue.wordOf(handle, 2);
      const data = this.data[handle];
      // Free before dispatch: what dispatch schedules may take this handle again.
      this.data[handle] = null;
      this.free.push(handle);
      this.now = at;
      this.events++;
      trace.mix(at);
      trace.mix(kind);
      trace.mix(target);
      trace.mix(instance);
      trace.endEvent();
      running.kind = kind;
      running.target = target;
      running.instance = instance;
      running.data = data;
      running.at = at;
      this.dispatch(running);
      running.data = null;
    }
  }

  /** Runs events until `done()` holds (checked after each event's promise reactions ran). */
  async runUntilDone(done: () => boolean): Promise<void> {
    for (;;) {
      if (this.asyncPending) await this.settle();
      if (done()) return;
      const at = this.queue.peekTime();
      if (at === undefined) throw new Error('the agenda ran dry before the awaited work finished');
      await this.runUntil(at);
    }
  }

  /**
   * Lets every pending promise reaction run. From inside a microtask (the `await null` puts this there),
   * a tick runs only once the microtask queue is empty: Node drains V8's microtask queue, then runs the
   * ticks queued meanwhile. A macrotask (setImmediate) waited for the same, but each took a turn of the
   * event loop and a system call: 3 µs, 680 thousand times in one gate seed (docs/benchmarks.md, speed23).
   */
  private async settle(): Promise<void> {
    while (this.asyncPending) {
      this.asyncPending = false;
      await null;
      await new Promise<void>((resolve) => process.nextTick(resolve));
    }
  }
}
