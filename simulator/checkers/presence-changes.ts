// Judges the presence frames themselves (protocol.md `watch`: one `presence` per user now, then one on
// every change; `lastSeen`: ms, 0 if never seen), where presence-convergence judges only the last view:
// - on change: within one session of the watcher, a frame after the first must change `online`;
// - lastSeen never goes back for a watcher (nor across its sessions);
// - an offline frame's lastSeen is no earlier than the start of the user's latest session that the
//   server saw well before the frame (in the server's clock, bounded from acks: ts - at). "Well
//   before" is `presenceKnownWithinMs` (default the answer bound); a scenario that widens it (a big
//   live run whose fleet learns sessions over a lagging bus) gets the stale answers it let through
//   counted in the details, with the oldest, so the bound is a stated, measured figure.
// - every change the harness made to a watched user's presence is told to each device that watched
//   through it, if the change held past when the server had to know of it (presence-deadlines.ts):
//   silence is a violation, lateness is not.
// - lastSeen is a time: a finite number of ms, never negative.
// lastSeen is not judged after a clock fault, across a crash (or a bus-only cut) of the node that
// answered, or (for the session bound) across any fault but a node crash that came well after the
// session began: state lost with a node or a bus event may legitimately be old (a restarted node
// answers 0, never seen).
// - lastSeen 0 ("never seen") is a lie about a user the harness saw in a session on a node that kept
//   its memory since (no crash or restart of it) while every fault had healed well before the answer:
//   a node that restarted learns of the users the others saw go from their snapshots, and a fault that
//   lost or held back bus events is followed by those snapshots (a node back on the bus, or restarted,
//   asks for them). Judged from the answering node's first welcome after its restart, and only within
//   `goneRememberedMs` of the session (older leaves a fleet may forget).

import type {
  Checker,
  CheckResult,
  FinalState,
  HistoryEvent,
  HistoryEventOf,
  HistoryKind,
} from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column, uint8Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { nodeRestartFaultTypes } from './node-restart-faults.ts';
import { PresenceDeadlines } from './presence-deadlines.ts';
import { SlotTable } from './slot-table.ts';
import { WitnessList } from './witness-list.ts';

export const presenceChangesProperty = 'presence-changes';

/** How long after a heal what a fault held back or slowed may still be on its way. */
const faultDrainMs = 3000;

export type PresenceChangesOptions = CheckerOptions & {
  /** Frames take at most this long to arrive (default 1000). */
  answerWithinMs?: number;
  /** The server's ping interval (protocol.md: two unanswered pings end a connection; default 10000). */
  heartbeatMs?: number;
  /**
   * A fleet takes a crashed node for dead, and forgets its users' presence, within this (default 7000:
   * the reference server's 5 s TTL, a heartbeat period and slack).
   */
  nodeDeadWithinMs?: number;
  /**
   * Every node knows of a session this long after it began (default `answerWithinMs`): an offline
   * answer with an earlier lastSeen after that is a violation. The scenario's
   * `checks.presenceKnownWithinMs`.
   */
  presenceKnownWithinMs?: number;
  /**
   * A fleet remembers for this long that it saw a user go (default 300000: the reference server's
   * snapshots list the users each node saw go within 5 minutes, for a node that restarted meanwhile).
   */
  goneRememberedMs?: number;
};

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  'session-lost',
  'ack',
  'session',
  'watch-sent',
  'fault',
  'presence-seen',
] as const satisfies readonly HistoryKind[];

export function createPresenceChangesChecker(options: PresenceChangesOptions = {}): Checker {
  const { limits, ids } = resolveCheckerOptions(options);
  const slackMs = options.answerWithinMs ?? 1000;
  const knownWithinMs = Math.max(slackMs, options.presenceKnownWithinMs ?? slackMs);
  /** Offline answers about a session begun more than `slackMs` but at most `knownWithinMs` before. */
  const staleLetThrough = { count: 0, oldestMs: 0 };
  const witness = new WitnessList(limits.witnessCasesMax);
  // State by dense ids (checker-options' IdTable): a watcher's view of a user is a slot of (device id,
  // user id), its fields columns; per device and per user, columns indexed by the id.
  const views = new SlotTable();
  const viewOnline = uint8Column();
  const viewLastSeen = float64Column();
  const viewAt = float64Column();
  const viewSession = float64Column();
  const viewFresh = uint8Column();
  /** 1 once a frame arrived on the slot (a slot is made when its device asks to watch). */
  const viewHasFrame = uint8Column();
  /** Device -> when its current session opened (-1: none yet). */
  const sessionOf = float64Column(-1);
  /** User -> when its latest session opened (-1: none yet). */
  const userSessionAt = float64Column(-1);
  /** User -> the node that welcomed its latest session, as a node number + 1 (0: not known). */
  const userSessionNode = int32Column();
  const goneRememberedMs = options.goneRememberedMs ?? 300_000;
  /** Node name -> its number: the index of `nodeNames`, `restartedAt` and `servingSince`. */
  const nodeNumbers = new Map<string, number>();
  const nodeNames: string[] = [];
  const nodeNumber = (name: string, at: number): number => {
    let number = nodeNumbers.get(name);
    if (number === undefined) {
      number = nodeNumbers.size;
      nodeNumbers.set(name, number);
      nodeNames.push(name);
      restartedAt.push(Number.NEGATIVE_INFINITY);
      servingSince.push(Number.NEGATIVE_INFINITY);
      firstNamedAt.push(at);
    }
    return number;
  };
  /** Node number -> when a crash or restart of it last healed (a fault naming no node: `anyRestartAt`). */
  const restartedAt: number[] = [];
  let anyRestartAt = Number.NEGATIVE_INFINITY;
  const lastRestart = (node: number): number => Math.max(restartedAt[node]!, anyRestartAt);
  /**
   * Node number -> when the history first named it. A live server's node may take a new id when its
   * process restarts, while fault events keep naming it by the id it had at the start: a node first
   * named after a restart fault began may be such a new incarnation, which a later fault restarts under
   * its old name.
   */
  const firstNamedAt: number[] = [];
  let firstRestartFaultAt = Number.POSITIVE_INFINITY;
  /** Node number -> its first welcome the harness saw after that restart (or before any). */
  const servingSince: number[] = [];
  /** Fault spans (heal at +Infinity while open); crashes with the nodes they name (empty: any). */
  const faults: {
    type: string;
    from: number;
    until: number;
    nodes: readonly string[];
    busOnly: boolean;
  }[] = [];
  let clockFaultAt = Number.POSITIVE_INFINITY;
  let offsetLo = Number.NEGATIVE_INFINITY;
  let judged = 0;
  /** Offline answers the session bound let go that were judged against lastSeen 0 (fleetSawAt). */
  let keptJudged = 0;
  // What the harness did that must produce a change frame: a watched user's first device came or
  // its last device went (the harness's own sessions) while a connected device watched it.
  const devicesOnline = int32Column();
  const connected = uint8Column();
  /** Device -> the user ids it watches now (absent: none). */
  const watchingOf: (number[] | undefined)[] = [];
  const watchers = int32Column();
  const changesAt: number[] = [];
  const unwatch = (device: number): void => {
    const watching = watchingOf[device];
    if (watching === undefined) return;
    for (const user of watching) {
      watchers.set(user, watchers.get(user) - 1);
      deadlines.unasked(views.find(device, user));
    }
    watchingOf[device] = undefined;
  };
  const onlineChange = (user: number, by: number): void => {
    const before = devicesOnline.get(user);
    const after = before + by;
    devicesOnline.set(user, after);
    if ((before === 0) === (after === 0)) return;
    deadlines.change(user, after > 0, now);
    if (watchers.get(user) > 0) changesAt.push(now);
  };
  /** The time of the session or session-lost event being taken (onlineChange's clock). */
  let now = 0;
  const deadlines = new PresenceDeadlines(
    {
      answerWithinMs: slackMs,
      deadConnectionWithinMs: 3 * (options.heartbeatMs ?? 10_000) + slackMs,
      nodeDeadWithinMs: (options.nodeDeadWithinMs ?? 7000) + slackMs,
    },
    {
      deviceOf: (slot) => views.keyA(slot),
      sessionOf: (device) => sessionOf.get(device),
      lastFrame: (slot) =>
        viewHasFrame.get(slot) === 1
          ? { online: viewOnline.get(slot) === 1, session: viewSession.get(slot) }
          : undefined,
      faultIn: (from, until) =>
        faults.some((f) => f.type !== 'node-crash' && f.from <= until && f.until >= from),
    },
    (miss) =>
      witness.add(`${miss.online ? 'online' : 'offline'} never shown`, () => {
        const { user, device } = ids.deviceName(views.keyA(miss.slot));
        const of = ids.userName(miss.user);
        const state = miss.online ? 'online' : 'offline';
        return {
          problem: `${user}/${device} watched ${of}, who went ${state} at ${miss.changedAt} and stayed so until ${miss.heldUntil}, past ${miss.deadline} when the server had to know, but was never told`,
          path: [
            { k: 'change', at: miss.changedAt, of, online: miss.online },
            { k: 'deadline', at: miss.deadline },
            { k: 'held-until', at: miss.heldUntil, shown: miss.online ? 'offline' : 'online' },
          ],
        };
      }),
  );

  /**
   * A fault over from..to; with `lostBy`, only one that lost the presence that node held or heard: its
   * crash or restart, or a cut from the bus alone (a stale node answers from before the cut until the
   * others' snapshots come: fleet-races seed 3, n1 cut from the bus at 15.9-17.4 s, answered a watch
   * at 17.43 s with a lastSeen from before a leave it never heard of).
   */
  const faultIn = (from: number, to: number, lostBy?: string): boolean =>
    faults.some(
      (f) =>
        f.from <= to &&
        f.until >= from &&
        (lostBy === undefined ||
          (nodeRestartFaultTypes.has(f.type) && (f.nodes.length === 0 || f.nodes.includes(lostBy))) ||
          (f.busOnly && f.nodes.includes(lostBy))),
    );

  // Whether a node answering at `at` must know of a session that began at `began`. Not across faults
  // that lose bus events or hold them back; across a node crash, yes (the session was reported on the
  // bus at once, so the survivors knew), unless the crash came right after it began, or the answer is
  // lastSeen 0 from a node that restarted and holds no record of a user who is offline ("never
  // seen"), unless that node told this watcher, on this connection, that the user was online.
  const sessionKnownAcross = (began: number, at: number, lastSeen: number, knewOnline: boolean): boolean => {
    const from = began - slackMs;
    // A fault's effect outlasts its heal: what it held back or slowed (a link to Redis at 1.8 s ± 0.9 s)
    // still drains after it (swarm exploration, seed 57552774948139: a watch answered 1 s after a
    // session began, 1.2 s after a redis-latency healed, from a node not yet told).
    const overlapping = faults.filter((f) => f.from <= at && f.until + faultDrainMs >= from);
    if (overlapping.some((f) => f.type !== 'node-crash')) return false;
    if (overlapping.length === 0) return true;
    return (lastSeen !== 0 || knewOnline) && !overlapping.some((f) => f.from <= began + slackMs);
  };

  // Whether node `answering` must know at `at` that the fleet saw the user in its session that began
  // at `began` on node `seenOn`: that node kept its memory since (no crash or restart of it), the
  // session was known to every node in time and is recent enough to be remembered, every fault had
  // healed well before (what a fault lost or held back is followed by snapshots: a node back on the
  // bus, or restarted, asks the others for theirs), and the answering node, if restarted, had served a
  // while (its `node-up` asked for the snapshots before its first welcome).
  const fleetSawAt = (began: number, seenOn: number, at: number, answering: number): boolean => {
    if (began >= at - knownWithinMs || at - began > goneRememberedMs || at >= clockFaultAt) return false;
    const kept = nodeNames[seenOn]!;
    const renamed = firstNamedAt[seenOn]! > firstRestartFaultAt;
    const forgot = faults.some(
      (f) =>
        nodeRestartFaultTypes.has(f.type) &&
        (f.nodes.length === 0 || f.nodes.includes(kept) || renamed) &&
        f.from <= at &&
        f.until >= began,
    );
    if (forgot || faults.some((f) => f.from <= at && f.until + faultDrainMs >= at)) return false;
    const serving = servingSince[answering]!;
    return serving >= lastRestart(answering) && serving <= at - slackMs;
  };

  const judge = (event: HistoryEvent & { k: 'presence-seen' }): void => {
    const device = ids.device(event.user, event.device);
    const of = ids.user(event.of);
    const session = sessionOf.get(device);
    const known = views.find(device, of);
    const slot = known >= 0 ? known : views.intern(device, of);
    const prev =
      known >= 0 && viewHasFrame.get(slot) === 1
        ? {
            online: viewOnline.get(slot) === 1,
            lastSeen: viewLastSeen.get(slot),
            at: viewAt.get(slot),
            session: viewSession.get(slot),
            fresh: viewFresh.get(slot) === 1,
          }
        : undefined;
    viewOnline.set(slot, event.online ? 1 : 0);
    viewLastSeen.set(slot, event.lastSeen);
    viewAt.set(slot, event.at);
    viewSession.set(slot, session);
    viewFresh.set(slot, 0);
    viewHasFrame.set(slot, 1);
    deadlines.shown(slot, event.online, event.at, prev !== undefined && prev.session === session);
    let judgedHere = false;
    if (prev !== undefined && prev.session === session && !prev.fresh) {
      judgedHere = true;
      if (prev.online === event.online) noChange(event, prev.at);
    } else if (prev !== undefined && prev.session === session) judgedHere = true;
    const node = event.node ?? '';
    if (prev !== undefined && event.at < clockFaultAt && !faultIn(prev.at, event.at, node)) {
      judgedHere = true;
      // lastSeen 0 is protocol.md's "never seen": what a fleet node that holds no record of the user
      // (its sessions were on a node that crashed, or the bus was lost) truthfully answers. Only a
      // known lastSeen earlier than one already shown is going back.
      if (event.lastSeen !== 0 && event.lastSeen < prev.lastSeen) wentBack(event, prev.at, prev.lastSeen);
    }
    if (!Number.isFinite(event.lastSeen) || event.lastSeen < 0) {
      judgedHere = true;
      notATime(event);
    }
    const began = userSessionAt.get(of);
    if (
      !event.online &&
      began >= 0 &&
      began < event.at - slackMs &&
      event.at < clockFaultAt &&
      Number.isFinite(offsetLo) &&
      sessionKnownAcross(
        began,
        event.at,
        event.lastSeen,
        prev !== undefined && prev.session === session && prev.online,
      )
    ) {
      judgedHere = true;
      const floor = began + offsetLo - slackMs;
      if (event.lastSeen < floor) {
        if (began < event.at - knownWithinMs) beforeSession(event, began, floor);
        else {
          staleLetThrough.count++;
          staleLetThrough.oldestMs = Math.max(staleLetThrough.oldestMs, event.at - began);
        }
      }
    } else if (!event.online && event.node !== undefined && began >= 0) {
      const seenOn = userSessionNode.get(of) - 1;
      if (seenOn >= 0 && fleetSawAt(began, seenOn, event.at, nodeNumber(event.node, event.at))) {
        judgedHere = true;
        keptJudged++;
        if (event.lastSeen === 0) neverSeen(event, began, seenOn);
      }
    }
    if (judgedHere) judged++;
  };

  // The witnesses apart from judge and observe: a closure there would make every call allocate a
  // context for what it captures.
  type Seen = HistoryEvent & { k: 'presence-seen' };
  const noChange = (event: Seen, prevAt: number): void =>
    witness.add('no change', () => ({
      problem: `${event.user}/${event.device} was sent presence of ${event.of} ${event.online ? 'online' : 'offline'} twice in one session, with no change between`,
      path: [{ k: 'presence-seen', at: prevAt, online: event.online }, event],
    }));
  const wentBack = (event: Seen, prevAt: number, prevLastSeen: number): void =>
    witness.add('lastSeen went back', () => ({
      problem: `${event.user}/${event.device} saw ${event.of}'s lastSeen go back from ${prevLastSeen} to ${event.lastSeen}`,
      path: [{ k: 'presence-seen', at: prevAt, lastSeen: prevLastSeen }, event],
    }));
  const notATime = (event: Seen): void =>
    witness.add('lastSeen not a time', () => ({
      problem: `${event.user}/${event.device} was told ${event.of}'s lastSeen is ${event.lastSeen}: protocol.md's lastSeen is a time in ms (0 if never seen)`,
      path: [event],
    }));
  const beforeSession = (event: Seen, began: number, floor: number): void =>
    witness.add('lastSeen before the last session', () => ({
      problem: `${event.user}/${event.device} was told ${event.of} is offline, last seen ${event.lastSeen}, before the session of ${event.of} that began at ${began} (server clock at least ${Math.ceil(floor)})`,
      path: [{ k: 'session', at: began, user: event.of }, event],
    }));

  const neverSeen = (event: Seen, began: number, seenOn: number): void =>
    witness.add('lastSeen 0 for a user the fleet saw', () => ({
      problem: `${event.user}/${event.device} was told by ${event.node} that ${event.of} is offline and was never seen (lastSeen 0), but ${event.of}'s session of ${began} was on ${nodeNames[seenOn]}, which no fault restarted since, and every fault had healed ${faultDrainMs} ms before`,
      path: [{ k: 'session', at: began, user: event.of, node: nodeNames[seenOn] }, event],
    }));

  const healed = (type: string, at: number): void => {
    const open = faults.find((f) => f.type === type && f.until === Number.POSITIVE_INFINITY);
    if (open !== undefined) open.until = at;
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    switch (event.k) {
      case 'session-lost': {
        now = event.at;
        const device = ids.device(event.user, event.device);
        unwatch(device);
        deadlines.lost(ids.deviceUser(device), event.reason, event.at);
        if (connected.get(device) === 1) {
          connected.set(device, 0);
          onlineChange(ids.deviceUser(device), -1);
        }
        return;
      }
      case 'ack':
        offsetLo = Math.max(offsetLo, event.ts - event.at);
        return;
      case 'session': {
        now = event.at;
        const device = ids.device(event.user, event.device);
        sessionOf.set(device, event.at);
        userSessionAt.set(ids.deviceUser(device), event.at);
        if (event.node !== undefined) {
          const node = nodeNumber(event.node, event.at);
          userSessionNode.set(ids.deviceUser(device), node + 1);
          if (servingSince[node]! < lastRestart(node)) servingSince[node] = event.at;
        } else userSessionNode.set(ids.deviceUser(device), 0);
        unwatch(device);
        if (connected.get(device) === 0) {
          connected.set(device, 1);
          onlineChange(ids.deviceUser(device), 1);
        }
        return;
      }
      case 'watch-sent': {
        const device = ids.device(event.user, event.device);
        unwatch(device);
        const watching = event.users.map((user) => ids.user(user));
        while (watchingOf.length <= device) watchingOf.push(undefined);
        watchingOf[device] = watching;
        for (const user of watching) {
          watchers.set(user, watchers.get(user) + 1);
          const view = views.intern(device, user);
          viewFresh.set(view, 1);
          deadlines.asked(view, user, event.at);
        }
        return;
      }
      case 'fault':
        if (event.type === 'clock-offset') clockFaultAt = Math.min(clockFaultAt, event.at);
        if (event.phase === 'start' && nodeRestartFaultTypes.has(event.type))
          firstRestartFaultAt = Math.min(firstRestartFaultAt, event.at);
        if (event.phase === 'heal' && nodeRestartFaultTypes.has(event.type)) {
          if (event.nodes === undefined || event.nodes.length === 0) anyRestartAt = event.at;
          else for (const node of event.nodes) restartedAt[nodeNumber(node, event.at)] = event.at;
        }
        if (event.phase === 'start')
          faults.push({
            type: event.type,
            from: event.at,
            until: Number.POSITIVE_INFINITY,
            nodes: event.nodes ?? [],
            busOnly: event.busOnly === true,
          });
        else healed(event.type, event.at);
        return;
      case 'presence-seen':
        judge(event);
        return;
    }
  };

  return {
    property: presenceChangesProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(final: FinalState): CheckResult {
      // A change too close to the end may still be on its way: it proves nothing either way.
      const changes = changesAt.filter((at) => at <= final.at - slackMs).length;
      deadlines.end(final.at);
      const widened =
        knownWithinMs > slackMs
          ? `; nodes must know a session ${knownWithinMs} ms after it began (the scenario's presenceKnownWithinMs, not ${slackMs}): ${staleLetThrough.count} offline answers about a session begun earlier let through, the stalest ${Math.round(staleLetThrough.oldestMs)} ms after it began`
          : '';
      const details = `${judged} presence frames judged against the watcher's earlier frames and the user's sessions (${keptJudged} offline ones past a fault, against "never seen" while a node that saw the user kept its memory); ${changes} changes of watched users' presence made by the harness, ${deadlines.judged} (watcher, change) pairs judged shown in time${widened}`;
      return coveredResult(witness, presenceChangesProperty, details, {
        judged,
        judgedWhat: 'presence frame judged',
        done: changes,
        doneWhat: "changes of a watched user's presence (its first device came or its last went)",
      });
    },
  };
}
