// Who could read what, as the run goes: membership spans per (conv, user) built from `conv` and
// `members` events, for checkers that judge an event against the membership in force when it happened.
// A span is `from`..`to` seqs inclusive (protocol.md guarantee 6; MembershipSpan in the store port):
// `from` is lastSeq at the join plus one, `to` lastSeq at the removal, open while still a member.
// It relies on the world emitting a `members` event before anything sequenced after the change.

import type { HistoryEvent } from '../history.ts';
import { float64Column, int32Column } from './column.ts';
import type { IdTable } from './id-table.ts';
import { SlotTable } from './slot-table.ts';

const open = -1;

export class SpanBook {
  private readonly slots = new SlotTable();
  /** The first span of each (conv, user); 0 in `firstFrom` means the user never joined. */
  private readonly firstFrom = int32Column(0);
  private readonly firstTo = int32Column(open);
  /** Spans after the first, flat [from, to, from, to, ...]; rare (re-added members). */
  private readonly laterSpans = new Map<number, number[]>();
  private readonly removedAt = float64Column(Number.NaN);

  constructor(private readonly ids: IdTable) {}

  /** Applies `conv` and `members` events; ignores the rest. */
  observe(event: HistoryEvent): void {
    if (event.k === 'conv') {
      const conv = this.ids.conv(event.conv);
      for (const user of event.members) this.join(conv, this.ids.user(user), 0);
    } else if (event.k === 'members') {
      const conv = this.ids.conv(event.conv);
      for (const user of event.add) this.join(conv, this.ids.user(user), event.atSeq);
      for (const user of event.remove) this.leave(conv, this.ids.user(user), event.atSeq, event.at);
    }
  }

  /** Whether seq is in one of the user's spans. */
  canRead(conv: number, user: number, seq: number): boolean {
    return this.readableIn(conv, user, seq, seq);
  }

  /** Whether any seq in lo..hi (inclusive) is in one of the user's spans. */
  readableIn(conv: number, user: number, lo: number, hi: number): boolean {
    if (lo > hi) return false;
    const slot = this.slots.find(conv, user);
    if (slot < 0) return false;
    if (overlaps(this.firstFrom.get(slot), this.firstTo.get(slot), lo, hi)) return true;
    const later = this.laterSpans.get(slot);
    if (later === undefined) return false;
    for (let i = 0; i < later.length; i += 2) {
      if (overlaps(later[i]!, later[i + 1]!, lo, hi)) return true;
    }
    return false;
  }

  /** Whether the user is a member now, or stopped being one no earlier than `graceMs` before `at`. */
  isMember(conv: number, user: number, at: number, graceMs = 0): boolean {
    const slot = this.slots.find(conv, user);
    if (slot < 0) return false;
    if (this.lastTo(slot) === open && this.firstFrom.get(slot) !== 0) return true;
    const removed = this.removedAt.get(slot);
    return !Number.isNaN(removed) && removed >= at - graceMs;
  }

  private join(conv: number, user: number, atSeq: number): void {
    const slot = this.slots.intern(conv, user);
    if (this.firstFrom.get(slot) === 0) {
      this.firstFrom.set(slot, atSeq + 1);
      this.firstTo.set(slot, open);
      return;
    }
    if (this.lastTo(slot) === open) return;
    const later = this.laterSpans.get(slot) ?? [];
    later.push(atSeq + 1, open);
    this.laterSpans.set(slot, later);
  }

  private leave(conv: number, user: number, atSeq: number, at: number): void {
    const slot = this.slots.find(conv, user);
    if (slot < 0 || this.firstFrom.get(slot) === 0 || this.lastTo(slot) !== open) return;
    const later = this.laterSpans.get(slot);
    if (later === undefined) this.firstTo.set(slot, atSeq);
    else later[later.length - 1] = atSeq;
    this.removedAt.set(slot, at);
  }

  private lastTo(slot: number): number {
    const later = this.laterSpans.get(slot);
    return later === undefined ? this.firstTo.get(slot) : later[later.length - 1]!;
  }
}

function overlaps(from: number, to: number, lo: number, hi: number): boolean {
  if (from === 0) return false;
  return from <= hi && (to === open || to >= lo);
}
