// Who could read what, as the run goes: membership spans per (conv, user) built from `conv` and
// `members` events, for checkers that judge an event against the membership in force when it happened.
// A span is `from`..`to` seqs inclusive (protocol.md guarantee 6; MembershipSpan in the store port):
// `from` is lastSeq at the join plus one, `to` lastSeq at the removal, open while still a member.
// The stream may learn of a change a little after it took effect, so a checker re-judges what this
// book calls unauthorized against FinalState (seqs) or a later join (`joinedWithin`) before failing.

import type { HistoryEvent } from '../history.ts';
import { float64Column, int32Column } from './column.ts';
import type { IdTable } from './id-table.ts';
import { SlotTable } from './slot-table.ts';

const open = -1;
/** Fields per span in `laterSpans`: from, to, joinedAt, removedAt. */
const stride = 4;

export class SpanBook {
  private readonly slots = new SlotTable();
  /** The first span of each (conv, user); 0 in `firstFrom` means the user never joined. */
  private readonly firstFrom = int32Column(0);
  private readonly firstTo = int32Column(open);
  private readonly firstJoinedAt = float64Column(0);
  private readonly firstRemovedAt = float64Column(Number.NaN);
  /** Spans after the first, flat [from, to, joinedAt, removedAt, ...]; rare (re-added members). */
  private readonly laterSpans = new Map<number, number[]>();

  constructor(private readonly ids: IdTable) {}

  /** Applies `conv` and `members` events; ignores the rest. */
  observe(event: HistoryEvent): void {
    if (event.k === 'conv') {
      const conv = this.ids.conv(event.conv);
      for (const user of event.members) this.join(conv, this.ids.user(user), 0, event.at);
    } else if (event.k === 'members') {
      const conv = this.ids.conv(event.conv);
      for (const user of event.add) this.join(conv, this.ids.user(user), event.atSeq, event.at);
      for (const user of event.remove) this.leave(conv, this.ids.user(user), event.atSeq, event.at);
    }
  }

  /** Whether seq is in one of the user's spans. */
  canRead(conv: number, user: number, seq: number): boolean {
    const slot = this.slots.find(conv, user);
    if (slot < 0 || this.firstFrom.get(slot) === 0) return false;
    if (covers(this.firstFrom.get(slot), this.firstTo.get(slot), seq)) return true;
    const later = this.laterSpans.get(slot);
    for (let i = 0; later !== undefined && i < later.length; i += stride) {
      if (covers(later[i]!, later[i + 1]!, seq)) return true;
    }
    return false;
  }

  /** Whether the user is a member now, or stopped being one no earlier than `graceMs` before `at`. */
  isMember(conv: number, user: number, at: number, graceMs = 0): boolean {
    const slot = this.slots.find(conv, user);
    if (slot < 0 || this.firstFrom.get(slot) === 0) return false;
    const later = this.laterSpans.get(slot);
    if (later === undefined) {
      return this.firstTo.get(slot) === open || this.firstRemovedAt.get(slot) >= at - graceMs;
    }
    return later[later.length - stride + 1] === open || later[later.length - stride + 3]! >= at - graceMs;
  }

  /** Whether the user joined (or re-joined) the conv at a time within lo..hi. */
  joinedWithin(conv: number, user: number, lo: number, hi: number): boolean {
    return this.someSpan(conv, user, (_from, _to, joinedAt) => joinedAt >= lo && joinedAt <= hi);
  }

  /** When the user was last removed from the conv, or NaN if never. */
  lastRemovedAt(conv: number, user: number): number {
    const slot = this.slots.find(conv, user);
    if (slot < 0) return Number.NaN;
    const later = this.laterSpans.get(slot);
    return later === undefined ? this.firstRemovedAt.get(slot) : later[later.length - stride + 3]!;
  }

  private someSpan(
    conv: number,
    user: number,
    test: (from: number, to: number, joinedAt: number, removedAt: number) => boolean,
  ): boolean {
    const slot = this.slots.find(conv, user);
    if (slot < 0 || this.firstFrom.get(slot) === 0) return false;
    const first = test(
      this.firstFrom.get(slot),
      this.firstTo.get(slot),
      this.firstJoinedAt.get(slot),
      this.firstRemovedAt.get(slot),
    );
    if (first) return true;
    const later = this.laterSpans.get(slot) ?? [];
    for (let i = 0; i < later.length; i += stride) {
      if (test(later[i]!, later[i + 1]!, later[i + 2]!, later[i + 3]!)) return true;
    }
    return false;
  }

  private join(conv: number, user: number, atSeq: number, at: number): void {
    const slot = this.slots.intern(conv, user);
    if (this.firstFrom.get(slot) === 0) {
      this.firstFrom.set(slot, atSeq + 1);
      this.firstJoinedAt.set(slot, at);
      return;
    }
    const later = this.laterSpans.get(slot);
    const lastTo = later === undefined ? this.firstTo.get(slot) : later[later.length - stride + 1]!;
    if (lastTo === open) return;
    this.laterSpans.set(slot, [...(later ?? []), atSeq + 1, open, at, Number.NaN]);
  }

  private leave(conv: number, user: number, atSeq: number, at: number): void {
    const slot = this.slots.find(conv, user);
    if (slot < 0 || this.firstFrom.get(slot) === 0) return;
    const later = this.laterSpans.get(slot);
    if (later === undefined) {
      if (this.firstTo.get(slot) !== open) return;
      this.firstTo.set(slot, atSeq);
      this.firstRemovedAt.set(slot, at);
    } else if (later[later.length - stride + 1] === open) {
      later[later.length - stride + 1] = atSeq;
      later[later.length - stride + 3] = at;
    }
  }
}

function covers(from: number, to: number, seq: number): boolean {
  return from <= seq && (to === open || to >= seq);
}
