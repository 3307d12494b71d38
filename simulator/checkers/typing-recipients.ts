// Judges who receives `typing` (protocol.md: relayed to the other online members, at most one per
// (user, conv) every throttle interval), from what the harness did and saw:
// - never to the typist's own devices, and never about a user who did not type in that conversation;
// - a typing the server must relay (the typist's first in the conversation for a throttle interval)
//   reaches every device of every other member that held one session throughout. The proof needs no
//   clock: the workload sends a message right after typing, on the same connection, so the server
//   relayed the typing before it pushed that message; a device that displays the pushed message on
//   the session it had when the user typed must have got the typing first (frames on one connection
//   arrive in order). Judged only without faults in between (a lost bus event is then allowed), and
//   not for a typing whose previous one in that conversation was sent under a fault: a paused node
//   handles it at the resume, so the server's throttle interval may start as late as the heal
//   (swarm seeds 37, 39: typed during a node-pause, typed again 1.2 s after its heal, throttled).
// - When the server handled a typing is bounded from above by the answer to the send that followed it on
//   the same session (frames on one connection are handled in order): under queueing a typing may be
//   handled long after it was sent, and the next one is due only a throttle interval after that bound
//   (`capacity --sim --cost-model reference-server --seed 62 --clients 1000 --rates 4000`: acks up to
//   680 ms behind the node's queue, and typings 2.25 s apart by send time, judged due by that alone,
//   had rightly been throttled). While a typing's send is unanswered on its session, the user's next
//   typing in that conversation is not due.
// - the throttle's ceiling: a device on one session is never told twice within half a throttle interval
//   that a user is typing in a conversation while that user typed there from one device on one session
//   (so through one node and one throttle). The node relays at most one per interval, and two relays on
//   one path arrive as far apart as they left, give or take the network's jitter, for which half an
//   interval leaves ample room. Judged only away from faults (a paused node, a slow bus or a clock set
//   back bunch relays or restart the throttle) and only where the server's speed is not part of the run
//   (`judgeSilence`: with a cost model or live, a node's queue can hold one relay back and let the next
//   through). The workload's fast typists (`workload.typists`) type every 250 ms late in the warm-up,
//   so a node that relays more than the throttle lets through shows it.
// - the throttle at its exact boundaries (simulator only, `relayDelayMs`): a device on a steady link
//   (`steady-link`: no jitter) reaches its node exactly its link's latency after it sends, so the harness
//   knows the instant the node got each of its typings, and from the first typing of that user in that
//   conversation on, which ones the node must relay (the first, then each one at least an interval after
//   the last relayed: protocol.md's "at most one every 2 s", so one exactly 2 s later is relayed) and which
//   it must hold back (two at one instant: the second). A typing frame about that user reaching a device
//   must then have left the node at one of the relays it must make (the frame takes `relayDelayMs`, bus
//   hop included), and at most once per session. Judged only while that device alone typed there on one
//   session, before any fault, with no membership change in the conversation and no cost model; live,
//   arrival instants at the server are not known. The fast typists type at those boundaries.
// Members come from the conversation's creation; a conversation whose membership the harness changed
// is not judged for reach (the authorization checker judges typing to non-members).

import type {
  Checker,
  CheckResult,
  FinalState,
  HistoryEvent,
  HistoryEventOf,
  HistoryKind,
} from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { WitnessList } from './witness-list.ts';

export const typingRecipientsProperty = 'typing-recipients';

export type TypingRecipientsOptions = CheckerOptions & {
  /** The server's typing throttle per (user, conv) (default protocol.md's 2000 ms). */
  typingThrottleMs?: number;
  /** How far a frame's arrival at the server may be from the harness's send time (default 250; live runs wider). */
  answerWithinMs?: number;
  /**
   * Whether the server's speed is not part of the run (default true), as for read-pages: only then is
   * the throttle's ceiling judged (a node's queue may bunch relays that left it an interval apart).
   */
  judgeSilence?: boolean;
  /**
   * Simulator only: how long a frame a node sends takes to reach a device (min and max, ms; a bus hop
   * included in max). With it, typings from steady links are judged at the throttle's exact boundaries.
   */
  relayDelayMs?: { min: number; max: number };
};

/** Arrival times at the server differ from send times by up to this, by default (a simulated network). */
const defaultSlackMs = 250;
/** An expectation not proved or disproved by then is dropped. */
const expectationLifeMs = 60_000;
/** A frame a fault held or slowed (a pause, a 1 s latency with jitter) reaches the server within this of the heal. */
const heldFrameDrainMs = 2000;
/**
 * Typing is ephemeral (protocol.md relays it, never stores it): for a while after any fault event a
 * fleet node may still be resubscribing to the bus (a Redis back from an outage), and a typing relayed
 * meanwhile is rightly lost. Typings sent that soon after a fault are not due.
 */
export const afterFaultMs = 5000;

/**
 * A user's typing in a conversation: the last one's time, device and session, and since when that
 * device on that session typed there alone (-Infinity: no other ever did).
 */
type Typist = { at: number; device: number; session: number; since: number; exact: ExactThrottle | null };

/**
 * A steady-link typist's throttle, known exactly: when the node got its typings (send time + latency)
 * and so when it must have relayed (the node's instants, recent ones only).
 */
type ExactThrottle = { latencyMs: number; relays: number[] };

/** Float slack on the exact windows (the sums are of the same doubles; this only absorbs rounding). */
const exactEpsilonMs = 1e-6;

type Expectation = {
  conv: string;
  of: string;
  ofDevice: number;
  at: number;
  /** Device id -> the session it had when the user typed. */
  sessions: Map<number, number>;
  got: Set<number>;
  ofSession: number;
};

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  'conv',
  'members-sent',
  'fault',
  'session',
  'session-lost',
  'typing-sent',
  'send',
  'ack',
  'rate-limited',
  'failed',
  'display',
  'conv-frame',
  'steady-link',
] as const satisfies readonly HistoryKind[];

export function createTypingRecipientsChecker(options: TypingRecipientsOptions = {}): Checker {
  const { limits, ids } = resolveCheckerOptions(options);
  const slackMs = options.answerWithinMs ?? defaultSlackMs;
  const throttleMs = options.typingThrottleMs ?? 2000;
  const judgeCeiling = options.judgeSilence ?? true;
  const relayDelay = judgeCeiling ? options.relayDelayMs : undefined;
  const witness = new WitnessList(limits.witnessCasesMax);
  const members = new Map<string, readonly string[]>();
  const changed = new Set<string>();
  /** Device id -> when its current session opened (-1: no session). */
  const openSince = float64Column(-1);
  /**
   * (user, conv) -> by when the server had handled every typing of that user there the run knows an
   * answer for (or, without one, the send time plus the slack).
   */
  const handledBy = new Map<string, number>();
  /** (user, conv) -> its typings whose following send is still unanswered on the session it was sent on. */
  const inFlight = new Map<string, number>();
  /** (conv, cmid) of a send that followed a typing -> that typing, until the send is answered or its session ends. */
  const awaiting = new Map<string, { typist: string; device: number; session: number }>();
  /** Device id -> the keys of its sends in `awaiting`. */
  const awaitingOf = new Map<number, string[]>();
  /** (user, conv) keys typed while a fault was open: the server may handle that typing only after the heal. */
  const typedUnderFault = new Set<string>();
  /** Device key -> the typing it just sent, waiting for the send that follows it. */
  const justTyped = new Map<string, { conv: string; at: number; typist: string; due: boolean }>();
  const expectations = new Map<string, Expectation>();
  /** (user, conv) -> its last typing, and since when one device on one session typed there alone. */
  const typists = new Map<string, Typist>();
  /**
   * (device, user, conv) -> the last typing about that user there the device got, and on which session;
   * swept of those more than an interval old (a later one cannot be too close to them).
   */
  const lastRelayed = new Map<string, { at: number; session: number }>();
  let sweepAt = 1024;
  /** Device id -> its steady link's latency (steady-link). */
  const steadyLinks = new Map<number, number>();
  /** (device, user, conv) -> the relay (the node's instant) its last frame about that typist left at, and on which session. */
  const exactSeen = new Map<string, { relay: number; session: number }>();
  /** Typings of steady-link typists whose node instant the run knew: relays owed, and held back. */
  let exactRelays = 0;
  let exactHeld = 0;
  /** Typing frames judged against the exact relays. */
  let exactJudged = 0;
  let lastFaultAt = Number.NEGATIVE_INFINITY;
  let faultsOpen = 0;
  let typed = 0;
  /** Typings received within an interval of the last one the device got about that user, judged for it. */
  let ceilingJudged = 0;
  /** Typings sent within half an interval of the same device's last one there: the throttle must hold them. */
  let typedFast = 0;
  /** Typings the server had to relay to members online throughout, with no fault: what must be seen. */
  let due = 0;
  let framesJudged = 0;
  let reachJudged = 0;

  const key = (a: string, b: string): string => `${a}\u0000${b}`;

  const followTyping = (send: HistoryEvent & { k: 'send' }): void => {
    const typing = justTyped.get(key(send.user, send.device));
    justTyped.delete(key(send.user, send.device));
    if (typing === undefined || typing.conv !== send.conv || typing.at !== send.at) return;
    const device = ids.device(send.user, send.device);
    const ofSession = openSince.get(device);
    if (ofSession >= 0) {
      inFlight.set(typing.typist, (inFlight.get(typing.typist) ?? 0) + 1);
      const sendKey = key(send.conv, send.cmid);
      awaiting.set(sendKey, { typist: typing.typist, device, session: ofSession });
      const ofDevice = awaitingOf.get(device);
      if (ofDevice === undefined) awaitingOf.set(device, [sendKey]);
      else ofDevice.push(sendKey);
    }
    if (typing.due) expectReach(send, device, ofSession);
  };

  /** The send that followed a typing was answered (`at`), or its session ended (`at` undefined). */
  const settleTyping = (sendKey: string, at: number | undefined): void => {
    const typing = awaiting.get(sendKey);
    if (typing === undefined) return;
    awaiting.delete(sendKey);
    const ofDevice = awaitingOf.get(typing.device)!;
    if (ofDevice.length === 1) awaitingOf.delete(typing.device);
    else ofDevice.splice(ofDevice.indexOf(sendKey), 1);
    const left = inFlight.get(typing.typist)! - 1;
    if (left > 0) inFlight.set(typing.typist, left);
    else inFlight.delete(typing.typist);
    // An answer on another session (the send resent after a reconnect) bounds nothing about the typing.
    if (at !== undefined && openSince.get(typing.device) === typing.session)
      handledBy.set(typing.typist, Math.max(handledBy.get(typing.typist)!, at));
  };

  const sessionEnded = (device: number): void => {
    const ofDevice = awaitingOf.get(device);
    if (ofDevice !== undefined) for (const sendKey of [...ofDevice]) settleTyping(sendKey, undefined);
  };

  const expectReach = (send: HistoryEvent & { k: 'send' }, device: number, ofSession: number): void => {
    const convMembers = members.get(send.conv);
    if (
      convMembers === undefined ||
      changed.has(send.conv) ||
      faultsOpen > 0 ||
      send.at < lastFaultAt + afterFaultMs ||
      ofSession < 0
    )
      return;
    const sessions = new Map<number, number>();
    for (const member of convMembers) {
      if (member === send.user) continue;
      // Every device of the member the run has seen; only those with a session now count.
      for (const other of ids.devicesOfUser(member)) {
        const since = openSince.get(other);
        if (since >= 0 && since <= send.at - slackMs) sessions.set(other, since);
      }
    }
    if (sessions.size === 0 || expectations.size >= limits.pendingAttemptsMax) return;
    due++;
    expectations.set(key(send.conv, send.cmid), {
      conv: send.conv,
      of: send.user,
      ofDevice: device,
      at: send.at,
      sessions,
      got: new Set(),
      ofSession,
    });
  };

  const judgeDisplay = (event: HistoryEvent & { k: 'display' }): void => {
    const e = expectations.get(key(event.message.conv, event.message.cmid));
    if (e === undefined || e.of !== event.message.from) return;
    const device = ids.device(event.user, event.device);
    const since = e.sessions.get(device);
    if (since === undefined) return;
    e.sessions.delete(device);
    if (event.via !== 'push' || openSince.get(device) !== since || openSince.get(e.ofDevice) !== e.ofSession)
      return;
    if (lastFaultAt >= e.at || changed.has(e.conv)) return;
    reachJudged++;
    if (e.got.has(device)) return;
    witness.add('missed', () => ({
      problem: `${event.user}/${event.device} held one session from before ${e.of} typed in ${e.conv} at ${e.at} until it was pushed the message ${e.of} sent right after, but got no typing from ${e.of} in between`,
      path: [
        { k: 'typing-sent', at: e.at, conv: e.conv, user: e.of },
        {
          k: 'display',
          at: event.at,
          via: event.via,
          user: event.user,
          device: event.device,
          seq: event.message.seq,
        },
      ],
    }));
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    switch (event.k) {
      case 'conv':
        members.set(event.conv, event.members);
        return;
      case 'members-sent':
        changed.add(event.conv);
        return;
      case 'steady-link':
        steadyLinks.set(ids.device(event.user, event.device), event.latencyMs);
        return;
      case 'fault':
        // A clock set back (a clock-offset's heal) must not shut the server's throttle until the clock
        // catches up again: a relay stamped ahead of the clock starts the interval over (protocol.md: at
        // most one per interval, and the first typing of an interval is relayed). So a clock fault is
        // a fault as any other: typings sent afterFaultMs after its heal are due again.
        lastFaultAt = Math.max(lastFaultAt, event.at);
        faultsOpen += event.phase === 'start' ? 1 : -1;
        if (faultsOpen <= 0 && typedUnderFault.size > 0) {
          for (const typist of typedUnderFault)
            handledBy.set(typist, Math.max(handledBy.get(typist)!, event.at + heldFrameDrainMs + slackMs));
          typedUnderFault.clear();
        }
        return;
      case 'session':
        openSince.set(ids.device(event.user, event.device), event.at);
        return;
      case 'session-lost': {
        const device = ids.device(event.user, event.device);
        if (awaiting.size > 0) sessionEnded(device);
        openSince.set(device, -1);
        return;
      }
      case 'typing-sent': {
        typed++;
        const typist = key(event.user, event.conv);
        noteTypist(typist, ids.device(event.user, event.device), event.at, event.conv);
        const last = handledBy.get(typist);
        handledBy.set(typist, Math.max(last ?? Number.NEGATIVE_INFINITY, event.at + slackMs));
        if (faultsOpen > 0) typedUnderFault.add(typist);
        const due =
          event.on && !inFlight.has(typist) && (last === undefined || event.at - last >= throttleMs);
        justTyped.set(key(event.user, event.device), { conv: event.conv, at: event.at, typist, due });
        return;
      }
      case 'send':
        if (justTyped.size > 0) followTyping(event);
        return;
      case 'ack':
        if (awaiting.size > 0) settleTyping(key(event.conv, event.cmid), event.at);
        return;
      case 'rate-limited':
        if (awaiting.size > 0 && event.cmid !== undefined && event.conv !== undefined)
          settleTyping(key(event.conv, event.cmid), event.at);
        return;
      case 'failed':
        // The client gave up: when (or whether) the server saw the send is unknown.
        if (awaiting.size > 0) settleTyping(key(event.conv, event.cmid), undefined);
        return;
      case 'display':
        if (expectations.size > 0) judgeDisplay(event);
        return;
      case 'conv-frame':
        if (event.t === 'typing' && event.of !== undefined) typingFrame(event);
        return;
    }
  };

  const noteTypist = (typist: string, device: number, at: number, conv: string): void => {
    const session = openSince.get(device);
    const last = typists.get(typist);
    if (last === undefined) {
      // The user's first typing in the conversation: from a steady link, the node's throttle is known from here on.
      const latencyMs = relayDelay === undefined ? undefined : steadyLinks.get(device);
      const exact =
        latencyMs !== undefined &&
        session >= 0 &&
        !changed.has(conv) &&
        lastFaultAt === Number.NEGATIVE_INFINITY
          ? { latencyMs, relays: [] }
          : null;
      typists.set(typist, { at, device, session, since: Number.NEGATIVE_INFINITY, exact });
      if (exact !== null) exactTyped(exact, at);
      return;
    }
    if (last.device !== device || last.session !== session) {
      last.since = at;
      last.exact = null;
    } else if (at - last.at < throttleMs / 2) typedFast++;
    if (last.exact !== null) {
      if (changed.has(conv)) last.exact = null;
      else exactTyped(last.exact, at);
    }
    last.at = at;
    last.device = device;
    last.session = session;
  };

  /** A steady-link typing sent at `at` reached the node at `at + latencyMs`: relayed or held back, by the throttle. */
  const exactTyped = (exact: ExactThrottle, at: number): void => {
    const arrived = at + exact.latencyMs;
    const relays = exact.relays;
    const last = relays.length === 0 ? undefined : relays[relays.length - 1]!;
    if (last !== undefined && arrived - last < throttleMs) {
      exactHeld++;
      return;
    }
    exactRelays++;
    if (relays.length >= 16) relays.splice(0, 8);
    relays.push(arrived);
  };

  /**
   * A typing frame about a steady-link typist reached `device`: it left the node at one of the relays
   * the node had to make, and was not the second frame of one relay on that session.
   */
  const exactFrame = (
    event: HistoryEvent & { k: 'conv-frame' },
    device: number,
    exact: ExactThrottle,
  ): void => {
    const { min, max } = relayDelay!;
    const from = event.at - max - exactEpsilonMs;
    const to = event.at - min + exactEpsilonMs;
    let relay: number | undefined;
    for (let i = exact.relays.length - 1; i >= 0; i--) {
      const at = exact.relays[i]!;
      if (at < from) break;
      if (at <= to) {
        relay = at;
        break;
      }
    }
    exactJudged++;
    if (relay === undefined) {
      witness.add('relayed off the throttle', () => ({
        problem: `${event.user}/${event.device} was told at ${event.at} that ${event.of} is typing in ${event.conv}: that frame left the node between ${from} and ${to}, when the node relayed none of ${event.of}'s typings there (typed from a steady link: the node got them at instants the harness knows; it had to relay at ${exact.relays.join(', ') || 'none yet'} and hold back the rest, protocol.md's one per ${throttleMs} ms, one exactly ${throttleMs} ms after the last relayed included)`,
        path: [event],
      }));
      return;
    }
    const seenKey = `${device}\u0000${event.of}\u0000${event.conv}`;
    const session = openSince.get(device);
    const seen = exactSeen.get(seenKey);
    exactSeen.set(seenKey, { relay, session });
    if (seen !== undefined && seen.relay === relay && seen.session === session)
      witness.add('relayed twice at once', () => ({
        problem: `${event.user}/${event.device} was told twice, on one session, that ${event.of} is typing in ${event.conv}, both frames leaving the node with its relay at ${relay}: typings that reached the node at one instant, or within ${throttleMs} ms of it, were relayed together (typed from a steady link: the node got them at instants the harness knows)`,
        path: [event],
      }));
  };

  /** A typing relayed to `device`: not within half an interval of the last one there on the same path. */
  const ceilingFrame = (event: HistoryEvent & { k: 'conv-frame' }, device: number): void => {
    const typistKey = key(event.of!, event.conv);
    const typist = typists.get(typistKey);
    if (typist === undefined) return;
    const relayKey = `${device}\u0000${typistKey}`;
    const previous = lastRelayed.get(relayKey);
    const session = openSince.get(device);
    lastRelayed.set(relayKey, { at: event.at, session });
    if (lastRelayed.size >= sweepAt) {
      for (const [k, r] of lastRelayed) if (r.at < event.at - throttleMs) lastRelayed.delete(k);
      sweepAt = Math.max(1024, 2 * lastRelayed.size);
    }
    if (previous === undefined || previous.session !== session || event.at - previous.at >= throttleMs)
      return;
    // A relay got at `previous.at` came from a typing sent at most two network hops (and a bus hop) before.
    if (typist.since > previous.at - 3 * slackMs) return;
    // Frames a fault held back reach the node within heldFrameDrainMs of the heal, and may bunch.
    if (faultsOpen > 0 || lastFaultAt >= previous.at - throttleMs - heldFrameDrainMs - slackMs) return;
    if (openSince.get(typist.device) !== typist.session) return;
    ceilingJudged++;
    if (event.at - previous.at >= throttleMs / 2) return;
    witness.add('past the throttle', () => ({
      problem: `${event.user}/${event.device} was told ${event.of} is typing in ${event.conv} at ${previous.at} and again at ${event.at} (${event.at - previous.at} ms later), on one session, while ${event.of} typed there from one device on one session: a node relays at most one typing per (user, conv) every ${throttleMs} ms`,
      // The earlier relay: the same frame to the same device, at its own time.
      path: [{ ...event, at: previous.at }, event],
    }));
  };

  // Apart from observe, which sees every event: a closure there would make every call allocate a
  // context for what it captures.
  const typingFrame = (event: HistoryEvent & { k: 'conv-frame' }): void => {
    framesJudged++;
    if (event.of === event.user)
      witness.add('to the typist', () => ({
        problem: `${event.user}/${event.device} got a typing frame about its own user in ${event.conv}`,
        path: [event],
      }));
    else if (!handledBy.has(key(event.of!, event.conv)))
      witness.add('made up', () => ({
        problem: `${event.user}/${event.device} was told ${event.of} is typing in ${event.conv}, but ${event.of} never typed there`,
        path: [event],
      }));
    const device = ids.device(event.user, event.device);
    if (judgeCeiling) ceilingFrame(event, device);
    if (relayDelay !== undefined && lastFaultAt === Number.NEGATIVE_INFINITY) {
      const exact = typists.get(key(event.of!, event.conv))?.exact;
      if (exact != null) exactFrame(event, device, exact);
    }
    for (const e of expectations.values())
      if (e.conv === event.conv && e.of === event.of && event.at >= e.at) e.got.add(device);
    if (expectations.size > 64)
      for (const [k, e] of expectations) if (e.at < event.at - expectationLifeMs) expectations.delete(k);
  };

  return {
    property: typingRecipientsProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      const ceiling = judgeCeiling
        ? `${ceilingJudged} typings got within an interval of the last judged against the throttle (${typedFast} sent within half an interval of the last)`
        : "the throttle's ceiling not judged (the server's speed is part of this run)";
      const exact =
        relayDelay === undefined
          ? 'exact throttle boundaries not judged (live, or a cost model: arrival instants unknown)'
          : `${exactJudged} typing frames judged against the exact relays of steady-link typists (${exactRelays} typings the node had to relay, ${exactHeld} to hold back)`;
      const details = `${framesJudged} typing frames judged; ${reachJudged} pushes after a typing judged for it (${typed} typing frames sent); ${ceiling}; ${exact}`;
      return coveredResult(
        witness,
        typingRecipientsProperty,
        `${details}; ${due} due to members online throughout`,
        {
          judged: framesJudged + reachJudged,
          judgedWhat: 'typing frames received',
          done: due,
          doneWhat: 'typings the server had to relay to members online throughout, with no fault',
        },
      );
    },
  };
}
