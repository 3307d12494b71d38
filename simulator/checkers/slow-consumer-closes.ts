// A slow consumer is closed 4509 (protocol.md: a connection's unsent data past its bound, 4 MiB by
// default, "beyond which the connection is closed with 4509"). Judged by server-frames, the checker of
// what protocol.md's close codes mean. What passed the bound comes from the harness, not the server:
// the simulated network holds each connection's queue toward its client (the node's send buffer) and
// records a `send-buffer` event when it passes the bound the scenario set the nodes, and how that ends.
// An episode over the bound is owed, within `closeWithinMs`, the node's close 4509, even if the queue
// drains back meanwhile: the node hears of every write that passes the bound (`backpressure`, with the
// bytes then queued) at that instant, and a queue over it by one frame drains back within that frame's
// transmission, so "drained first" would excuse every server that never closes (mutant 474 passed so);
// a connection that ended some other way (the client closed it, a fault cut or reset it) owes nothing,
// nor does one whose node a fault may have held up meanwhile (any fault but those that only slow
// client links: a paused or crashed node answers its backpressure late or never). With a cost model the
// node's speed is part of the run: an episode is owed its end by the run's end only.
// The other way round, a 4509 is owed only past the bound: a session closed 4509 whose connection's
// queue never passed it (protocol.md's 4 MiB by default, or the bound the scenario set; the harness's
// own figure, simulator/world/world.ts) was closed for nothing (mutant 1913 of the 3c0f288 sample, seed
// 3: a default bound of 4 bytes, which every client link with a frame queued passes).
// Live, the harness cannot see a server's socket buffer (Toxiproxy's bandwidth toxic slows the link
// beyond the server's socket), so it records no `send-buffer` event and nothing here is judged.

import type { HistoryEvent, HistoryEventOf, HistoryKind } from '../history.ts';

/** The kinds of event `SlowConsumerCloses.observe` reads: a checker that feeds it declares them too. */
export const slowConsumerClosesKinds = [
  'send-buffer',
  'fault',
  'session-lost',
] as const satisfies readonly HistoryKind[];

/** Faults that only slow client links: a node under them still hears of its buffers and acts at once. */
const linkOnlyFaults: ReadonlySet<string> = new Set(['slow-consumer', 'bandwidth', 'latency']);

type Over = HistoryEventOf<'send-buffer'>;

/** An episode over the bound that was not ended as owed: when it passed, and what came of it (null: nothing). */
export type LateClose = { over: Over; end: Over | null; closeWithinMs: number };

/** A session closed 4509 though its connection's queue never passed the bound. */
export type EarlyClose = HistoryEventOf<'session-lost'>;

export class SlowConsumerCloses {
  /** Per device (`user/device`), its connection's episode over the bound still open. */
  private readonly open = new Map<string, Over>();
  /** Devices whose queue passed the bound since their last session ended: a 4509 may come. */
  private readonly passed = new Set<string>();
  /** Faults that may hold up a node: [start, heal] (heal Infinity while open), in start order. */
  private readonly holds: { type: string; from: number; to: number }[] = [];
  private slowConsumerFaults = 0;
  /** Episodes over the bound, and what came of them (`drained`: back to the bound before that, no verdict). */
  episodes = 0;
  closed = 0;
  drained = 0;
  endedOtherwise = 0;
  excused = 0;
  /** Still over the bound when the run ended, before their deadline. */
  unresolved = 0;
  late = 0;
  /** Sessions closed 4509 under the bound (judged only with `convictEarly`). */
  early = 0;

  constructor(
    /** Within how long after passing the bound the close is owed (Infinity: by the run's end). */
    private readonly closeWithinMs: number,
    private readonly convict: (late: LateClose) => void,
    /** Judges a 4509 under the bound: only where every queue is seen (the simulator), else left out. */
    private readonly convictEarly?: (early: EarlyClose) => void,
  ) {}

  /** Whether a slow-consumer fault started in the run. */
  get faulted(): boolean {
    return this.slowConsumerFaults > 0;
  }

  /** Episodes whose close was judged: closed 4509 in time, or not. */
  get judged(): number {
    return this.closed + this.late;
  }

  observe(event: HistoryEvent): void {
    if (event.k === 'fault') return this.fault(event);
    if (event.k === 'session-lost') return this.sessionLost(event);
    if (event.k !== 'send-buffer') return;
    const key = `${event.user}/${event.device}`;
    if (event.state === 'over') {
      this.passed.add(key);
      // Over again after draining back: the first time it passed the bound is when the close was owed.
      if (this.open.has(key)) return;
      this.open.set(key, event);
      this.episodes++;
      return;
    }
    const over = this.open.get(key);
    if (over === undefined) return;
    // Back to the bound: the close is still owed (see above).
    if (event.state === 'under') {
      this.drained++;
      return;
    }
    this.open.delete(key);
    this.settle(over, event, event.at);
  }

  /** A session ended: closed 4509 with its queue never past the bound, it was closed for nothing. */
  private sessionLost(event: EarlyClose): void {
    const key = `${event.user}/${event.device}`;
    if (event.reason === '4509' && !this.passed.has(key) && this.convictEarly !== undefined) {
      this.early++;
      this.convictEarly(event);
    }
    this.passed.delete(key);
  }

  /** The run ended at `at`: episodes still open are judged. */
  finish(at: number): void {
    for (const over of this.open.values()) {
      if (at < over.at + this.closeWithinMs) this.unresolved++;
      else this.settle(over, null, at);
    }
    this.open.clear();
  }

  private fault(event: HistoryEventOf<'fault'>): void {
    if (event.type === 'slow-consumer' && event.phase === 'start') this.slowConsumerFaults++;
    if (linkOnlyFaults.has(event.type)) return;
    if (event.phase === 'start') {
      this.holds.push({ type: event.type, from: event.at, to: Number.POSITIVE_INFINITY });
      return;
    }
    const hold = this.holds.find((h) => h.type === event.type && h.to === Number.POSITIVE_INFINITY);
    if (hold !== undefined) hold.to = event.at;
  }

  /** Whether a fault that may hold up a node was open at some moment from `from` to `to`. */
  private heldDuring(from: number, to: number): boolean {
    return this.holds.some((hold) => hold.from <= to && hold.to >= from);
  }

  /** The episode that passed the bound with `over` ended with `end` (null: none seen) by `at`. */
  private settle(over: Over, end: Over | null, at: number): void {
    const deadline = over.at + this.closeWithinMs;
    const inTime = end !== null && end.at <= deadline;
    if (inTime && end.state === 'closed' && end.code === 4509) {
      this.closed++;
      return;
    }
    if (inTime && end.state === 'ended') {
      this.endedOtherwise++;
      return;
    }
    if (this.heldDuring(over.at, Math.min(at, deadline))) {
      this.excused++;
      return;
    }
    // Closed in time with another code (a drain's 1012, say): it ended, but not as a slow consumer.
    if (inTime) {
      this.endedOtherwise++;
      return;
    }
    this.late++;
    this.convict({ over, end, closeWithinMs: this.closeWithinMs });
  }
}
