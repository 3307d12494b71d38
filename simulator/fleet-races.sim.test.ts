// fleet-races reaches two fleet races at the gate's mutation profile (seed 1, 200 clients), and a node
// that gets either wrong fails the run:
// - a conversation created over HTTP through the admin's node and written to at once through another
//   node: the message's bus event reaches the third node before the create's `conversation` event
//   (mutant 1118 of the 0ff7ab0 sample took such a message as for a known conversation and threw);
// - the admin's node loses its bus subscription while node 2's clients come back from its crash: the
//   hellos it verifies meanwhile wait for its catch-up, and each must then be welcomed (mutant 387
//   dropped every held welcome: those clients waited for a welcome that never came).
// - node 1's link to the store loses the reply to an append the store carried out: the client sends it
//   again on the same connection, and the duplicate's seq is past anything that node has seen (the
//   conversation quiet meanwhile), so the node reads the stored message back and pushes it (mutant 808
//   sent that read as an operation no store carries out, and the run crashed).
// - users some client watches go away during the faults (every device, for good) while node 2 is killed
//   and restarts; at the settle their watchers dial again, some to node 2, which learnt from the others'
//   presence snapshots when they were last seen (mutant 1965 left the users a node saw go out of its
//   snapshots: the restarted node told those watchers "never seen", lastSeen 0).
// - a member sends 300 ms before each removal, through another node: slowed there, the message is
//   sequenced before the removal and reaches the removed user's node after it, which must push it to
//   that past member (mutant 1323 of the 0ff7ab0 sample never pushed to past members: at seed 5 a
//   removed user's device that stayed connected never got such a message, and the run did not settle).
// - the admin asks each of those removals once that message is acked (`workload.removalAfterAck`), so
//   its removed user was surely a member when it was sequenced: push reach owes it to that user's
//   devices online throughout, also where the removal came first (mutant 1100 of the 3c0f288 sample
//   found no connection for a past member: such a device was never pushed the message). Three times
//   while node 1 is slow to Redis (`workload.removalRacesAtMs`) the race is made to happen: a member on
//   node 1 sends, and at its ack the admin removes a member with a device open on its own node and none
//   on node 1, so the removal reaches that device's node before node 1's bus event of the message, at
//   every seed and size (mutant 1396 of the 4a1ec6e sample: canRead false for every past member).
// - late in the load node 1's store replies are all lost for 1.9 s: a sender that reconnects before it
//   sends again has its welcome's record read teach that node the seq, so the resend is a duplicate at
//   or below that node's lastSeq, of a message no node published; the node reads it back, pushes it and
//   publishes it (before session 26's fix it pushed it only to its own devices, by its gap fill: members
//   on other nodes got it only from a later message or a sync).
// - the admin's node loses every store request for 300 ms just as its bus comes back and node 2 restarts:
//   the catch-up each starts is lost (answered unavailable at the store timeout), and the node, stale,
//   must try it again after catchUpRetryMs (mutant 82 of the 3c0f288 sample scheduled that retry under a
//   kind that fell to the drain timeout's branch: every session cut 1012 with no `drain`, server-frames).
// - twice while the admin's node is slow to Redis and node 2 fast (`workload.quietRacesAtMs`) a group's
//   apps stop sending cursors, the admin adds a user to it and at the answer a member sends through
//   node 2: node 1 hears of the message before the change, holds its pushes and reads the group's record,
//   a read its store link loses then (a fault window losing every request). Nothing but the node's own
//   retry releases the push owed to a member's device kept online on node 1 (mutant 90 of the 4a1ec6e
//   sample: the retry timer did nothing; a cursor of any member had always rescued it before).
// - node 2, restarted, has the store requests it sends in its first 300 ms refused (`storeRefusedAfterStartMs`):
//   the catch-up it starts with fails, and no later start, death or bus cut makes it read again: only its
//   own retry releases the welcomes it holds (mutant 83 of the 74bbde3 sample emptied the retry timer's
//   block: its clients' hellos were never answered, and the run did not settle).
// - twice late in the load, every fault over (`workload.listenerRacesAtMs`), the admin creates through its
//   node a group of a sender there and a listener whose device sits idle on another node: only the bus
//   tells the listener's node of the group (mutant 1212 of the 74bbde3 sample published the create with
//   an empty kind: the listener was never pushed the sender's message).
// Each broken node here is the shipped one with one input handled wrongly, so the core stays as it ships
// (but for 1323's, which is the shipped core with Conversation.canRead answering false, spied on).

import { describe, expect, it, vi } from 'vitest';
import { ChatNode, type ChatNodeOptions } from '../reference-server/core/chat-node.ts';
import { Conversation } from '../reference-server/core/conversation.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { ConnIndex } from '../reference-server/core/fanout.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import type { TimerQueue } from '../reference-server/core/timer-queue.ts';
import type { ConversationRecord } from '../reference-server/store/message-store.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { DropsTimers } from './drops-timers.ts';
import type { Checker, HistoryEvent } from './history.ts';
import { type RunSummary, runScenario } from './run-scenario.ts';

const options = { seed: 1, clients: 200 };
const simTimeoutMs = 300_000;

/** Throws on a bus `msg` for a conversation it has not heard of (by load, the bus or a store answer). */
class ThrowsOnUnknownConversation extends ChatNode {
  private readonly heard = new Set<string>();

  override load(records: readonly ConversationRecord[]): void {
    for (const record of records) this.heard.add(record.id);
    super.load(records);
  }

  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'bus' && input.event.origin !== this.nodeId) {
      const event = input.event;
      if (event.kind === 'conversation') this.heard.add(event.conversation.id);
      if (event.kind === 'msg' && !this.heard.has(event.message.conv))
        throw new Error(`${this.nodeId}: a msg of ${event.message.conv}, a conversation it has not heard of`);
    }
    if (input.type === 'stored') {
      const outcome = input.outcome;
      if ('records' in outcome) for (const record of outcome.records) this.heard.add(record.id);
      if ('conversation' in outcome) this.heard.add(outcome.conversation.id);
    }
    return super.handle(input, now);
  }
}

/** Never welcomes a hello whose token is verified while the bus is lost (the core holds it for then). */
class DropsHelloWhileBusLost extends ChatNode {
  private busLost = false;

  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'bus-lost') this.busLost = true;
    if (input.type === 'bus-resumed') this.busLost = false;
    if (input.type === 'verified' && this.busLost) return [];
    return super.handle(input, now);
  }
}

/** Sends the read that follows a duplicate append's answer (the repush read) as an operation of no kind. */
class BreaksTheRepushRead extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const effects = super.handle(input, now);
    if (input.type !== 'stored' || !('duplicate' in input.outcome) || input.outcome.duplicate !== true)
      return effects;
    const seq = input.outcome.seq;
    return effects.map((effect) =>
      effect.type === 'store' &&
      effect.op.kind === 'read' &&
      effect.op.request.limit === 1 &&
      effect.op.request.after === seq - 1
        ? { ...effect, op: { ...effect.op, kind: '' as 'read' } }
        : effect,
    );
  }
}

/**
 * Schedules a failed catch-up's retry under a timer kind its tick does not know, so it falls to the
 * drain timeout's branch (mutant 82 of the 3c0f288 sample): every session cut 1012 with no `drain`
 * frame, and the catch-up never tried again.
 */
class CatchUpRetryDrains extends ChatNode {
  constructor(options: ChatNodeOptions) {
    super(options);
    const timers = (this as unknown as { timers: TimerQueue }).timers;
    const push = timers.push.bind(timers);
    timers.push = (at, kind, key) =>
      push(at, kind === 'catch-up' ? ('drain-like' as typeof kind) : kind, key);
  }
}

/** Finds no connection for a user when a push goes to past members (as mutant 1100 did). */
class NoPastMemberConnections extends ChatNode {
  constructor(options: ChatNodeOptions) {
    super(options);
    const shipped = this.connIndex;
    (this as unknown as { connIndex: ConnIndex }).connIndex = {
      connsOf: () => undefined,
      recordOf: (user) => shipped.recordOf(user),
    };
  }
}

/** Leaves the users it saw go (listed with 0 connections) out of the presence snapshots it publishes. */
class SnapshotsForgetGoneUsers extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    return super
      .handle(input, now)
      .map((effect) =>
        effect.type === 'publish' && effect.event.kind === 'presence-snapshot'
          ? { ...effect, event: { ...effect.event, users: effect.event.users.filter(([, n]) => n > 0) } }
          : effect,
      );
  }
}

/** Counts the duplicates it reads back at or below its lastSeq (a message it knows only from the store). */
class CountsReadBacksOfKnownSeqs extends ChatNode {
  readonly readBacks: { at: number; conv: string; seq: number }[] = [];

  override handle(input: Input, now: number): Effect[] {
    // A test's peek at the node's view: the core exposes no lastSeq, and the run is judged only by it.
    const view = this as unknown as {
      pending: Map<number, { kind: string; conv: string }>;
      convs: Map<string, { lastSeq: number }>;
    };
    const pending = input.type === 'stored' ? view.pending.get(input.id) : undefined;
    const lastSeq = pending?.kind === 'append' ? view.convs.get(pending.conv)?.lastSeq : undefined;
    const effects = super.handle(input, now);
    if (lastSeq === undefined || input.type !== 'stored' || !('duplicate' in input.outcome)) return effects;
    const seq = input.outcome.seq;
    const readBack = effects.some(
      (effect) =>
        effect.type === 'store' &&
        effect.op.kind === 'read' &&
        effect.op.request.limit === 1 &&
        effect.op.request.after === seq - 1,
    );
    if (readBack && seq <= lastSeq) this.readBacks.push({ at: now, conv: pending!.conv, seq });
    return effects;
  }
}

/** Learns nothing from the record it reads before refusing an HTTP request, as mutant 1213 did: answers by its own view. */
class HttpRecheckLearnsNothing extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const pending = (this as unknown as { pending: Map<number, { kind: string }> }).pending;
    if (
      input.type === 'stored' &&
      pending.get(input.id)?.kind === 'httpRecheck' &&
      'records' in input.outcome
    )
      return super.handle({ ...input, outcome: { ...input.outcome, records: [] } }, now);
    return super.handle(input, now);
  }
}

/**
 * Relays a bus receipt it holds for the record (a seq it has not seen) at once as well, by its own
 * (maybe stale) membership, as mutant 1099 did; the held one still goes out once the record is read.
 */
class RelaysUnseenReceipts extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const effects = super.handle(input, now);
    if (input.type !== 'bus' || input.event.kind !== 'receipt' || input.event.origin === this.nodeId)
      return effects;
    const { conv: id, user, cursor: kind, seq } = input.event;
    const conv = (this as unknown as { convs: Map<string, Conversation> }).convs.get(id);
    const held = conv?.heldReceipts.some(
      (move) => move.user === user && move.kind === kind && move.seq === seq,
    );
    if (conv === undefined || held !== true) return effects;
    const to = this.pushRecipients(conv, seq, null);
    if (to.length > 0) effects.push({ type: 'send', to, frame: { t: 'receipt', conv: id, user, kind, seq } });
    return effects;
  }
}

/**
 * Publishes the conversation record an admin HTTP create or membership change made with an empty kind
 * (mutant 1212 of the 74bbde3 seed-6 sample): the other nodes match no case and hear of it never.
 */
class HttpChangesUnheard extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    const effects = super.handle(input, now);
    if (input.type !== 'http' && input.type !== 'stored') return effects;
    return effects.map((effect) =>
      effect.type === 'publish' && effect.event.kind === 'conversation'
        ? { ...effect, event: { ...effect.event, kind: '' as 'conversation' } }
        : effect,
    );
  }
}

/** Runs fleet-races with `chatNode` in place of the shipped node: `property` must fail, its details matching. */
async function failsWith(
  chatNode: (node: ChatNodeOptions) => ChatNode,
  property: string,
  details: RegExp,
): Promise<RunSummary> {
  const summary = await runScenario(loadScenario('fleet-races'), { ...options, chatNode });
  const verdict = summary.verdicts.find((v) => v.property === property)!;
  expect(verdict.verdict).toBe('fail');
  expect(verdict.details).toMatch(details);
  expect(summary.exitCode).toBe(1);
  return summary;
}

describe('fleet-races', () => {
  it(
    "swaps a member out and a stranger in through the admin's node cut from the bus: a node that answers the stranger's read by its stale view fails read-pages",
    async () => {
      // The stale-node races' cursor reads during the run, answered by the shipped node.
      const reads: HistoryEvent[] = [];
      const spy: Checker = {
        property: 'spy',
        kinds: 'all',
        observe(event) {
          if (event.k === 'cursor-read' && event.askedAt !== undefined && event.status === 200)
            reads.push(event);
        },
        finish: () => ({ property: 'spy', verdict: 'pass', details: '', witness: [] }),
      };
      await runScenario(loadScenario('fleet-races'), { ...options, checkers: [spy] });
      expect(reads.length).toBeGreaterThanOrEqual(2);
      const summary = await runScenario(loadScenario('fleet-races'), {
        ...options,
        chatNode: (node) => new HttpRecheckLearnsNothing(node),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'read-pages')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/HTTP read refused to a member/);
    },
    simTimeoutMs,
  );

  it(
    'tells a node of a cursor at a seq it has not seen from a membership it has not heard of: one that relays it at once leaks it to the removed member',
    async () => {
      const summary = await runScenario(loadScenario('fleet-races'), {
        ...options,
        chatNode: (node) => new RelaysUnseenReceipts(node),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/unreadable seqs/);
      expect(JSON.stringify(verdict.witness)).toContain('in a receipt');
    },
    simTimeoutMs,
  );

  it(
    'sends again, after a lost store reply late in the load, messages a node knows only from the store: it reads them back',
    async () => {
      const scenario = loadScenario('fleet-races');
      const nodes: CountsReadBacksOfKnownSeqs[] = [];
      const summary = await runScenario(scenario, {
        ...options,
        chatNode: (node) => {
          const counting = new CountsReadBacksOfKnownSeqs(node);
          nodes.push(counting);
          return counting;
        },
      });
      expect(summary.exitCode).toBe(0);
      // The window that loses every reply and no request (the store-flaky windows appended after it lose requests).
      const window = scenario.faults.find((f) => f.type === 'store-flaky' && f.repliesFraction === 1)!;
      expect(window.type === 'store-flaky' && window.fraction).toBe(0);
      // After the window opened: the lost replies' resends.
      const opened = scenario.phases.warmupMs + window.atMs;
      const late = nodes.flatMap((node) => node.readBacks).filter((r) => r.at >= opened);
      expect(late.length).toBeGreaterThan(5);
    },
    simTimeoutMs,
  );

  it(
    'reaches a message of a new conversation before its create at a third node: a node that throws there fails',
    async () => {
      await expect(
        runScenario(loadScenario('fleet-races'), {
          ...options,
          chatNode: (node) => new ThrowsOnUnknownConversation(node),
        }),
      ).rejects.toThrow(/a msg of h[gd]\d+, a conversation it has not heard of/);
    },
    simTimeoutMs,
  );

  it(
    'holds hellos while the admin node is cut from the bus: a node that never welcomes them fails read-pages',
    async () => {
      const summary = await runScenario(loadScenario('fleet-races'), {
        ...options,
        chatNode: (node) => new DropsHelloWhileBusLost(node),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'read-pages')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/hello never answered/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    'tells a restarted node when the users others saw go were last seen: one told nothing answers their watchers 0 and fails presence-changes',
    async () => {
      const judged = (summary: { verdicts: { property: string; verdict: string; details: string }[] }) =>
        summary.verdicts.find((v) => v.property === 'presence-changes')!;
      // The away users: every device's session lost in the first half of the faults phase (4-12 s), none after.
      const lastSession = new Map<string, number>();
      const lastLost = new Map<string, number>();
      const rewatched = new Set<string>();
      let settleAt = Number.POSITIVE_INFINITY;
      const observe = (event: HistoryEvent): void => {
        if (event.k === 'phase' && event.phase === 'settle') settleAt = event.at;
        if (event.k === 'session') lastSession.set(event.user, event.at);
        if (event.k === 'session-lost') lastLost.set(event.user, event.at);
        if (event.k === 'watch-sent' && event.at >= settleAt)
          for (const user of event.users) rewatched.add(user);
      };
      const shipped = judged(
        await runScenario(loadScenario('fleet-races'), { ...options, recorder: { observe, tick: () => {} } }),
      );
      const away = [...lastLost].filter(
        ([user, at]) => at >= 4000 && at < 12_000 && lastSession.get(user)! < at && !/^x/.test(user),
      );
      expect(away.length).toBe(4);
      for (const [user] of away) expect(rewatched.has(user)).toBe(true);
      expect(shipped.verdict).toBe('pass');
      const reached = /\((\d+) offline ones past a fault/.exec(shipped.details);
      expect(Number(reached?.[1])).toBeGreaterThan(0);
      const summary = await runScenario(loadScenario('fleet-races'), {
        ...options,
        chatNode: (node) => new SnapshotsForgetGoneUsers(node),
      });
      expect(judged(summary).verdict).toBe('fail');
      expect(judged(summary).details).toMatch(/lastSeen 0 for a user the fleet saw/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    'reaches a message sequenced before a removal that reaches a node after it: a node that never pushes to a past member fails',
    async () => {
      // The races are made at the times the scenario sets: a send then, and a removal at its ack.
      const scenario = loadScenario('fleet-races');
      const raceAt = new Set(scenario.workload.removalRacesAtMs.map((at) => scenario.phases.warmupMs + at));
      expect(raceAt.size).toBe(3);
      const sends = new Map<string, number>();
      const removalsAfterRaceSends: number[] = [];
      const observe = (event: HistoryEvent): void => {
        if (event.k === 'send' && raceAt.has(event.at)) sends.set(event.conv, event.at);
        if (event.k === 'ack' && sends.has(event.conv)) sends.set(event.conv, event.at);
        if (event.k === 'members-sent' && event.remove.length === 1 && sends.get(event.conv) !== undefined) {
          removalsAfterRaceSends.push(event.at - sends.get(event.conv)!);
          sends.delete(event.conv);
        }
      };
      const shipped = await runScenario(scenario, { ...options, recorder: { observe, tick: () => {} } });
      expect(shipped.exitCode).toBe(0);
      // Each removal asked within an ack poll of the ack (of the race's message or a later one in the group).
      // A race whose message's store reply is lost (the slow node also loses a share of append replies)
      // waits for the resend's ack, which may come only at the end of the load: since session 28's span
      // reader moved the trace, seed 1's third race is such a one. Two of the three are made. Since
      // session 29 the stale-node, quiet and stale-welcome races take groups and move the trace, and at
      // seed 1 one of the three makes no removal (not traced further): two removals at least.
      expect(removalsAfterRaceSends.length).toBeGreaterThanOrEqual(2);
      expect(removalsAfterRaceSends.filter((gap) => gap < 10).length).toBeGreaterThanOrEqual(2);
      const spy = vi.spyOn(Conversation.prototype, 'canRead').mockReturnValue(false);
      try {
        const summary = await runScenario(loadScenario('fleet-races'), options);
        // Push reach owes a removed user what was acked before the admin asked (session 26); no-loss
        // caught it here only while the device happened to see nothing else of the conversation.
        const reach = summary.verdicts.find((v) => v.property === 'delivery-mode')!;
        expect(reach.verdict).toBe('fail');
        expect(reach.details).toMatch(/never pushed to a past member online throughout/);
        expect(summary.exitCode).toBe(1);
      } finally {
        spy.mockRestore();
      }
    },
    simTimeoutMs,
  );

  it(
    'removes a user once a message sent before is acked: a node that never pushes to past members fails push reach there',
    async () => {
      // Made to happen by `workload.removalRacesAtMs` (session 28): before it, the race was reached by
      // chance (this deviant failed at 3 of seeds 1-5 x 200 and 600 clients); now at all 10.
      const summary = await runScenario(loadScenario('fleet-races'), {
        ...options,
        chatNode: (node) => new NoPastMemberConnections(node),
      });
      const reach = summary.verdicts.find((v) => v.property === 'delivery-mode')!;
      expect(reach.verdict).toBe('fail');
      expect(reach.details).toMatch(/message never pushed to a past member online throughout/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    "fails the admin node's catch-up as its bus comes back: a node that never tries it again fails",
    async () => {
      const summary = await runScenario(loadScenario('fleet-races'), {
        ...options,
        chatNode: (node) => new CatchUpRetryDrains(node),
      });
      const frames = summary.verdicts.find((v) => v.property === 'server-frames')!;
      expect(frames.verdict).toBe('fail');
      expect(frames.details).toMatch(/malformed close/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    "fails a third node's read of a group's record that a message outran, the group then cursor-free: a node that never reads it again fails push reach",
    async () => {
      await failsWith(
        (node) => new DropsTimers(node, 'members'),
        'delivery-mode',
        /message never pushed to a member online throughout/,
      );
    },
    simTimeoutMs,
  );

  it(
    'reaches an append carried out whose reply was lost, sent again as a duplicate the node never pushed: a node that cannot read it back fails',
    async () => {
      await expect(
        runScenario(loadScenario('fleet-races'), {
          ...options,
          chatNode: (node) => new BreaksTheRepushRead(node),
        }),
      ).rejects.toThrow(/Cannot read properties of undefined/);
    },
    simTimeoutMs,
  );

  it(
    "creates late in the load a group whose listener sits idle on another node than the admin's: a node that never hears of an HTTP create fails push reach",
    async () => {
      const created: string[] = [];
      const observe = (event: HistoryEvent): void => {
        if (event.k === 'conv' && /^l\d+$/.test(event.conv)) created.push(event.conv);
      };
      const shipped = await runScenario(loadScenario('fleet-races'), {
        ...options,
        recorder: { observe, tick: () => {} },
      });
      expect(shipped.exitCode).toBe(0);
      expect(created).toEqual(['l0', 'l1']);
      await failsWith(
        (node) => new HttpChangesUnheard(node),
        'delivery-mode',
        /message never pushed to a member online throughout/,
      );
    },
    simTimeoutMs,
  );

  it(
    "loses the restarted node's first catch-up read: a node that never tries it again never welcomes its hellos",
    async () => {
      const summary = await failsWith(
        (node) => new DropsTimers(node, 'catch-up'),
        'read-pages',
        /hello never answered/,
      );
      expect(summary.settledAtMs).toBeNull();
    },
    simTimeoutMs,
  );
});
