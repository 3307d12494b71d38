// The "on every later change" half of presence-changes, judged by time: when a watched user's
// presence, as the harness's own sessions make it (online while any device has a session), changes
// and then holds still past a deadline, every device that watched the user through the change must
// have been told the new state by the time it changes again (or the run ends), or the server kept
// silent about a change (protocol.md `watch`: "one on every later change"). Silence is judged, not
// only wrong frames; a frame that is merely late (an overloaded server) passes if it came while the
// state held.
// The deadline is when the server can know at the latest: a session the harness opened is known at
// once; one the client closed, or the server closed, within the answer bound; one a node crash reset,
// once the fleet takes the dead node for dead (`nodeDeadWithinMs`); one the client gave up on
// ('idle'), only after the server's own heartbeats time out. A change is not judged across any fault
// but a node crash, nor within the heartbeat bound after one (a partition or a slow link holds frames
// back, a paused node is taken for dead while its sessions are open, a connection the client gave up
// on may still be open at the server), nor once the state changed again before the deadline.
// State by the run's dense ids: per user and per (watcher device, user) slot of presence-changes'
// SlotTable, in columns.

import { float64Column, int32Column, uint8Column } from './column.ts';

export type PresenceDeadlineOptions = {
  /** Frames and bus events arrive within this (ms). */
  answerWithinMs: number;
  /** The server notices a connection the client gave up on within this (ms; heartbeats). */
  deadConnectionWithinMs: number;
  /** A fleet takes a crashed node for dead, and forgets its presence, within this (ms). */
  nodeDeadWithinMs: number;
};

/** What presence-changes keeps and this reads: its slots of (watcher device, user) and sessions. */
export type PresenceViews = {
  /** The watcher device of a slot. */
  deviceOf(slot: number): number;
  /** When the device's current session opened. */
  sessionOf(device: number): number;
  /** The slot's last frame: what it said and in which session (undefined: no frame yet). */
  lastFrame(slot: number): { online: boolean; session: number } | undefined;
  /** Whether a fault other than a node crash overlapped [from, until]. */
  faultIn(from: number, until: number): boolean;
};

export type MissedChange = {
  slot: number;
  user: number;
  online: boolean;
  changedAt: number;
  deadline: number;
  /** When the state changed again, or the run ended: the frame had not come by then. */
  heldUntil: number;
};

export class PresenceDeadlines {
  /** Per user: the server may not know of its sessions' ends before this. */
  private readonly knownBy = float64Column();
  /** Per user: its latest change, judged when the next one comes or the run ends (NaN: none). */
  private readonly changedAt = float64Column(Number.NaN);
  private readonly changedTo = uint8Column();
  private readonly deadline = float64Column();
  private readonly changed: number[] = [];
  /** Per slot: when the watcher asked (in its current session; +Infinity: not watching now). */
  private readonly askedAt = float64Column(Number.POSITIVE_INFINITY);
  /** Per slot: the last frames of the watcher's session that said online, and offline. */
  private readonly onlineAt = float64Column(Number.NEGATIVE_INFINITY);
  private readonly offlineAt = float64Column(Number.NEGATIVE_INFINITY);
  /**
   * Per user: the slots that ever watched it, in the order they first asked: the first in a column (-1:
   * none), any after it in a map. Most users have one watcher: an array each was ~35 MiB at a million.
   */
  private readonly firstSlotOf = int32Column(-1);
  private readonly moreSlotsOf = new Map<number, number[]>();
  private readonly listed = uint8Column();
  /** (watcher, change) pairs judged so far. */
  judged = 0;

  constructor(
    private readonly options: PresenceDeadlineOptions,
    private readonly views: PresenceViews,
    private readonly missed: (miss: MissedChange) => void,
  ) {}

  /** A session of `user` ended (`reason` as in history's session-lost), before its count drops. */
  lost(user: number, reason: string, at: number): void {
    const bound =
      reason === 'idle'
        ? this.options.deadConnectionWithinMs
        : reason === 'reset'
          ? this.options.nodeDeadWithinMs
          : this.options.answerWithinMs;
    this.knownBy.set(user, Math.max(this.knownBy.get(user), at + bound));
  }

  /** `user`'s presence, as the harness's sessions make it, changed to `online`. */
  change(user: number, online: boolean, at: number): void {
    if (!Number.isNaN(this.changedAt.get(user))) this.judge(user, at);
    else this.changed.push(user);
    this.changedAt.set(user, at);
    this.changedTo.set(user, online ? 1 : 0);
    const answer = at + this.options.answerWithinMs;
    this.deadline.set(user, online ? answer : Math.max(answer, this.knownBy.get(user)));
  }

  /** The slot's device asked to watch its user. */
  asked(slot: number, user: number, at: number): void {
    if (this.askedAt.get(slot) === Number.POSITIVE_INFINITY) this.askedAt.set(slot, at);
    if (this.listed.get(slot) === 1) return;
    this.listed.set(slot, 1);
    if (this.firstSlotOf.get(user) < 0) {
      this.firstSlotOf.set(user, slot);
      return;
    }
    const more = this.moreSlotsOf.get(user);
    // Exactly sized: push would grow a full array to 17 slots, and most users have one or two watchers.
    this.moreSlotsOf.set(user, more === undefined ? [slot] : more.concat(slot));
  }

  /** The slot's device no longer watches (its session ended, or it sent a new watch). */
  unasked(slot: number): void {
    if (slot >= 0) this.askedAt.set(slot, Number.POSITIVE_INFINITY);
  }

  /** A presence frame arrived on the slot; `sameSession`: in the session of the slot's last one. */
  shown(slot: number, online: boolean, at: number, sameSession: boolean): void {
    if (!sameSession) {
      this.onlineAt.set(slot, Number.NEGATIVE_INFINITY);
      this.offlineAt.set(slot, Number.NEGATIVE_INFINITY);
    }
    (online ? this.onlineAt : this.offlineAt).set(slot, at);
  }

  /** The run ended at `at`: judges every change that held until then. */
  end(at: number): void {
    for (const user of this.changed) this.judge(user, at);
    this.changed.length = 0;
  }

  /** `user`'s latest change held until `until` (the next change, or the end): judged if past its deadline. */
  private judge(user: number, until: number): void {
    const changedAt = this.changedAt.get(user);
    const deadline = this.deadline.get(user);
    if (until < deadline) return;
    // After a network fault the server may still hold connections a client gave up on, even ones
    // the harness never saw open (a welcome lost on the way): as long as its heartbeats allow.
    if (this.views.faultIn(changedAt - this.options.deadConnectionWithinMs, until)) return;
    const online = this.changedTo.get(user) === 1;
    const first = this.firstSlotOf.get(user);
    if (first < 0) return;
    const more = this.moreSlotsOf.get(user);
    for (let i = -1; i < (more?.length ?? 0); i++) {
      const slot = i < 0 ? first : more![i]!;
      // Watched through the change: asked before it, in a session that has lasted since.
      if (this.askedAt.get(slot) > changedAt) continue;
      const frame = this.views.lastFrame(slot);
      // A watch never answered is not this check's business (the watch itself is judged elsewhere).
      if (frame === undefined || frame.session !== this.views.sessionOf(this.views.deviceOf(slot))) continue;
      this.judged++;
      // Told if the watcher shows the state now, or a frame said so while the state held (the next
      // change may already be on screen: the server learns of a session a little before the harness,
      // which sees it only when the welcome arrives), with slack for the server learning of this one
      // early too (a connection it closed).
      const toldAt = (online ? this.onlineAt : this.offlineAt).get(slot);
      if (frame.online !== online && toldAt < changedAt - this.options.answerWithinMs)
        this.missed({ slot, user, online, changedAt, deadline, heldUntil: until });
    }
  }
}
