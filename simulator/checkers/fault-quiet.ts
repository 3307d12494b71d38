// Whether the faults left a stretch of the run alone, judged by what each fault can do to a request. A
// checker that judges what only a healed world owes (an answer to a request, at last the ack of a send
// made again) asks whether a fault that could explain the lack of it was open at any moment from the
// request on. Fed the run's `fault` events in order.
//
// What a fault can do, by its type (and a partition's `target`):
// - it **cuts** the way between a client and its node or stops the node (a partition of clients or of a
//   node from its clients, a slow, throttled, black-holed or reset link, a crash, a pause, a restart, a
//   clock set off, a torn write or a crash in recovery, which crash the store's machine and, embedded,
//   its node): the request or its answer may be lost, or wait on a connection no one has noticed is
//   dead. It explains silence, and a "not now" where a crash may have taken a node's way to an answer
//   (a 5xx, a send made again refused until given up); an `unavailable` only when it fails as well.
// - it **fails** a node's dependencies while the node stays up and reachable (the store's outage, a
//   lossy or cut link from one node to the store or to the bus, a failing, full, corrupt or slow disk
//   under the store, or one whose files cannot be opened for a while, a store's machine crashed while its nodes run on): the node must still answer, with
//   `unavailable` (503, 5xx) when the store could not do it (protocol.md). It explains a "not now" from
//   the nodes it touches (`nodes`; none named: every node), never silence. A slow disk is here: the log
//   store refuses writes past its queue's bound.
// - it **slows** a node's link to Redis (`redis-latency`: the store and the bus). The simulated store
//   times out no request that arrives late, so it explains neither silence (the client waits 10 s) nor
//   `unavailable` (mut18's 35 and 37, a removed member's cursor answered `unavailable` in place of
//   `forbidden` while a node's membership lagged the bus, were excused by it).
// A failed store's supervisor restarts it at its fault's heal (store-owner.ts), and embedded, its node
// with it: that heal cuts as well.
// The old rule (any fault, anywhere) stays for what a fault of any kind may hold up or refuse: a `hello`
// (the reference server holds one whose welcome's read failed, and on a stale fleet node, until they
// heal), and the "not now" answers judged live as well (a send made again refused until given up, an
// admin 5xx: live, a slow Redis may time out the server's own requests).

import type { HistoryEventOf } from '../history.ts';
import { int32Column } from './column.ts';

type FaultEvent = HistoryEventOf<'fault'>;

/** Faults whose heal restarts a store that failed (store-owner.ts `restartIfFailed`), embedded its node. */
const restartAtHeal: ReadonlySet<string> = new Set([
  'disk-fsync-error',
  'disk-full',
  'disk-bitflip',
  'disk-misdirected-write',
  'disk-lost-flush',
  'disk-open-error',
]);

/** Faults that fail a node's store and leave the node up and reachable. */
const storeOnlyFaults = ['store-outage', 'store-flaky', 'disk-slow', ...restartAtHeal];

/** Faults that fail a node's dependencies (a store whose machine crashes cuts as well). */
const failingFaults: ReadonlySet<string> = new Set([
  ...storeOnlyFaults,
  'disk-torn-write',
  'crash-during-recovery',
  // A node draining for a graceful stop refuses new sends `unavailable` ("reconnect and resend": the
  // reference server, chat-node.ts) until it exits: its own restart, named by the event's `nodes`.
  // Swarm seed 125075945314940 (a send that reached n1 8 ms into its drain) failed without it.
  'drain-restart',
]);

/** Faults that leave every node up and reachable: they fail or slow its dependencies only. */
const dependencyOnlyFaults: ReadonlySet<string> = new Set([...storeOnlyFaults, 'redis-latency']);

/** Whether a fault can cut a client's way to its node or stop the node (see the top of this file). */
export function faultCuts(event: Pick<FaultEvent, 'type' | 'target'>): boolean {
  if (event.type === 'partition') return event.target !== 'store' && event.target !== 'bus';
  return !dependencyOnlyFaults.has(event.type);
}

/** Whether a fault can fail a node's dependencies (see the top of this file). */
export function faultFails(event: Pick<FaultEvent, 'type' | 'target'>): boolean {
  if (event.type === 'partition') return event.target === 'store' || event.target === 'bus';
  return failingFaults.has(event.type);
}

/**
 * Whether a fault makes a node's store refuse at once what it is asked, whatever it was doing: a failed
 * fsync or a full disk breaks the log (every request waiting on it is refused, and every later one:
 * group-commit.ts), a store outage refuses each request (connection refused). From then on a node up
 * and reachable answers what it asked of that store without waiting on the store's load. (A lossy or
 * cut link to the store times out instead; a slow or corrupt disk refuses only some requests.)
 */
export function faultRefusesAtOnce(event: Pick<FaultEvent, 'type'>): boolean {
  return event.type === 'disk-fsync-error' || event.type === 'disk-full' || event.type === 'store-outage';
}

/**
 * Faults of one kind: how many are open, and when the last one started or healed; and every stretch
 * while one was open, as (start, end) pairs (end +Infinity while open; a restart is an instant), to ask
 * about a stretch of the past. A run's faults are a few hundred at most, whatever its size.
 */
class Span {
  open = 0;
  lastAt = Number.NEGATIVE_INFINITY;
  private readonly periods: number[] = [];

  observe(phase: 'start' | 'heal', at: number): void {
    const was = this.open;
    this.open = Math.max(0, this.open + (phase === 'start' ? 1 : -1));
    this.lastAt = at;
    if (was === 0 && this.open > 0) this.periods.push(at, Number.POSITIVE_INFINITY);
    else if (was > 0 && this.open === 0) this.periods[this.periods.length - 1] = at;
    // A heal with none open (its start came before the harness watched): an instant.
    else if (was === 0 && phase === 'heal') this.periods.push(at, at);
  }

  /** One touched at `at` (a restart): an instant. */
  touch(at: number): void {
    this.lastAt = at;
    if (this.open === 0) this.periods.push(at, at);
  }

  quietSince(from: number): boolean {
    return this.open === 0 && this.lastAt < from;
  }

  /** When the first stretch open (or touched) at any moment from `from` to `to` began (NaN: none). */
  openedDuring(from: number, to: number): number {
    for (let i = 0; i < this.periods.length; i += 2)
      if (this.periods[i]! <= to && this.periods[i + 1]! >= from) return this.periods[i]!;
    return Number.NaN;
  }

  /** When the last stretch that ended before `at` ended (-Infinity: none). */
  endedBefore(at: number): number {
    let last = Number.NEGATIVE_INFINITY;
    for (let i = 1; i < this.periods.length; i += 2)
      if (this.periods[i]! < at) last = Math.max(last, this.periods[i]!);
    return last;
  }
}

/** Where a fault touches every node (it names none). */
const everyNode = '';

/** Faults of one kind by the node they touch (`everyNode`: all of them). */
class NodeSpans {
  private readonly spans = new Map<string, Span>();

  observe(event: FaultEvent): void {
    for (const node of event.nodes ?? [everyNode]) this.span(node).observe(event.phase, event.at);
  }

  /** A restart at `at` of the nodes `event` names. */
  touch(event: FaultEvent): void {
    for (const node of event.nodes ?? [everyNode]) this.span(node).touch(event.at);
  }

  /** Whether one touching `node` (any node, when undefined) was open at any moment from `from` to `to`. */
  openDuring(from: number, to: number, node: string | undefined): boolean {
    return !Number.isNaN(this.openedDuring(from, to, node));
  }

  /** When the first one touching `node` (any node, when undefined) open from `from` to `to` began (NaN: none). */
  openedDuring(from: number, to: number, node: string | undefined): number {
    let first = Number.NaN;
    for (const [name, span] of this.spans) {
      if (node !== undefined && name !== node && name !== everyNode) continue;
      const start = span.openedDuring(from, to);
      if (Number.isNaN(first) || start < first) first = start;
    }
    return first;
  }

  /** When the last one touching `node` (any node, when undefined) that had healed before `at` healed. */
  endedBefore(at: number, node: string | undefined): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const [name, span] of this.spans)
      if (node === undefined || name === node || name === everyNode)
        last = Math.max(last, span.endedBefore(at));
    return last;
  }

  /** None touching `node` (any node, when undefined) open now, nor started or healed from `from` on. */
  quietSince(from: number, node: string | undefined): boolean {
    // A time not known (NaN: a connection never welcomed) is never quiet, as in every Span.
    if (Number.isNaN(from)) return false;
    if (node !== undefined) {
      const own = this.spans.get(node);
      const all = this.spans.get(everyNode);
      return (own === undefined || own.quietSince(from)) && (all === undefined || all.quietSince(from));
    }
    for (const span of this.spans.values()) if (!span.quietSince(from)) return false;
    return true;
  }

  /** When the last one touching `node` (any node, when undefined) started or healed. */
  lastAt(node: string | undefined): number {
    let last = Number.NEGATIVE_INFINITY;
    for (const [name, span] of this.spans)
      if (node === undefined || name === node || name === everyNode) last = Math.max(last, span.lastAt);
    return last;
  }

  private span(node: string): Span {
    let span = this.spans.get(node);
    if (span === undefined) {
      span = new Span();
      this.spans.set(node, span);
    }
    return span;
  }
}

export class FaultQuiet {
  private readonly any = new Span();
  /**
   * Faults that cut, by the node they touch: a crash, a pause, a restart, a node cut from its clients
   * names its node, and cuts only the sessions on it; a fault on clients' links names none.
   */
  private readonly cuts = new NodeSpans();
  private readonly fails = new NodeSpans();
  /**
   * Faults that slow what a node's store and bus answer: those that neither cut nor fail
   * (`redis-latency`), and those that fail them other than by refusing at once (a lossy or cut link to
   * the store times out, 2 s a request, and a request may wait on two in turn; a slow or corrupt disk
   * refuses only some).
   */
  private readonly slows = new NodeSpans();
  /** Faults that make a node's store refuse at once (`faultRefusesAtOnce`). */
  private readonly refusals = new NodeSpans();

  observe(event: FaultEvent): void {
    this.any.observe(event.phase, event.at);
    const cuts = faultCuts(event);
    const fails = faultFails(event);
    if (cuts) this.cuts.observe(event);
    else if (event.phase === 'heal' && restartAtHeal.has(event.type)) this.cuts.touch(event);
    if (fails) this.fails.observe(event);
    if (faultRefusesAtOnce(event)) this.refusals.observe(event);
    else if (!cuts) this.slows.observe(event);
  }

  /** Whether any fault, of any kind, is open now. */
  get anyOpen(): boolean {
    return this.any.open > 0;
  }

  /** When the last fault of any kind started or healed. */
  get lastAt(): number {
    return this.any.lastAt;
  }

  /**
   * When the last fault that cuts a session on `node` (any node, when undefined) started or healed (or
   * a failed store's node was restarted).
   */
  cutLastAt(node?: string): number {
    return this.cuts.lastAt(node);
  }

  /** No fault of any kind is open at `now`, and the last one started or healed `ms` or more before it. */
  healedFor(now: number, ms: number): boolean {
    return this.any.open === 0 && this.any.lastAt <= now - ms;
  }

  /** No fault of any kind is open now, and none started or healed from `from` on. */
  quietSince(from: number): boolean {
    return this.any.quietSince(from);
  }

  /**
   * Nothing could cut a request asked from `from` on, on a session on `node` (any node, when
   * undefined), or its answer: no fault that cuts it is open now, and none started or healed since. A
   * node asked then owes an answer, whatever its dependencies did.
   */
  reachableSince(from: number, node?: string): boolean {
    return this.cuts.quietSince(from, node);
  }

  /**
   * Whether a fault that cuts a session on `node` (any node, when undefined), or one that slows what its
   * store and bus answer (a slow Redis; a store link lossy or cut, whose requests time out), was open at
   * any moment from `from` to `to` (a failed store's restart: an instant).
   */
  cutOrSlowedDuring(from: number, to: number, node?: string): boolean {
    return this.cuts.openDuring(from, to, node) || this.slows.openDuring(from, to, node);
  }

  /** When the last fault that cuts a session on `node` and had healed before `at` healed (or a restart). */
  cutEndedBefore(at: number, node?: string): number {
    return this.cuts.endedBefore(at, node);
  }

  /**
   * When the first fault that makes `node`'s store refuse at once (any node's, when undefined), open at
   * any moment from `from` to `to`, began (NaN: none was).
   */
  refusingFrom(from: number, to: number, node?: string): number {
    return this.refusals.openedDuring(from, to, node);
  }

  /**
   * No fault that fails a dependency of `node` (any node's, when undefined) is open now, and none
   * started or healed from `from` on: an `unavailable` from it has nothing to explain it.
   */
  dependenciesQuietSince(from: number, node?: string): boolean {
    return this.fails.quietSince(from, node);
  }
}

/** Per device, the node its latest session is on (its `session` event's), by number: a column, not a map. */
export class SessionNodes {
  /** 1 + the node's number in `names`; 0: not known. */
  private readonly numbers = int32Column();
  private readonly names: string[] = [];

  set(device: number, node: string | undefined): void {
    let number = 0;
    if (node !== undefined) {
      number = this.names.indexOf(node) + 1;
      if (number === 0) number = this.names.push(node);
    }
    this.numbers.set(device, number);
  }

  get(device: number): string | undefined {
    const number = this.numbers.get(device);
    return number === 0 ? undefined : this.names[number - 1];
  }
}

/** A fault's start or heal, as a timeline of them keeps it. */
export type FaultMark = { at: number; start: boolean };

/**
 * The end of the first `spanMs` with no fault open that starts at `at` or later (infinite if none), of
 * `faults` (every start and heal, in time order): when something owed since `at` is due, faults delaying it.
 */
export function quietAfterFaults(faults: readonly FaultMark[], at: number, spanMs: number): number {
  let open = 0;
  let from = at;
  for (const fault of faults) {
    if (open === 0 && fault.at > from + spanMs) break;
    open += fault.start ? 1 : -1;
    if (open === 0) from = Math.max(from, fault.at);
  }
  return open === 0 ? from + spanMs : Number.POSITIVE_INFINITY;
}
