// What the bench parent asks of a load worker and what the worker reports back, over the fork IPC
// channel. Plain JSON values: the parent splits one phase's clients across workers and merges their
// reports, histograms included.

import type { HistogramSnapshot } from './latency-histogram.ts';

export type Dialect = 'raw-echo' | 'raw-broadcast' | 'chat';

/**
 * One connection: `id` names it (the user id for chat); `room` and `conv`/`token` per dialect; `url`
 * when it connects elsewhere than the plan's (a node of a fleet).
 */
export type ClientSpec = { id: string; room?: string; conv?: string; token?: string; url?: string };

export type LoadPlan = {
  dialect: Dialect;
  /** ws:// base URL; the dialect adds its path or query. */
  url: string;
  clients: ClientSpec[];
  windowMax: number;
  /** Open model: sends per second per connection. Null: closed model, a send whenever a slot frees. */
  ratePerConnPerSec: number | null;
  warmupMs: number;
  measureMs: number;
  bodyBytes: number;
};

export type LoadReport = {
  connections: number;
  /** Counted only inside the measured window. */
  measuredMs: number;
  /** CPU this worker used during the measured window. */
  cpuMs: number;
  sent: number;
  completed: number;
  deliveries: number;
  latency: HistogramSnapshot;
  /** Error frames by code (chat only); their sends are abandoned, not retried. */
  errors: Record<string, number>;
  /** Connections the server closed before the end, by close code. */
  closes: Record<string, number>;
  /** Sends still unanswered when the drain period after the window ran out. */
  unansweredAtEnd: number;
};

export type ToWorker = { type: 'plan'; plan: LoadPlan } | { type: 'start' };

export type FromWorker =
  | { type: 'ready'; connections: number }
  | { type: 'report'; report: LoadReport }
  | { type: 'failed'; message: string };
