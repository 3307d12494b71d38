// Judges protocol.md guarantee 6, authorization: nothing about a conversation reaches a non-member.
// What is allowed comes from the MembershipOracle (the harness's own requests and observations, never
// the server's spans): `msg`/`batch` frames carry only seqs the user may read; a `receipt` (a cursor is
// news about one seq) reaches a user who may read that seq or who is a member then (protocol.md sends
// receipts "to members", so a new member may hear of a cursor below its join, and a just-removed member
// of one it could read); a `welcome`'s lastSeq for a conversation is news about that seq, judged as a
// receipt's (v1.1: the entry of a conversation the user was removed from stops at the last seq it may
// read, so a welcome tells a removed user nothing sequenced after its removal); `notify` and `typing`
// reach only users who are members then, a
// removal counting from its answer plus `graceMs` for frames already in flight, and for a frame from a
// node that was paused while the removal took effect, from the end of that pause plus `graceMs` (it
// works through what it held back when it resumes), and while a fault slowed client links (bandwidth,
// slow consumers, latency), from its heal plus `slowLinkDrainMs` (a frame sent before the removal may
// sit queued behind others on a slowed link: exploration seed 88715225069581, a typing sent 150 ms
// before the removal arrived 1.2 s after it at 3% bandwidth); every message comes from a member; the server's
// claims about where a change took effect are consistent with what the harness saw; and every
// adversarial `attempt` gets an `outcome` that is not 'accepted' (and one naming a conversation no one
// created is refused `not_found`, not `forbidden` or a batch; a send or sync, forbidden or not, gets an
// answer: protocol.md's `send` gets an `ack` or an `err`, `sync` a `batch` or an `err`, so an attempt
// the adversary gave up waiting for is silence, judged as read-pages judges it; a re-watch of a user a
// connection at the server's watch bound already watches adds no user and is owed its presence
// (`served`; adversary.ts); text that is no valid frame is owed `bad_request` (up to the bound; the one
// past it close 4400) and a text frame over 64 KiB close 1009 (a close of a malformed text's connection
// is no verdict unless it is a 4400 within the bound, nor, after any fault, the big one's or the one past
// the bound's other close): silence judged the same way: with `judgeSilence`
// only, and only while no fault but a loud one (reset_peer) had started, since a fault may leave a
// connection silently dead after its heal); and the other side: a member is not
// refused (member-refusals.ts), and a welcome lists every conversation the user is a member of, each
// with the right v1.1 `member` flag (welcome-lists.ts). The oracle's 'no' is final and convicts at once; a 'maybe' is kept
// (bounded) and judged again at the end, when the bounds are tight.

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
import { FaultQuiet, SessionNodes } from './fault-quiet.ts';
import { MemberRefusals, memberRefusalsKinds } from './member-refusals.ts';
import { type MembershipChange, membershipKinds, type Tri } from './membership-oracle.ts';
import { WelcomeLists, welcomeListsKinds } from './welcome-lists.ts';
import { WitnessList } from './witness-list.ts';

export const authorizationProperty = 'authorization';

export type AuthorizationOptions = CheckerOptions & {
  /** How long after a removal's answer frames already in flight may still reach the removed member. */
  graceMs?: number;
  /**
   * Judge an adversary's send or sync answered by silence (default true). Only where the server's speed
   * is not part of the run: with a cost model or live, a busy node may answer after the client's wait.
   */
  judgeSilence?: boolean;
  /**
   * How long with no fault open after the answer that made a user a member a welcome may still leave
   * that conversation out (a fleet node hears of a change made through another node by its bus).
   */
  welcomeLagMs?: number;
  /**
   * The harness set the server's per-connection watch bound, and watch-past-bound watches one user
   * past it (the simulator): a watch past it served is a violation (protocol.md: a watch naming a new
   * user past the bound is answered `bad_request`). Unset, a server's bound is its own (it may have none).
   */
  watchBoundKnown?: boolean;
  /**
   * The nodes' hello timeout (the scenario's; default protocol.md's 5 s): a clock set within it before
   * an early 4408 may have moved that connection's deadline (see `clockSteps`).
   */
  helloTimeoutMs?: number;
};

type ConvFrame = Extract<HistoryEvent, { k: 'conv-frame' }>;
type Attempt = Extract<HistoryEvent, { k: 'attempt' }>;
type Sequenced = Extract<HistoryEvent, { k: 'durable' | 'ack' }>;
type Suspect =
  | { kind: 'unreadable seqs'; event: ConvFrame; conv: string; user: string; seqs: number[] }
  | { kind: 'message from a non-member'; event: Sequenced; conv: string; user: string; seqs: number[] }
  | { kind: 'frame to a non-member'; event: ConvFrame; conv: string; user: string };

/** `welcome`: one entry of a welcome, its lastSeq as the seq (from the `cursor-seen` it records). */
const seqFrames: ReadonlySet<string> = new Set(['msg', 'batch', 'receipt', 'welcome']);
/** Faults that slow what reaches a client without closing its connection. */
const slowLinkFaults: ReadonlySet<string> = new Set([
  'bandwidth',
  'slow-consumer',
  'latency',
  'rate-limited-link',
]);
/** How long after a slow-link fault heals frames queued on the slowed links may still arrive. */
const slowLinkDrainMs = 5000;
const memberFrames: ReadonlySet<string> = new Set(['notify', 'typing']);
/** Attempts protocol.md promises an answer to (a foreign resume or typing may be refused by silence). */
const answerOwed: ReadonlySet<string> = new Set([
  'foreign-send',
  'foreign-sync',
  'missing-conv',
  'rewatch-at-bound',
  'malformed-text',
  'binary-frame',
  'bad-frame-past-limit',
  'oversize-text',
  'silent-connection',
  'wrong-first-frame',
]);
/** Faults that close connections where both ends see it, and never leave one silently dead. */
const loudFaults: ReadonlySet<string> = new Set(['reset_peer']);

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  ...membershipKinds,
  ...memberRefusalsKinds,
  ...welcomeListsKinds,
  'send',
  'conv-frame',
  'cursor-seen',
  'durable',
  'ack',
  'fault',
  'attempt',
  'outcome',
  'phase',
  'session',
] as const satisfies readonly HistoryKind[];

export function createAuthorizationChecker(options: AuthorizationOptions = {}): Checker {
  const { ids, limits, membership } = resolveCheckerOptions(options);
  const graceMs = options.graceMs ?? 1000;
  const judgeSilence = options.judgeSilence ?? true;
  const watchBoundKnown = options.watchBoundKnown ?? false;
  const helloTimeoutMs = options.helloTimeoutMs ?? 5000;
  /**
   * When a node's clock was set (a clock-offset fault's start or heal; a run has a few hundred faults at
   * most). The core's hello deadline is on the node's wall clock, and a step forward cannot be told from
   * time passing (timer-queue.ts): a deadline then falls due early, by the step. An early 4408 with such
   * a step since the connection could have begun (within the hello timeout before the close) is the
   * harness's clock fault, not the server's; swarm seed 134799303094587 (n0 set an hour ahead 4.3 s
   * into a silent connection, closed at once) failed without it.
   */
  const clockSteps: number[] = [];
  let earlyAfterClockStep = 0;
  /** The first fault started that may silence a connection (silence is not judged after it), or null. */
  let quietingFault: string | null = null;
  /** The first fault started, or null. */
  let firstFault: string | null = null;
  let silences = 0;
  /** Silences judged by the faults on the attempt's own node (after a quieting fault had started). */
  let silencesOnQuietNode = 0;
  const faults = new FaultQuiet();
  /** Per device, when its latest session began to connect, and its node (the `session` event's). */
  const connectedFrom = float64Column(Number.NaN);
  const sessionNodes = new SessionNodes();
  const pauses = new PauseBook();
  const suspects: Suspect[] = [];
  const attempts = new Map<number, Attempt>();
  const outcomes = new Map<string, number>();
  const witness = new WitnessList(limits.witnessCasesMax);
  let settleAt = Number.POSITIVE_INFINITY;
  let evicted = 0;
  let judged = 0;
  let unresolved = 0;
  let sends = 0;

  const convict = (entry: Suspect): void => {
    witness.add(entry.kind, () => ({
      problem: problemOf(entry),
      path: [{ k: 'membership', ...(membership.describe(entry.conv, entry.user) as object) }, entry.event],
    }));
  };

  /** 'no' convicts now (final); 'maybe' waits for the end, when the oracle's bounds are tight. */
  const weigh = (verdict: Tri, entry: Suspect): void => {
    if (verdict === 'no') convict(entry);
    else if (verdict === 'maybe') {
      if (suspects.length < limits.authorizationSuspectsMax) suspects.push(entry);
      else unresolved++;
    }
  };

  const refusals = new MemberRefusals(membership, ({ refusal, ref, sentFrom, readable }) => {
    if (readable !== undefined)
      return witness.add('read of its own past refused', () => ({
        problem: `${refusal.user}/${refusal.device} was refused its ${ref} on ${refusal.conv} with ${refusal.code} at ${refusal.at}, though it asked for seqs ${readable[0]}..${readable[1]}, which existed then and which it surely may read (a member when they were sequenced: protocol.md guarantee 6)`,
        path: [{ k: 'membership', ...(membership.describe(refusal.conv, refusal.user) as object) }, refusal],
      }));
    witness.add('member refused', () => ({
      problem: `${refusal.user}/${refusal.device} was refused its ${ref} on ${refusal.conv} with ${refusal.code} at ${refusal.at}, though surely a member from ${sentFrom} (its frame was sent then or later) until then`,
      path: [{ k: 'membership', ...(membership.describe(refusal.conv, refusal.user) as object) }, refusal],
    }));
  });

  const welcomes = new WelcomeLists(
    membership,
    options.welcomeLagMs ?? 3000,
    ({ session, conv, memberSince, cut }) =>
      witness.add('welcome without a conversation', () => ({
        problem: `${session.user}/${session.device}'s welcome at ${session.at}${session.node === undefined ? '' : ` from ${session.node}`} did not list ${conv}, though ${session.user} was surely a member of it from ${memberSince} (the create or add answered) until then, ${cut ? `and its connection began (at ${session.at - session.connectMs}) after ${session.node} was cut from the bus, a cut that healed after that answer: a node that lost its bus catches up from the store before it welcomes (protocol.md)` : `with ${options.welcomeLagMs ?? 3000} ms of no fault between that and the connection`} (protocol.md: a welcome lists every conversation the user is a member of)`,
        path: [{ k: 'membership', ...(membership.describe(conv, session.user) as object) }, session],
      })),
    ({ session, conv, member, removed, since }) =>
      witness.add('welcome with a wrong member flag', () => ({
        problem: `${session.user}/${session.device}'s welcome at ${session.at}${session.node === undefined ? '' : ` from ${session.node}`} listed ${conv} with member ${member === undefined ? 'left out (a current member)' : member}, though ${session.user} was surely ${removed ? `removed from it from ${since} (the removal answered)` : `a member of it from ${since} (the create or add answered)`} until then, with ${options.welcomeLagMs ?? 3000} ms of no fault between that and the connection (protocol.md v1.1: an entry for a conversation the user was removed from carries member: false, a current membership's does not)`,
        path: [{ k: 'membership', ...(membership.describe(conv, session.user) as object) }, session],
      })),
  );

  const graceFor =
    (event: ConvFrame) =>
    (change: MembershipChange): number =>
      Math.max(
        graceMs,
        pauses.heldUntil(event.node, change.sentAt, change.answeredAt) + graceMs - change.answeredAt,
        pauses.slowUntil(change.sentAt, change.answeredAt) + slowLinkDrainMs - change.answeredAt,
      );

  const judgeFrame = (event: ConvFrame): Tri => {
    if (!seqFrames.has(event.t))
      return membership.memberAt(event.conv, event.user, event.at, graceFor(event));
    const seqs = event.seqs ?? [];
    let worst: Tri = 'yes';
    for (const seq of seqs) {
      const verdict = membership.readable(event.conv, event.user, seq);
      if (verdict === 'no') worst = 'no';
      else if (verdict === 'maybe' && worst === 'yes') worst = 'maybe';
    }
    // A receipt goes "to members" (protocol.md): a current member may hear of a cursor below its join.
    if ((event.t === 'receipt' || event.t === 'welcome') && worst !== 'yes')
      worst = either(worst, membership.memberAt(event.conv, event.user, event.at, graceFor(event)));
    // A welcome's lastSeq may be the seq a past membership began after, told at the join, even when
    // the user was removed again before any message (its last span holds no seq).
    if (event.t === 'welcome' && worst !== 'yes' && seqs.length === 1)
      worst = either(worst, membership.knownAtJoin(event.conv, event.user, seqs[0]!));
    return worst;
  };

  const observeFrame = (event: ConvFrame): void => {
    if (!seqFrames.has(event.t) && !memberFrames.has(event.t)) return;
    judged++;
    const verdict = judgeFrame(event);
    if (verdict === 'yes') return;
    const { conv, user } = event;
    if (!seqFrames.has(event.t)) return weigh(verdict, { kind: 'frame to a non-member', event, conv, user });
    // Convicted now: the seqs surely unreadable; kept for later: every seq not surely readable.
    const seqs = (event.seqs ?? []).filter((seq) => {
      const readable = membership.readable(conv, user, seq);
      return verdict === 'no' ? readable === 'no' : readable !== 'yes';
    });
    weigh(verdict, { kind: 'unreadable seqs', event, conv, user, seqs });
  };

  const observeSequenced = (event: Sequenced, conv: string, user: string, seq: number): void => {
    judged++;
    weigh(membership.readable(conv, user, seq), {
      kind: 'message from a non-member',
      event,
      conv,
      user,
      seqs: [seq],
    });
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    membership.observe(event);
    refusals.observe(event);
    welcomes.observe(event);
    switch (event.k) {
      case 'send':
        sends++;
        return;
      case 'conv-frame':
        return observeFrame(event);
      case 'cursor-seen':
        // Each welcome entry comes as two cursors of one lastSeq: judged once.
        if (event.source === 'welcome' && event.kind === 'delivered' && event.lastSeq > 0)
          observeFrame({
            k: 'conv-frame',
            at: event.at,
            conv: event.conv,
            t: 'welcome',
            seqs: [event.lastSeq],
            user: event.user,
            device: event.device,
          });
        return;
      case 'durable':
        return observeSequenced(event, event.message.conv, event.message.from, event.message.seq);
      case 'ack':
        return observeSequenced(event, event.conv, event.user, event.seq);
      case 'fault':
        if (event.phase === 'start' && !loudFaults.has(event.type)) quietingFault ??= event.type;
        if (event.phase === 'start') firstFault ??= event.type;
        if (event.type === 'clock-offset') clockSteps.push(event.at);
        faults.observe(event);
        return pauses.observe(event);
      case 'session':
        connectedFrom.set(ids.device(event.user, event.device), event.at - event.connectMs);
        sessionNodes.set(ids.device(event.user, event.device), event.node);
        return;
      case 'attempt':
        if (attempts.size >= limits.pendingAttemptsMax) {
          attempts.delete(attempts.keys().next().value!);
          evicted++;
        }
        attempts.set(event.id, event);
        return;
      case 'outcome':
        return observeOutcome(event);
      case 'phase':
        if (event.phase === 'settle') settleAt = Math.min(settleAt, event.at);
        return;
    }
  };

  /**
   * Whether nothing could have kept the attempt's answer from its device, by the faults on the node of
   * the session it was made on (read-pages' rule for a request given up on, fault-quiet.ts): no fault
   * that cuts that session, or that slows what its node's store and bus answer (a fleet node reads the
   * conversation's record before refusing a member-only frame; a lossy store link times that read out,
   * 2 s a try), was open at any moment from the attempt to the client's give-up, and the connection
   * began after the last fault that cut it (one cut before may stay silently dead after the heal). A
   * fault that fails the store and refuses at once leaves the node to answer with an err.
   */
  const quietOnItsNode = (attempt: Attempt, gaveUpAt: number): boolean => {
    const device = ids.device(attempt.user, attempt.device);
    const node = sessionNodes.get(device);
    const connectedAt = connectedFrom.get(device);
    return !faults.cutOrSlowedDuring(attempt.at, gaveUpAt, node) && connectedAt > faults.cutLastAt(node);
  };

  // Apart from observe: a closure there would make every call allocate a context for what it captures.
  const observeOutcome = (event: HistoryEvent & { k: 'outcome' }): void => {
    const attempt = attempts.get(event.id);
    attempts.delete(event.id);
    outcomes.set(event.result, (outcomes.get(event.result) ?? 0) + 1);
    if (event.result === 'accepted') {
      witness.add('attempt accepted', () => ({
        problem: `the server let ${attempt?.user ?? 'an adversary'} through: ${attempt?.action ?? `attempt ${event.id}`} on ${attempt?.conv ?? '?'}`,
        path: attempt === undefined ? [event] : [attempt, event],
      }));
    } else if (
      attempt?.action === 'missing-conv' &&
      (event.result === 'forbidden' || event.result === 'empty')
    ) {
      // protocol.md: `not_found` is "no such conversation"; `forbidden` is "not a member" of one.
      witness.add('a missing conversation not refused not_found', () => ({
        problem: `${attempt.user} named ${attempt.conv}, which no one created, and got ${event.result === 'empty' ? 'a batch' : `\`${event.result}\``}, not \`not_found\``,
        path: [attempt, event],
      }));
    } else if (
      attempt?.action === 'foreign-sync' &&
      event.result === 'empty' &&
      !membership.hasChanges(attempt.conv, attempt.user) &&
      membership.readable(attempt.conv, attempt.user, 1) === 'no'
    ) {
      // A batch, even an empty one, tells its `lastSeq` (how far the conversation went) to a user who was
      // never a member: protocol.md answers a non-member's member-only frame with `forbidden`.
      witness.add('a stranger served a batch', () => ({
        problem: `${attempt.user}, never a member of ${attempt.conv}, synced it and got a batch (empty), not \`forbidden\``,
        path: [attempt, event],
      }));
    } else if (
      attempt?.action === 'silent-connection' &&
      event.result === 'closed:4408-early' &&
      clockSteps.some((at) => at > event.at - helloTimeoutMs && at <= event.at)
    ) {
      earlyAfterClockStep++;
    } else if (
      attempt?.action === 'silent-connection' &&
      (event.result === 'closed:4408-early' || /^closed:4\d\d\d$/.test(event.result)) &&
      event.result !== 'closed:4408'
    ) {
      // protocol.md "Signing in": a connection with no hello within 5 s of opening is closed 4408, and
      // one that has had its 5 s is not yet; a server close with another 4xxx code is the wrong close.
      witness.add('a connection without a hello closed wrongly', () => ({
        problem:
          event.result === 'closed:4408-early'
            ? `${attempt.user} opened a connection and sent nothing, and it was closed 4408 at ${event.at}, before the server's hello timeout had passed since the connection began (protocol.md: a hello is owed "within 5 s of opening")`
            : `${attempt.user} opened a connection and sent nothing, and it was closed ${event.result.slice(7)}, not 4408 (protocol.md: "otherwise the server closes with 4408")`,
        path: [attempt, event],
      }));
    } else if (
      attempt?.action === 'wrong-first-frame' &&
      event.result !== 'closed:4401' &&
      event.result !== 'no-answer' &&
      (!event.result.startsWith('closed:') || /^closed:4\d\d\d$/.test(event.result))
    ) {
      // Silence is judged below; a close by a fault (a reset, a drain's 1012) is no verdict.
      witness.add('a first frame that is not a hello answered wrongly', () => ({
        problem: `${attempt.user} opened a connection with a frame that is not a hello and got ${event.result.startsWith('closed:') ? `close ${event.result.slice(7)}` : `\`${event.result}\``}, not close 4401 (protocol.md "Signing in": "a first frame that is not a hello, gets close 4401")`,
        path: [attempt, event],
      }));
    } else if (attempt?.action === 'watch-past-bound' && event.result === 'closed:4400' && watchBoundKnown) {
      // The adversary that watches past the bound sends no other bad frame (malformed-text and
      // frames-before-welcome are other adversaries'): the watch is its connection's first, not its 11th.
      witness.add('a watch past the bound closed the connection', () => ({
        problem: `${attempt.user}'s connection watched one user more than the bound the harness set on the server, and was closed 4400, not answered \`bad_request\` (protocol.md: a watch naming a new user past the bound is answered with \`bad_request\`; only the 11th bad frame on one connection closes it with 4400)`,
        path: [attempt, event],
      }));
    } else if (attempt?.action === 'watch-past-bound' && event.result === 'served' && watchBoundKnown) {
      witness.add('a watch past the bound served', () => ({
        problem: `${attempt.user}'s connection watched one user more than the bound the harness set on the server, and got that user's presence, not \`bad_request\` (protocol.md: a watch naming a new user past the bound)`,
        path: [attempt, event],
      }));
    } else if (
      attempt?.action === 'rewatch-at-bound' &&
      event.result !== 'served' &&
      event.result !== 'no-answer' &&
      !event.result.startsWith('closed:')
    ) {
      // A connection at the server's watch bound watching a user it already watches adds no user:
      // protocol.md's `watch` answers a presence per user, and the bound only limits how many.
      witness.add('a re-watch at the bound refused', () => ({
        problem: `${attempt.user}'s connection watched exactly the server's bound of users and watched one of them again, and got \`${event.result}\`, not its presence`,
        path: [attempt, event],
      }));
    } else if (
      (event.result === 'no-answer' && attempt !== undefined && answerOwed.has(attempt.action)) ||
      (event.result === 'closed:4408-late' && attempt?.action === 'silent-connection')
    ) {
      // A 4408 that came more than a second past the hello timeout is judged as silence is: owed in time
      // (protocol.md "within 5 s of opening; otherwise the server closes with 4408"), excused as silence is.
      silences++;
      if (!judgeSilence) return;
      const quietNode = quietingFault !== null && quietOnItsNode(attempt, event.at);
      if (quietingFault !== null && !quietNode) return;
      if (quietNode) silencesOnQuietNode++;
      const excuse = quietNode
        ? `no fault that cuts a client from its node (${sessionNodes.get(ids.device(attempt.user, attempt.device)) ?? 'the only node'}) or slows what its store and bus answer was open from the attempt to the wait's end, and the connection began after the last that cut it`
        : 'with no fault but a loud one started';
      witness.add('an attempt answered by silence', () => ({
        problem:
          event.result === 'closed:4408-late'
            ? `${attempt.user} opened a connection at ${attempt.at} and sent nothing, and it was closed 4408 only at ${event.at}, more than a second past the server's hello timeout, ${excuse} (protocol.md "Signing in": a hello is owed "within 5 s of opening; otherwise the server closes with 4408")`
            : `${attempt.user}'s ${attempt.action} on ${attempt.conv} sent at ${attempt.at} got neither an answer nor a close in the client's wait (to ${event.at}), ${excuse} (protocol.md: a send gets an \`ack\` or an \`err\`, a sync a \`batch\` or an \`err\`)`,
        path: [attempt, event],
      }));
    } else if (
      ((attempt?.action === 'malformed-text' || attempt?.action === 'binary-frame') &&
        event.result !== 'bad_request') ||
      (attempt?.action === 'oversize-text' && event.result !== 'closed:1009') ||
      (attempt?.action === 'bad-frame-past-limit' && event.result !== 'closed:4400')
    ) {
      // Silence is judged above. A close is no verdict on a bad frame (a fault's reset), except 4400 on
      // one within the bound: the adversary sends at most the bound's bad frames on a connection before
      // the one past it, and answers come in order, so a 4400 with one of them unanswered came early
      // (protocol.md: "the 11th on one connection closes it with 4400"). Nor is a close on the oversize
      // one or the one past the bound once any fault started (it may end the connection first).
      const closed = event.result.startsWith('closed:');
      const closesMore = attempt.action === 'oversize-text' || attempt.action === 'bad-frame-past-limit';
      if (
        event.result !== 'no-answer' &&
        (!closed || (closesMore && firstFault === null) || (!closesMore && event.result === 'closed:4400'))
      )
        witness.add('malformed text answered wrongly', () => ({
          problem:
            event.result === 'closed:4400' && !closesMore
              ? `${attempt.user}'s connection was closed 4400 before the answer to a bad frame within the bound (protocol.md: "the 11th on one connection closes it with 4400"; the adversary sends at most the bound's bad frames before the one past it)`
              : attempt.action === 'malformed-text'
                ? `${attempt.user} sent text that is no valid frame and got \`${event.result}\`, not \`bad_request\` (protocol.md: "a malformed or invalid frame, or an unknown type")`
                : attempt.action === 'binary-frame'
                  ? `${attempt.user} sent a binary frame and got \`${event.result}\`, not \`bad_request\` (protocol.md: every message is a text frame; \`bad_request\` answers "a malformed or invalid frame")`
                  : attempt.action === 'bad-frame-past-limit'
                    ? `${attempt.user} sent one bad frame past the bound on a connection and got ${closed ? `close ${event.result.slice(7)}` : `\`${event.result}\``}, not close 4400 (protocol.md: "the 11th on one connection closes it with 4400")`
                    : `${attempt.user} sent a text frame over 64 KiB and got ${closed ? `close ${event.result.slice(7)}` : `\`${event.result}\``}, not close 1009 (protocol.md)`,
          path: [attempt, event],
        }));
    }
  };

  /** At the end the oracle's bounds are as tight as they get: a suspect still 'maybe' is allowed. */
  const rejudge = (entry: Suspect): void => {
    if (entry.kind === 'frame to a non-member') {
      if (judgeFrame(entry.event) === 'no') convict(entry);
      return;
    }
    // A welcome is judged again by the whole rule, as when it came, now with every change answered: its
    // membership then and its join too, not its seqs alone (a welcome while a re-add was in flight named
    // the seq its new span began after: fleet-races seed 6 at 600 clients, u4 in g0; one a fleet node
    // built from a catch-up that read an add still unanswered lists the conversation at its join:
    // fleet-races seed 2 at 200 clients). A receipt is not: one at a seq sequenced after the user's
    // removal was made after it, so no grace for frames in flight covers it (mutant 1099 of the 74bbde3
    // seed-5 sample relayed such receipts by a fleet node's stale view): a receipt passes here only for a
    // user who may have been a member when it came with no grace at all (a current member may hear of a
    // cursor below its join: a receipt while a re-add was in flight, as the welcome above).
    if (entry.kind === 'unreadable seqs') {
      const { event } = entry;
      if (event.t === 'welcome' && judgeFrame(event) !== 'no') return;
      if (event.t === 'receipt' && membership.memberAt(event.conv, event.user, event.at, () => 0) !== 'no')
        return;
    }
    entry.seqs = entry.seqs.filter((seq) => membership.readable(entry.conv, entry.user, seq) === 'no');
    if (entry.seqs.length > 0) convict(entry);
  };

  const judgeClaims = (): void => {
    for (const change of membership.inconsistentClaims()) {
      witness.add('membership answer contradicting the history', () => ({
        problem: `the server answered that ${describeChange(change)} took effect after ${change.conv}#${change.claim}, but the harness saw it had to be between #${change.lo} and #${change.hi}`,
        path: [
          {
            k: 'members-sent',
            at: change.sentAt,
            id: change.id,
            conv: change.conv,
            add: change.add,
            remove: change.remove,
          },
          { k: 'members-answered', at: change.answeredAt, id: change.id, lastSeq: change.claim },
        ],
      }));
    }
  };

  return {
    property: authorizationProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      for (const entry of suspects) rejudge(entry);
      judgeClaims();
      welcomes.finish();
      const stale = [...attempts.values()].filter((attempt) => attempt.at < settleAt).length;
      const answered = [...outcomes].map(([result, n]) => `${n} ${result}`).join(', ') || 'none';
      const details =
        `${judged} frames and messages judged against ${membership.changeCount} membership changes ` +
        `(${suspects.length} ambiguous re-judged at the end${unresolved > 0 ? `, ${unresolved} more past authorizationSuspectsMax allowed unjudged` : ''}); ` +
        `attempt outcomes: ${answered}; ${earlyAfterClockStep > 0 ? `${earlyAfterClockStep} early 4408 after a node's clock was set, not judged; ` : ''}${attempts.size} unanswered (${stale} from before the settle phase` +
        `${evicted > 0 ? `, ${evicted} more past pendingAttemptsMax` : ''}); ` +
        `${silences} sends, syncs or re-watches given up on (${!judgeSilence ? "not judged: the server's speed is part of this run" : quietingFault === null ? 'judged for silence' : `judged until ${quietingFault} started (it may silence a connection), then by the faults on the attempt's node: ${silencesOnQuietNode} judged`}); ` +
        `${refusals.judged} refusals of members' frames judged${refusals.undated > 0 ? ` (${refusals.undated} more undated, not judged)` : ''}; ` +
        `${welcomes.judged} welcomes of users the run made members judged: ${welcomes.owed} conversations owed in them (${welcomes.owedByCut} by their node's own bus cut), ${welcomes.omitted} left out; ` +
        `${welcomes.flagsJudged} entries' member flags judged (${welcomes.pastFlagsJudged} of removed users), ${welcomes.misflagged} wrong`;
      return coveredResult(
        witness,
        authorizationProperty,
        details,
        { judged, judgedWhat: 'frames or messages', done: sends, doneWhat: 'sends' },
        stale + evicted > 0 ? 'unknown' : 'pass',
      );
    },
  };
}

/** Allowed if either says so: 'yes' if one is 'yes', 'no' only if both are. */
function either(a: Tri, b: Tri): Tri {
  return a === 'yes' || b === 'yes' ? 'yes' : a === 'no' && b === 'no' ? 'no' : 'maybe';
}

/** Node pauses the harness caused, by node id: which frames a pause held back. */
class PauseBook {
  private readonly spans = new Map<string, [number, number][]>();
  /** Slow-link faults' spans (they name clients, not nodes: any client may be on a slowed link). */
  private readonly slow: [number, number][] = [];

  observe(event: Extract<HistoryEvent, { k: 'fault' }>): void {
    if (slowLinkFaults.has(event.type)) {
      const open = this.slow.findLastIndex(([, stop]) => stop === Number.POSITIVE_INFINITY);
      if (event.phase === 'start') this.slow.push([event.at, Number.POSITIVE_INFINITY]);
      else if (open >= 0) this.slow[open]![1] = event.at;
      return;
    }
    if (event.type !== 'node-pause') return;
    for (const node of event.nodes ?? []) {
      const list = this.spans.get(node) ?? [];
      if (event.phase === 'start') list.push([event.at, Number.POSITIVE_INFINITY]);
      else if (list.length > 0 && list.at(-1)![1] === Number.POSITIVE_INFINITY) list.at(-1)![1] = event.at;
      this.spans.set(node, list);
    }
  }

  /**
   * When the latest pause of `node` that overlapped from..to ended (it resumed knowing only what it
   * knew before), or -Infinity when none did.
   */
  /** When the latest slow-link fault that overlapped from..to healed, or -Infinity when none did. */
  slowUntil(from: number, to: number): number {
    return latestEnd(this.slow, from, to);
  }

  heldUntil(node: string | undefined, from: number, to: number): number {
    return node === undefined ? Number.NEGATIVE_INFINITY : latestEnd(this.spans.get(node) ?? [], from, to);
  }
}

/** The latest end of the spans that overlap from..to (`to` NaN: still open), or -Infinity. */
function latestEnd(spans: readonly [number, number][], from: number, to: number): number {
  let until = Number.NEGATIVE_INFINITY;
  const end = Number.isNaN(to) ? Number.POSITIVE_INFINITY : to;
  for (const [start, stop] of spans) if (start <= end && stop >= from) until = Math.max(until, stop);
  return until;
}

function describeChange(change: MembershipChange): string {
  const parts = [
    ...(change.add.length > 0 ? [`adding ${change.add.join(', ')}`] : []),
    ...(change.remove.length > 0 ? [`removing ${change.remove.join(', ')}`] : []),
  ];
  return `${parts.join(' and ')} (request ${change.id})`;
}

function problemOf(entry: Suspect): string {
  switch (entry.kind) {
    case 'unreadable seqs':
      return `${entry.user} received ${entry.conv} seqs ${entry.seqs.join(', ')} in a ${entry.event.t}, outside what its membership lets it read`;
    case 'message from a non-member':
      return `${entry.user} sent ${entry.conv}#${entry.seqs[0]} but was not a member when it was sequenced`;
    case 'frame to a non-member':
      return `${entry.user} received a ${entry.event.t} about ${entry.conv} while not a member`;
  }
}
