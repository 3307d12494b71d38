// When a fleet node's own bus was cut, from the harness's fault schedule, and what that binds its
// welcomes to. A node cut from the bus is told so at once (`bus-lost`: RedisBus live, the simulated bus
// here) and knows it may have missed news; protocol.md lets a fleet leave a conversation out of a
// welcome only while its nodes have not heard of the change, and a node that knows it has not heard
// holds its welcomes until it has read every record again after the bus came back (architecture.md,
// "A fleet"). That read is a store read made after the heal, so it sees every change answered before the
// heal: a welcome whose connection began after the cut began lists every conversation the user joined
// (the harness saw the create or add answered) before the cut healed and before the connection began,
// however long ago and whatever else was open. The welcoming node's own cut excuses nothing; only
// propagation does (welcome-lists' lag, for changes the node is not known to have lost).
// The cut is replayed as the simulated bus keeps it (world/bus.ts): a node already away is not cut
// again, and the first heal of any fault that cut it (a partition of the node from the bus or the
// store, a store outage) brings it back. A cut started by a store outage (which names no node) is not
// counted, so a cut here lies inside a real one and never starts before it.
// One thing a node cannot know: a catch-up it asked while cut, answered after the heal, clears it with
// a read served before the heal (the retry of a failed catch-up, or a `node-down` fed while cut). That
// answer comes after the heal only over a slow store link, so a cut while a fault slowed the node's
// link (redis-latency, a slow disk) or froze the node binds its welcomes only while it is open, and a
// change answered within `healMarginMs` of the heal is not judged by it.

import type { HistoryEventOf } from '../history.ts';

type FaultEvent = HistoryEventOf<'fault'>;

/** How close to a cut's heal a change may be answered and still be owed (a store read's own time). */
export const healMarginMs = 500;

/** Faults after which a catch-up asked during a cut may be answered after its heal. */
const slowingFaults: ReadonlySet<string> = new Set(['redis-latency', 'disk-slow', 'node-pause']);

type Cut = { start: number; heal: number };

export class BusCuts {
  /** Per node: its cuts, the last one open (heal +Infinity) while it is. */
  private readonly cuts = new Map<string, Cut[]>();
  /** Slowing faults: per node ('' for every node), [start, end] pairs (end +Infinity while open). */
  private readonly slowed = new Map<string, number[]>();

  observe(event: FaultEvent): void {
    if (slowingFaults.has(event.type)) {
      for (const node of event.nodes ?? ['']) {
        const spans = this.slowed.get(node) ?? [];
        this.slowed.set(node, spans);
        if (event.phase === 'start') spans.push(event.at, Number.POSITIVE_INFINITY);
        else {
          const open = spans.lastIndexOf(Number.POSITIVE_INFINITY);
          if (open >= 0) spans[open] = event.at;
        }
      }
      return;
    }
    const cutsBus =
      (event.type === 'partition' && (event.target === 'bus' || event.target === 'store')) ||
      event.type === 'store-outage';
    if (!cutsBus) return;
    if (event.phase === 'heal') {
      // Any heal touching the node brings its bus back (Bus.reconnect); a store outage's, every node's.
      for (const [node, cuts] of this.cuts)
        if (event.nodes === undefined || event.nodes.includes(node)) {
          const last = cuts[cuts.length - 1];
          if (last !== undefined && last.heal === Number.POSITIVE_INFINITY) last.heal = event.at;
        }
      return;
    }
    if (event.type === 'store-outage' || event.nodes === undefined) return;
    for (const node of event.nodes) {
      const cuts = this.cuts.get(node) ?? [];
      this.cuts.set(node, cuts);
      const last = cuts[cuts.length - 1];
      if (last === undefined || last.heal !== Number.POSITIVE_INFINITY)
        cuts.push({ start: event.at, heal: Number.POSITIVE_INFINITY });
    }
  }

  /**
   * Whether `node`'s welcome, seen at `at` on a connection that began at `began`, must list a conversation
   * the user joined by an answer at `since`: a cut of that node began by `began` and healed after
   * `since` (still open at `at`: the welcome came while the node knew it was behind).
   */
  binds(node: string | undefined, since: number, began: number, at: number): boolean {
    if (node === undefined || since > began) return false;
    for (const cut of this.cuts.get(node) ?? []) {
      if (cut.start > began) break;
      if (cut.heal > at) return true;
      if (since <= cut.heal - healMarginMs && !this.slowedDuring(node, cut.start, cut.heal)) return true;
    }
    return false;
  }

  private slowedDuring(node: string, from: number, to: number): boolean {
    for (const name of [node, '']) {
      const spans = this.slowed.get(name) ?? [];
      for (let i = 0; i < spans.length; i += 2) if (spans[i]! <= to && spans[i + 1]! >= from) return true;
    }
    return false;
  }
}
