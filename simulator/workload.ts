// Open-model workload executors (k6's constant-arrival-rate and ramping-arrival-rate): sends arrive
// on a Poisson schedule of their own, whatever the server does, and each send's latency is measured
// from its scheduled time, so a slow server cannot hide behind a waiting generator.

import { protocolLimits } from '../reference-server/protocol/limits.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { hashString, type Prng } from './kernel/prng.ts';

export type Arrivals = {
  /** The time of the next arrival after `now`, or null when the workload has ended. */
  next(now: number): number | null;
};

/** Messages per virtual ms at time `t` (ms since the run began). */
function rateAt(scenario: Scenario, clients: number, t: number): number {
  const base = (scenario.workload.ratePer1kClients * clients) / 1e6;
  if (scenario.workload.executor === 'constant-arrival-rate') return base;
  let start = 0;
  let from = 0;
  for (const stage of scenario.workload.stages ?? []) {
    if (t < start + stage.durationMs)
      return base * (from + ((stage.target - from) * (t - start)) / stage.durationMs);
    start += stage.durationMs;
    from = stage.target;
  }
  return base * from;
}

export function arrivals(scenario: Scenario, clients: number, rng: Prng, endMs: number): Arrivals {
  const base = (scenario.workload.ratePer1kClients * clients) / 1e6;
  const peak = base * Math.max(1, ...(scenario.workload.stages ?? []).map((stage) => stage.target));
  return {
    next(now: number): number | null {
      // Thinning keeps ramping rates exact: draw at the peak rate, keep with probability rate/peak.
      if (peak <= 0) return null;
      let t = now;
      for (;;) {
        t += rng.exponential(1 / peak);
        if (t >= endMs) return null;
        if (rng.float() * peak <= rateAt(scenario, clients, t)) return t;
      }
    },
  };
}

/** A body of the scenario's size that names its sender and number, so every body is distinct. */
export function messageBody(device: string, n: number, bytes: number, largeShare = 0): string {
  return paddedBody(`${device}#${n}`, bytes, largeShare);
}

/**
 * `head` padded to `bytes`; or, for a share `largeShare` of heads (by their hash: no random draw, so
 * the streams of a run without large bodies are untouched), padded to the protocol's largest body.
 */
export function paddedBody(head: string, bytes: number, largeShare: number): string {
  if (largeShare > 0 && hashString(head) / 2 ** 32 < largeShare) return largestBody(head);
  return head.length >= bytes ? head : head + '.'.repeat(bytes - head.length);
}

/** Characters of 2 to 4 UTF-8 bytes, and characters JSON escapes (quote, backslash, newline, a control). */
const awkward = ['é', '"', '✓', '\\', '😀', '\n', '\u0001'];

/**
 * Exactly the protocol's largest body in UTF-8 bytes, far longer as JSON: a stored record then
 * outgrows a store's small reads (the log reads 4 KiB past a record's offset).
 */
function largestBody(head: string): string {
  const max = protocolLimits.bodyBytesMax;
  let body = head;
  let size = Buffer.byteLength(head);
  for (let i = 0; ; i++) {
    const next = awkward[i % awkward.length]!;
    const bytes = Buffer.byteLength(next);
    if (size + bytes > max) break;
    body += next;
    size += bytes;
  }
  return body + '.'.repeat(max - size);
}
