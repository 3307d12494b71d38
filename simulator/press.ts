// Senders who press past their burst, then slow down (issue #7): the workload that exercises a server's
// per-user send limit. In the warm-up a presser sends once (its bucket exists and has time to fill),
// then issues half a burst more than the burst in one instant, and once the backlog has drained sends
// at four fifths of the rate until the warm-up ends, less what the user's own workload sends: a user
// whose devices already send 40/s (a capacity sweep of 200 clients at 4,000 msgs/s) slows down to
// what is left under the limit, or not at all, and is not judged "never served again" for going over
// it (the presser's user offered 80/s against 50/s, 14:58 UTC). A correct server refuses part of the press with
// `rate_limited` and a short retryAfterMs, serves the rest as the client honours it, and serves every
// slowed-down send; the rate-limit checker judges it. Both drivers (simulator and live) run this plan.

import type { Scenario } from '../scenarios/scenario.ts';
import { partnerOf } from './behaviours.ts';
import { protocolSendLimits } from './checkers/limits.ts';
import type { Prng } from './kernel/prng.ts';

/**
 * `workload.firstPress`: the pressers dial at 0 and press at `pressAtMs` with no send before; every other
 * client dials from `othersFromMs` on, so its first frame reaches the node after the presser's first
 * sends (a client's frames take at least the link's latency): the presser is the first user the node
 * serves, whose bucket is the node's first (4a1ec6e seed-4 mutant 586 gave that user a burst
 * of 101).
 */
export const firstPressPlan = { pressAtMs: 200, othersFromMs: 300 };

/** One step of a presser: `count` sends to `conv` by device `index` at `at`; `press` marks the burst. */
export type PressStep = { at: number; index: number; conv: string; count: number; press: boolean };

/** The send limits the scenario configures on the server (protocol defaults where it says nothing). */
export function sendLimitsOf(scenario: Scenario): { burst: number; perSec: number } {
  return {
    burst: scenario.limits.userSendBurst ?? protocolSendLimits.burst,
    perSec: scenario.limits.userSendsPerSec ?? protocolSendLimits.perSec,
  };
}

/**
 * The steps of `scenario.workload.pressers` pressers, picked among `candidates` (device indexes, one per
 * user) that have a direct conversation (membership churn never removes anyone from those). A scenario
 * with no direct conversations and no membership churn (`million`) presses into a group instead.
 */
export function pressPlan(
  scenario: Scenario,
  candidates: readonly number[],
  convsOf: (index: number) => readonly string[],
  userOf: (index: number) => string,
  rng: Prng,
  warmupMs = scenario.phases.warmupMs,
): PressStep[] {
  const wanted = scenario.workload.pressers;
  if (wanted <= 0) return [];
  const { burst, perSec } = sendLimitsOf(scenario);
  const steps: PressStep[] = [];
  const users = new Set<string>();
  const pressed: { index: number; conv: string }[] = [];
  const directOf = (index: number): string | undefined => {
    const user = userOf(index);
    return convsOf(index).find((c) => partnerOf(c, user) !== null);
  };
  if (candidates.some((index) => directOf(index) !== undefined)) {
    const pool = [...candidates];
    while (users.size < wanted && pool.length > 0) {
      const index = pool.splice(rng.int(pool.length), 1)[0]!;
      const user = userOf(index);
      const conv = directOf(index);
      if (conv === undefined || users.has(user)) continue;
      users.add(user);
      pressed.push({ index, conv });
    }
  } else if (scenario.workload.membershipChangesPerMin <= 0) {
    // No direct conversations (and so no quadratic walk over every candidate for one): any member of a
    // group, as no one leaves a group during the run.
    for (let tries = 0; users.size < wanted && tries < 4 * wanted + 16; tries++) {
      const index = candidates[rng.int(candidates.length)]!;
      const conv = convsOf(index)[0];
      if (conv === undefined || users.has(userOf(index))) continue;
      users.add(userOf(index));
      pressed.push({ index, conv });
    }
  }
  // The user's workload, at its peak, beside the press (msgs/s): its devices send too.
  const { ratePer1kClients, stages } = scenario.workload;
  const peak = Math.max(1, ...(stages ?? []).map((stage) => stage.target));
  const workloadPerSec = (ratePer1kClients / 1000) * scenario.clients.devicesPerUser * peak;
  // Four fifths of the rate, with twice the workload's rate to spare (its arrivals come in bursts).
  const slowPerSec = Math.min(perSec * 0.8, perSec - 2 * workloadPerSec);
  // A crowded user drains the press's backlog with what its workload leaves of the rate.
  const drainPerSec = slowPerSec < perSec * 0.8 ? perSec - workloadPerSec : perSec;
  for (const { index, conv } of pressed) {
    // All in the warm-up, before any fault: a backlog caught in a store outage starves (correctly).
    const first = scenario.workload.firstPress;
    const pressAt = first ? firstPressPlan.pressAtMs : Math.floor(warmupMs * 0.3);
    const count = burst + Math.ceil(burst / 2);
    if (!first) steps.push({ at: Math.floor(warmupMs * 0.1), index, conv, count: 1, press: false });
    steps.push({ at: pressAt, index, conv, count, press: true });
    if (slowPerSec <= 0 || drainPerSec <= 0) continue;
    // Slow down once the backlog has drained: what is left of 4/5 of the rate until the warm-up ends.
    const from = pressAt + ((count - burst) * 1000) / drainPerSec + 300;
    const everyMs = 1000 / slowPerSec;
    for (let at = from; at < warmupMs * 0.95; at += everyMs)
      steps.push({ at: Math.floor(at), index, conv, count: 1, press: false });
  }
  return steps.sort((a, b) => a.at - b.at);
}
