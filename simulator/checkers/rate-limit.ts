// Judges the per-user send limit (protocol.md: `rate_limited` "comes with retryAfterMs"; R sends per
// second per user with bursts of B), from what the harness saw: its presses, acks and refusals.
// - A refusal carries a retryAfterMs in [1, 1/R s]: a bucket refilling R tokens a second never needs
//   longer than that for the next one.
// - Over the limit is refused: from a press on, a device is never served more than B + R*t sends in t
//   (simulator: t is the acks' span less the network's round-trip floor, with no slack, so a node that
//   gives one send too many in a burst fails; live: the acks' span, plus one send).
// - Within the limit is served: a token bucket that accepted fewer than B sends in the last B/R seconds
//   still holds a token, so a refusal then is a violation. Judged only in quiet windows (no fault, none
//   of the user's sessions lost), where every accept is acked within `answerWithinMs`.
// - A user who slowed down is served again: no send gives up after repeated `rate_limited` unless the
//   server acked a burst's worth of the user's sends around it (the window of a refusal): then the
//   user's own other sends took the tokens, which a per-user bucket allows (a user offering 80/s
//   against 50/s has not slowed down: capacity-throughput at 4,000 msgs/s on 100 users, 14:58 UTC).
// Keeps per active user a ring of ack counts per 250 ms; refusals wait `answerWithinMs` to be judged.

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { coveredResult } from './coverage.ts';
import { protocolSendLimits } from './limits.ts';
import { WitnessList } from './witness-list.ts';

export const rateLimitProperty = 'rate-limit';

export type RateLimitOptions = CheckerOptions & {
  /** The server's configured limits (default: protocol.md's 50 per second, bursts of 100). */
  sendLimits?: { burst: number; perSec: number };
  /** In a quiet window an accept is acked, and a refusal arrives, within this (default 1000). */
  answerWithinMs?: number;
  /**
   * Simulator only: a frame takes at least `min` ms between a device and its node, either way (the
   * simulated network's latency; jitter and faults only add). With it a press is judged with no slack:
   * its sends reached the node no sooner than `min` after the press and were accepted no later than
   * `min` before their acks came back, so the node's bucket served them within the acks' span less 2 min.
   */
  relayDelayMs?: { min: number; max: number };
};

const bucketMs = 250;
/** A clock fault disturbs buckets until well after it heals (a clock set back stops refills). */
const clockFaultAfterMs = 60_000;
/** Sends counted twice by a server (a resent cmid) that the harness cannot see. */
const duplicateSlack = 5;
/** Float refills may land a hair over the exact count: no ack is judged on a difference this small. */
const refillRoundingSlack = 1e-6;

type Press = { device: string; at: number; acks: number; open: boolean; judged: boolean };
type Refusal = { user: string; device: string; at: number; cmid: string };

export function createRateLimitChecker(options: RateLimitOptions = {}): Checker {
  const { limits } = resolveCheckerOptions(options);
  const { burst, perSec } = options.sendLimits ?? protocolSendLimits;
  const answerMs = options.answerWithinMs ?? 1000;
  // Live, the link's latency is unknown: a press's span at the server is bounded by its acks' span, plus a send.
  const linkMinMs = options.relayDelayMs?.min;
  const pressAllowed = (press: Press, ackAt: number): number =>
    linkMinMs === undefined
      ? burst + (perSec * (ackAt - press.at)) / 1000 + 1
      : burst + (perSec * Math.max(0, ackAt - press.at - 2 * linkMinMs)) / 1000 + refillRoundingSlack;
  const windowMs = (burst * 1000) / perSec;
  const retryAfterMax = Math.ceil(1000 / perSec);
  const ringSize = Math.ceil((windowMs + 3 * answerMs + 2 * bucketMs) / bucketMs) + 2;
  const witness = new WitnessList(limits.witnessCasesMax);
  type AckRing = { stamp: Int32Array; count: Uint16Array; lastAt: number };
  const acks = new Map<string, AckRing>();
  /** Rings of users swept for idleness, kept to serve the next users who ack. */
  const spareRings: AckRing[] = [];
  const lost = new Map<string, number[]>();
  const faults: { from: number; until: number }[] = [];
  let clockDisturbedUntil = Number.NEGATIVE_INFINITY;
  const clockDisturbed = (at: number): boolean =>
    at <= clockDisturbedUntil || [...openFaults.keys()].some((key) => key.startsWith('clock-offset'));
  const openFaults = new Map<string, number[]>();
  const presses = new Map<string, Press>();
  let refusals: Refusal[] = [];
  /** Sends given up after repeated `rate_limited`, judged once the acks around them are in. */
  let giveUps: Refusal[] = [];
  /** Give-ups whose user the server acked a burst's worth of sends around them. */
  let giveUpsServed = 0;
  let pressCount = 0;
  /** Presses a fault or a lost session cut off before they could be judged: they prove nothing. */
  let disturbed = 0;
  let refusalsJudged = 0;
  let pressesJudged = 0;
  let now = 0;

  const deviceKey = (user: string, device: string): string => `${user}\u0000${device}`;

  const countAck = (user: string, at: number): void => {
    let ring = acks.get(user);
    if (ring === undefined) {
      // A user acks about once a minute at scale: its ring is swept between acks, so rings are reused.
      ring = spareRings.pop();
      if (ring === undefined)
        ring = { stamp: new Int32Array(ringSize), count: new Uint16Array(ringSize), lastAt: at };
      ring.stamp.fill(-1);
      ring.lastAt = at;
      acks.set(user, ring);
    }
    const b = Math.floor(at / bucketMs);
    const slot = b % ringSize;
    if (ring.stamp[slot] !== b) {
      ring.stamp[slot] = b;
      ring.count[slot] = 0;
    }
    ring.count[slot] = Math.min(0xffff, ring.count[slot]! + 1);
    ring.lastAt = Math.max(ring.lastAt, at);
  };

  /** Acks of `user` received in (from, to], counting whole buckets (never fewer than there were). */
  const acksIn = (user: string, from: number, to: number): number => {
    const ring = acks.get(user);
    if (ring === undefined) return 0;
    let total = 0;
    for (let b = Math.floor(from / bucketMs); b <= Math.floor(to / bucketMs); b++)
      if (ring.stamp[b % ringSize] === b) total += ring.count[b % ringSize]!;
    return total;
  };

  const quiet = (user: string, from: number, to: number): boolean => {
    for (const fault of faults) if (fault.from <= to && fault.until >= from) return false;
    for (const starts of openFaults.values()) if (starts.some((since) => since <= to)) return false;
    for (const at of lost.get(user) ?? []) if (at >= from && at <= to) return false;
    return true;
  };

  /** Acks of the user in the window around a refusal at `at`; a burst's worth (less slack) left no token. */
  const acceptedAround = (user: string, at: number): number =>
    acksIn(user, at - answerMs - windowMs, at + answerMs);
  const leftAToken = (accepted: number): boolean => burst - accepted >= 1 + duplicateSlack;

  const judge = (refusal: Refusal): void => {
    if (!quiet(refusal.user, refusal.at - answerMs - windowMs, refusal.at + answerMs)) return;
    refusalsJudged++;
    const accepted = acceptedAround(refusal.user, refusal.at);
    if (!leftAToken(accepted)) return;
    witness.add('refused within the limit', () => ({
      problem: `${refusal.user}/${refusal.device} was refused ${refusal.cmid} with rate_limited at ${refusal.at}, but the server acked only ${accepted} of its sends in the ${windowMs + 2 * answerMs} ms around it (burst ${burst}, ${perSec}/s): a token was left`,
      path: [
        { k: 'rate-limited', at: refusal.at, user: refusal.user, device: refusal.device, cmid: refusal.cmid },
      ],
    }));
  };

  let sweptAt = 0;
  // Called on every event: the closures that filter refusals live in judgeRefusals, so a call with
  // nothing due allocates nothing (a closure here would make every call allocate its context).
  const judgeDue = (at: number): void => {
    if (refusals.length > 0 && refusals[0]!.at + 2 * answerMs <= at) judgeRefusals(at);
    if (giveUps.length > 0 && giveUps[0]!.at + 2 * answerMs <= at) judgeGiveUps(at);
    // Users idle for longer than the ring covers (and no refusal waits on them) need no ring.
    if (at - sweptAt < ringSize * bucketMs || refusals.length > 0 || giveUps.length > 0) return;
    sweptAt = at;
    for (const [user, ring] of acks)
      if (ring.lastAt < at - ringSize * bucketMs) {
        acks.delete(user);
        if (spareRings.length < limits.spareAckRingsMax) spareRings.push(ring);
      }
  };

  const judgeRefusals = (at: number): void => {
    const due = refusals.filter((r) => r.at + 2 * answerMs <= at);
    refusals = refusals.filter((r) => r.at + 2 * answerMs > at);
    for (const refusal of due) judge(refusal);
  };

  const judgeGiveUps = (at: number): void => {
    const due = giveUps.filter((g) => g.at + 2 * answerMs <= at);
    giveUps = giveUps.filter((g) => g.at + 2 * answerMs > at);
    for (const giveUp of due) {
      const accepted = acceptedAround(giveUp.user, giveUp.at);
      if (leftAToken(accepted)) neverServedAgain(giveUp, accepted);
      else giveUpsServed++;
    }
  };

  const closePresses = (user: string | null, device: string | null, disturbing = true): void => {
    for (const press of presses.values())
      if (user === null || press.device === deviceKey(user, device ?? '')) {
        if (disturbing && press.open && !press.judged) disturbed++;
        press.open = false;
      }
  };

  const observe = (event: HistoryEvent): void => {
    if (event.at > now) now = event.at;
    judgeDue(now);
    switch (event.k) {
      case 'fault': {
        const key = `${event.type}\u0000${(event.nodes ?? []).join(',')}`;
        const starts = openFaults.get(key) ?? [];
        if (event.phase === 'start') {
          starts.push(event.at);
          openFaults.set(key, starts);
          // Only a clock fault changes what a press may be served (a clock set forward refills the
          // bucket at once). Other faults resend nothing on a live connection: a resend (acked twice)
          // follows a lost session, which closes that device's press.
          if (event.type === 'clock-offset') closePresses(null, null);
        } else {
          const from = starts.shift() ?? event.at;
          if (starts.length === 0) openFaults.delete(key);
          faults.push({ from, until: event.at + (event.type === 'clock-offset' ? clockFaultAfterMs : 0) });
          if (event.type === 'clock-offset')
            clockDisturbedUntil = Math.max(clockDisturbedUntil, event.at + clockFaultAfterMs);
        }
        return;
      }
      case 'session-lost': {
        sessionLost(event.user, event.at);
        // Silence outside any fault (the client gave up on a server that stopped answering) is the
        // server's doing: the press still counts as done, so a server that never answers it fails.
        closePresses(event.user, event.device, event.reason !== 'idle' || openFaults.size > 0);
        return;
      }
      case 'press':
        pressCount++;
        if (clockDisturbed(event.at)) disturbed++;
        presses.set(deviceKey(event.user, event.device), {
          device: deviceKey(event.user, event.device),
          at: event.at,
          acks: 0,
          open: !clockDisturbed(event.at),
          judged: false,
        });
        return;
      case 'ack': {
        countAck(event.user, event.at);
        // Presses are rare (one user in a million): no key string is built for every ack.
        if (presses.size === 0) return;
        const press = presses.get(deviceKey(event.user, event.device));
        if (press === undefined || !press.open || event.sentAt < press.at) return;
        press.acks++;
        if (press.acks >= burst && !press.judged) {
          press.judged = true;
          pressesJudged++;
        }
        const allowed = pressAllowed(press, event.at);
        if (press.acks > allowed) {
          press.open = false;
          servedOverLimit(event, press, allowed);
        }
        return;
      }
      case 'rate-limited':
        return refused(event);
      case 'failed':
        // A clock set back stops the bucket's refills until it catches up: not judged while it may.
        if (event.code === 'rate_limited' && !clockDisturbed(event.at))
          giveUps.push({ user: event.user, device: event.device, at: event.at, cmid: event.cmid });
        return;
    }
  };

  // The witnesses and the rarer events apart from observe, which must hold no closure: one there
  // would make every call allocate a context for what it captures.
  const sessionLost = (user: string, at: number): void => {
    const times = (lost.get(user) ?? []).filter((then) => then > at - ringSize * bucketMs * 2);
    times.push(at);
    lost.set(user, times);
  };

  const servedOverLimit = (event: HistoryEvent & { k: 'ack' }, press: Press, allowed: number): void =>
    witness.add('served over the limit', () => ({
      problem: `${event.user}/${event.device} pressed at ${press.at}; by ${event.at} the server had acked ${press.acks} of its sends, more than the burst ${burst} plus ${perSec}/s allows (${Math.floor(allowed)})`,
      path: [
        { k: 'press', at: press.at, user: event.user, device: event.device },
        { k: 'ack', at: event.at, cmid: event.cmid, seq: event.seq },
      ],
    }));

  const refused = (event: HistoryEvent & { k: 'rate-limited' }): void => {
    const retry = event.retryAfterMs;
    if (retry === undefined || !(retry >= 1 && retry <= retryAfterMax))
      witness.add('retryAfterMs missing or implausible', () => ({
        problem: `${event.user}/${event.device} got rate_limited for ${event.ref} with retryAfterMs ${retry ?? 'missing'}; it must be between 1 and ${retryAfterMax} (the time one token takes to refill at ${perSec}/s)`,
        path: [event],
      }));
    if (event.cmid !== undefined && refusals.length < limits.pendingAttemptsMax)
      refusals.push({ user: event.user, device: event.device, at: event.at, cmid: event.cmid });
  };

  const neverServedAgain = (giveUp: Refusal, accepted: number): void =>
    witness.add('never served again', () => ({
      problem: `${giveUp.user}/${giveUp.device} gave up on ${giveUp.cmid} at ${giveUp.at}: refused with rate_limited every time it honoured retryAfterMs, while the server acked only ${accepted} of the user's sends in the ${windowMs + 2 * answerMs} ms around it (burst ${burst}, ${perSec}/s): a token was left`,
      path: [
        {
          k: 'failed',
          at: giveUp.at,
          user: giveUp.user,
          device: giveUp.device,
          cmid: giveUp.cmid,
          code: 'rate_limited',
        },
      ],
    }));

  return {
    property: rateLimitProperty,
    // Every event: its time moves the clock that judges refusals and sweeps idle users' rings.
    kinds: 'all',
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      judgeDue(Number.POSITIVE_INFINITY);
      const details =
        `${pressesJudged} of ${pressCount} presses judged against burst ${burst} at ${perSec}/s; ` +
        `${refusalsJudged} refusals judged in quiet windows` +
        (giveUpsServed > 0
          ? `; ${giveUpsServed} sends given up after repeated rate_limited while the server acked a burst's worth of their user's sends around them (the user's own sends took the tokens: not judged a violation)`
          : '') +
        (disturbed > 0
          ? `; ${disturbed} presses cut off by a fault or a lost session before they could be judged`
          : '');
      return coveredResult(witness, rateLimitProperty, details, {
        judged: pressesJudged + refusalsJudged,
        judgedWhat: 'press served past its burst nor refusal in a quiet window',
        done: pressCount - disturbed,
        doneWhat: 'presses that no fault cut off',
      });
    },
  };
}
