// What a run measures from its history besides the checkers' verdicts and the trace: the failed-sends
// and repeated-pushes SLO metrics and the harness metrics recorder. One code path whichever thread
// runs it: in-process it observes the history on the world's thread; with the checkers on a second
// thread (checker-thread.ts) it observes the same history there, in the same order, the recorder's
// samples taken at the same points of it, and hands its figures back at the end.

import type { MetricSource } from '../scenarios/thresholds.ts';
import { FailedSends } from './failed-sends.ts';
import type { HistoryEvent } from './history.ts';
import { RepeatedPushes } from './repeated-pushes.ts';

/** Something that reads the history and the run's clock (metrics/run-recorder.ts). */
export type HistoryObserver = {
  observe(event: HistoryEvent): void;
  tick(nowMs: number, events: number): void;
};

/** The SLO metrics measured (plain data: they cross back from the checker thread). */
export type MeterSources = { failedSends: MetricSource; repeatedPushes?: MetricSource };

export class RunMeters {
  // The SLO's failed sends leave out refusals the harness's own removals demanded.
  private readonly failedSends = new FailedSends();
  /** Kept only when a threshold asks for it (a number per device and conversation). */
  private readonly repeatedPushes: RepeatedPushes | undefined;

  constructor(
    repeatedPushes: boolean,
    private readonly recorder: HistoryObserver | undefined,
  ) {
    this.repeatedPushes = repeatedPushes ? new RepeatedPushes() : undefined;
  }

  observe(event: HistoryEvent): void {
    this.failedSends.observe(event);
    this.repeatedPushes?.observe(event);
    this.recorder?.observe(event);
  }

  tick(nowMs: number, events: number): void {
    this.recorder?.tick(nowMs, events);
  }

  sources(): MeterSources {
    const failedSends = this.failedSends.source();
    return this.repeatedPushes
      ? { failedSends, repeatedPushes: this.repeatedPushes.source() }
      : { failedSends };
  }
}
