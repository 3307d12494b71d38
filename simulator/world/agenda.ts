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
 * One shape for every event keeps the hot loop monomorphic. `target` is the node or client index the
 * event is for; `instance` is the node's epoch (node events) or the client's connection id (client
 * events): an event whose target has since moved on to another instance is void.
 */
export type SimEvent = {
  kind: number;
  target: number;
  instance: number;
  data: unknown;
  at: number;
  order: number;
};

/** Spent events kept for reuse: enough for a burst, small enough to stay in the young generation's reach. */
const spentEventsMax = 4096;

export class Agenda {
  private queue = new CalendarQueue<SimEvent>();
  /**
   * Events already run, for schedule() to reuse instead of allocating: client, store and link events
   * (and callbacks) are never held once dispatched; node events may be (a paused or busy node keeps
   * them), so those are never reused.
   */
  private readonly spent: SimEvent[] = [];
  readonly trace = new TraceHash();
  now = 0;
  /** Events run so far. */
  events = 0;
  /** An event settled a promise: its reactions must run before the next event. */
  private asyncPending = false;

  constructor(private readonly dispatch: (event: SimEvent) => void) {}

  schedule(at: number, kind: number, target: number, instance: number, data: unknown): void {
    const event = this.spent.pop();
    if (event === undefined) {
      this.queue.push(at, { kind, target, instance, data, at: 0, order: 0 });
      return;
    }
    event.kind = kind;
    event.target = target;
    event.instance = instance;
    event.data = data;
    this.queue.push(at, event);
  }

  /** Runs `callback` at virtual time `at`. */
  /** Drops every event still pending (World.release: the run is over). */
  release(): void {
    this.queue = new CalendarQueue<SimEvent>();
    this.spent.length = 0;
  }

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
      const event = queue.pop();
      this.now = at;
      this.events++;
      trace.mix(at);
      trace.mix(event.kind);
      trace.mix(event.target);
      trace.mix(event.instance);
      trace.endEvent();
      this.dispatch(event);
      if (event.kind > EventKind.nodeTick && this.spent.length < spentEventsMax) {
        event.data = null;
        this.spent.push(event);
      }
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

  /** Lets every pending promise reaction run (a macrotask runs only once the microtask queue is empty). */
  private async settle(): Promise<void> {
    while (this.asyncPending) {
      this.asyncPending = false;
      await new Promise<void>((resolve) => setImmediate(resolve));
    }
  }
}
