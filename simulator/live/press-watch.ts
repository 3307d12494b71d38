// Live only: a press (press.ts) that a fault cut off is pressed again. The rate-limit checker can judge a
// press only once the server has acked a burst's worth of its sends; a press whose session a fault ended
// first proves nothing and is counted as cut off. On a loaded machine real acks come slowly, and the
// warm-up's press could still be cut off by the first fault (churn's drops, crash-restart's crash): the
// run then had no press to judge and the verdict was "could not judge" (a red gate with nothing wrong).
// So a presser whose press lost its session before a burst was acked presses again once its next session
// opens, up to a bound, while the workload still runs. The checker's rules are unchanged: the new press
// is judged as any press, the one cut off still counts as cut off. A press whose session ended in
// silence ('idle': the client heard nothing for its idle bound) is pressed again only when this
// generator's own loop stalled since the press (`stalledSince`): then the silence may be the starved
// client's, and the run says it was load-limited; otherwise the server went silent on a press, which the
// checker holds against it ("nothing judged") as before.

import type { HistoryEvent } from '../history.ts';

type Watched = { acks: number; pressAt: number; cut: boolean };

export class PressWatch {
  /** Pressers whose latest press is not yet judgeable. */
  private readonly watched = new Map<string, Watched>();
  /** Presses after the first, per device (kept for the run: the bound holds across presses). */
  private readonly again = new Map<string, number>();

  /**
   * `burst`: acks that make a press judgeable; `againMax`: presses after the first, per presser;
   * `pressAgain(device)`: called (from within the recording of its `session` event: the caller defers
   * the press) when a presser's new session opens after its press was cut off.
   */
  constructor(
    private readonly burst: number,
    private readonly againMax: number,
    private readonly pressAgain: (device: string) => void,
    private readonly stalledSince: (at: number) => boolean = () => false,
  ) {}

  /** Sees every event its shard records (a map lookup for most; only pressers' devices are kept). */
  observe(event: HistoryEvent): void {
    if (this.watched.size === 0 && event.k !== 'press') return;
    switch (event.k) {
      case 'press':
        this.watched.set(event.device, { acks: 0, pressAt: event.at, cut: false });
        return;
      case 'ack': {
        const w = this.watched.get(event.device);
        if (w === undefined || w.cut || event.sentAt < w.pressAt) return;
        if (++w.acks >= this.burst) this.watched.delete(event.device);
        return;
      }
      case 'session-lost': {
        const w = this.watched.get(event.device);
        if (w === undefined) return;
        const silent = event.reason === 'idle' && !this.stalledSince(w.pressAt);
        if (silent || (this.again.get(event.device) ?? 0) >= this.againMax) this.watched.delete(event.device);
        else w.cut = true;
        return;
      }
      case 'session': {
        const w = this.watched.get(event.device);
        if (w === undefined || !w.cut) return;
        this.again.set(event.device, (this.again.get(event.device) ?? 0) + 1);
        // Until the new press is recorded, the old press's resent backlog counts for nothing.
        w.cut = false;
        w.pressAt = Number.POSITIVE_INFINITY;
        this.pressAgain(event.device);
        return;
      }
    }
  }
}
