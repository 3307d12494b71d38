// Virtual time: the agenda of events every part of the world schedules on, the clock it advances,
// and the trace hash of every event it runs. The world's parts never read a clock of their own; an
// event's (time, kind, target, instance) is what the trace hash covers, so a run is a pure function
// of its seed.

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

export class Agenda {
  private readonly queue = new CalendarQueue<SimEvent>();
  readonly trace = new TraceHash();
  now = 0;
  /** Events run so far. */
  events = 0;

  constructor(private readonly dispatch: (event: SimEvent) => void) {}

  schedule(at: number, kind: number, target: number, instance: number, data: unknown): void {
    this.queue.push(at, { kind, target, instance, data, at: 0, order: 0 });
  }

  /** Runs `callback` at virtual time `at`. */
  at(at: number, callback: () => void): void {
    this.schedule(at, EventKind.callback, 0, 0, callback);
  }

  /** Runs events up to and including time `until`; returns false if the queue ran dry first. */
  runUntil(until: number): boolean {
    const queue = this.queue;
    const trace = this.trace;
    for (;;) {
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
    }
  }
}
