// How many sessions a live run held at once, from the history the harness saw (issue #11: "100,000
// live connections held 60 s with traffic"): a `session` event opens one (a welcome came), a
// `session-lost` ends it. Sockets counted on the nodes include attempts that never got a welcome; this
// counts only sessions a client could use. Events reach it in time order (the driver merges them).

import type { HistoryEvent } from '../simulator/history.ts';

export type HeldFigures = {
  /** Sessions open when the window began (null: the run never reached it). */
  atStartOfWindow: number | null;
  /** The fewest open at once within [fromMs, toMs), and when (null: the run never reached it). */
  minInWindow: number | null;
  minAtMs: number | null;
  /** The most open at once over the whole run, and when. */
  max: number;
  maxAtMs: number;
};

export class HeldSessions {
  private open = 0;
  private max = 0;
  private maxAtMs = 0;
  private atStart: number | null = null;
  private min: number | null = null;
  private minAtMs: number | null = null;

  /** `[fromMs, toMs)`: the window judged (a run's held phase), in run time. */
  constructor(
    private readonly fromMs: number,
    private readonly toMs: number,
  ) {}

  observe(event: HistoryEvent): void {
    if (event.k !== 'session' && event.k !== 'session-lost') {
      // Any event the run recorded at or after the window's start shows the run reached it.
      this.enter(event.at);
      return;
    }
    // The level just before this event held from the window's start up to it.
    this.enter(event.at);
    this.open += event.k === 'session' ? 1 : -1;
    if (this.open > this.max) {
      this.max = this.open;
      this.maxAtMs = event.at;
    }
    if (event.at >= this.fromMs && event.at < this.toMs) this.lower(event.at);
  }

  /** A window with no session event in it held the level it began with. */
  figures(): HeldFigures {
    return {
      atStartOfWindow: this.atStart,
      minInWindow: this.min,
      minAtMs: this.minAtMs,
      max: this.max,
      maxAtMs: this.maxAtMs,
    };
  }

  private enter(atMs: number): void {
    if (this.atStart !== null || atMs < this.fromMs) return;
    this.atStart = this.open;
    this.lower(this.fromMs);
  }

  private lower(atMs: number): void {
    if (this.min === null || this.open < this.min) {
      this.min = this.open;
      this.minAtMs = atMs;
    }
  }
}
