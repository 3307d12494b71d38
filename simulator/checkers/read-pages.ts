// Judges the pages a read answers with (protocol.md: `sync` → `batch` with `msgs`, `lastSeq`, `more`):
// `more` must be true exactly when readable messages lie past the page. Judged from what the harness saw,
// never from the server's spans:
// - a page that says `more: false` hides nothing: every seq past it that the harness had already seen
//   (acked or shown) when it sent the sync, and that the membership oracle says the user may read,
//   must be on the page. (Seqs are gap-free, so every seq up to the newest seen existed then.)
// - a page that says `more: true` names a newer seq than its last message: the server's `lastSeq` is
//   the newest seq the reader may know, so a later readable seq is at most that. An empty page saying
//   `more` costs the reader a round trip (a fleet node whose membership moved on while the store read
//   answers one once); answered again and again to the same `after`, it leaves the reader stuck there
//   for good (the reference server did so for a window cut from an empty membership span until session
//   28): the third in a row to one reader and `after` fails.
// - a page holds at most the `limit` the sync asked for (500 by default), and its `lastSeq` (a finite
//   seq) is not below any message on it.
// - an HTTP read (`GET .../messages?after&limit`, the `workload.httpReadsPerMin` readers) is a page too:
//   the same rules, its seqs ascending past `after` and readable by the user, and no 403/404 to a user
//   who was surely a member from the request to the answer, nor to a removed member asking for seqs of
//   its own past (ones sequenced while it was a member, which existed at the request), nor silence (no
//   answer within the reader's 10 s) while no fault that cuts a client from its node was open (a fault
//   that only fails the store leaves the node to answer 503: fault-quiet.ts); nor any other status to a well-formed read
//   (a 400 to `limit=1` refused a member what it may read: mutants 1730 and 1742 of the 0ff7ab0 sample
//   passed), but a 503, which no-spurious-unavailable judges against the faults. A read the harness
//   sent malformed on purpose (malformed-reads.ts) must get a 400, or the 403/404 of a non-member.
// - silence on the socket is judged the same way: a `hello` never welcomed, a resumed conversation the
//   welcome said was behind with no `batch` (protocol.md: "then for each resumed conversation behind the
//   server, its missing messages"), a `sync` with no `batch`, a send made again after its ack (an app
//   that lost the ack, client/resending-client.ts) with neither its ack nor an `err` (protocol.md: the
//   same ack), each within the client's own timeout and with no `err` instead, while no fault that cuts
//   a client from its node was open from its connection's start on (`unanswered` events): one that only
//   fails or slows the node's store or bus leaves the node up and reachable, and it owes an answer, an
//   `err unavailable` if the store failed it (fault-quiet.ts). A hello, which the server may hold while
//   its store or bus is away, is excused by any fault. A client that asks again hides such a
//   server from every other check. A hello is owed its welcome after faults as well: given up
//   `healAnswerMs` after the last fault healed, on a connection heard from since, it is silence. And
//   a session that ended with a send or sync unanswered `refusedAnswerMs` after its node's store began
//   to refuse at once (a failed fsync, a full disk, an outage), with nothing meanwhile that cuts it or
//   slows its node: the end (a restart at the fault's heal) must not hide a node that left it waiting
//   on a failed store (`sessionLost`).
// - a `welcome` is not behind: its `lastSeq` for a conversation is at least every seq the user may read
//   whose ack the harness had received before the device began to connect (the server reads after the
//   hello; an acked seq is durable). The newest two acked seqs per conversation and when, are kept.
// A client pages on `lastSeq` as well as `more`, so a wrong `more` may cost it only a round trip or a
// wrongly skipped stretch; this is the check that sees it. A batch answering a resume (no sync asked on
// that session) has no known `after`: only its own claims are judged. Nor is the first sync of a
// conversation on a session judged for what it hid: a late answer to the hello's resume, read earlier,
// may come in its place.
// The server answers every sync (and resume) with its own batch, not always in the order asked (the
// reference server's store answers a read from its tail cache before one that waits for the disk), and
// a client that gave up waiting asks again while the first answer may still come: a batch may arrive
// after a newer sync it does not answer (large-group live at load 20: a batch of seqs 1..354 came 0.6 s
// after a sync after 349). So a batch takes one sync, one it can answer (see `answered`).

import { protocolLimits } from '../../reference-server/protocol/limits.ts';
import type {
  Checker,
  CheckResult,
  FinalState,
  HistoryEvent,
  HistoryEventOf,
  HistoryKind,
} from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column, uint32Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { FaultQuiet, SessionNodes } from './fault-quiet.ts';
import { membershipKinds } from './membership-oracle.ts';
import { WitnessList } from './witness-list.ts';

export const readPagesProperty = 'read-pages';

/** Empty pages saying `more` answered in a row to one reader's read after one seq that fail. */
const emptyMoreRepeatsMax = 3;

/** Seqs past a `more: false` page checked against the oracle per page (the nearest first). */
const seqsCheckedPerPageMax = 256;
/**
 * How long before the connect began an ack must have come for the welcome to owe its seq: live, the
 * times come from generator processes' clocks, which may disagree by a little.
 */
const ackBeforeConnectMs = 10;
/**
 * How long after the last fault healed a server still holding a hello has to welcome it (or refuse it
 * with an `err`), on a connection heard from since: the fault is over and the connection survived it.
 * The reference server retries a welcome's failed store read, and a stale node's catch-up, every
 * second (core limits' `catchUpRetryMs`), and the simulator's store answers a request lost to a fault
 * after `storeTimeoutMs` (2 s): a read in flight at the heal, retried, then the welcome's own read
 * take about 3 s. Simulator only (no cost model), as all silence is.
 */
const healAnswerMs = 5_000;
/**
 * How long a node whose store refuses at once (`faultRefusesAtOnce`: a failed fsync or a full disk under
 * the log, a store outage) may take, from the fault's start or the request if later, to answer a send or
 * sync waiting on that store, by default (the simulator passes its own, from the scenario's network: its
 * round trip and two fsyncs, the one under way and the one that fails, over 500 ms). The shipped server
 * answers `unavailable` within 60 ms through disk-faults' every fault (seed 1, 200 and 600 clients); one
 * that leaves what waited on a failed log waiting until the fault's heal restarts it waits about 1 s
 * (mutant 2431 of the session-18 sample, `group-commit.ts`: no waiter rejected at a failed fsync).
 */
const refusedAnswerMsDefault = 530;
/**
 * Syncs awaiting their batch per (device, conv): the client asks one at a time, resending after a
 * timeout (3 times, then it reconnects), and a sync given up on may still be answered.
 */
const pendingSyncsMax = 8;

type Sync = {
  at: number;
  after: number;
  limit: number;
  existed: number;
  firstOfSession: boolean;
  /** The first of its session, sent after the welcome: the hello's resume may be answered in its place. */
  resumeMayAnswer: boolean;
  session: number;
};
type ConvFrame = Extract<HistoryEvent, { k: 'conv-frame' }>;
/** An HTTP read asked, with what the harness knew then: the newest seq seen. */
type HttpReadSent = Extract<HistoryEvent, { k: 'http-read-sent' }> & { existed: number };
/** When a page was asked for, and the newest seq the harness had seen by then. */
type Asked = { at: number; existed: number };
type Page = {
  what: string;
  conv: string;
  user: string;
  seqs: readonly number[];
  lastSeq: number | undefined;
  more: boolean | undefined;
  /** What the reader asked after; null when not known (a resume's batch). */
  after: number | null;
  /** `after` is the very one asked (an HTTP read's), not one of several syncs a batch may answer. */
  afterExact: boolean;
  /** Who reads: a device's batches of conv, or a user's HTTP reads of conv (its empty-page streak). */
  reader: string;
  limit: number;
  /** Null when the page is not judged for what it hid. */
  asked: Asked | null;
  path: unknown[];
};
type Hidden = { page: Page; asked: Asked; last: number; seqs: number[] };

export type ReadPagesOptions = CheckerOptions & {
  /**
   * How long a node whose store refuses at once has to answer what waited on it (default
   * `refusedAnswerMsDefault`), from the fault's start or the request if later.
   */
  refusedAnswerMs?: number;
  /**
   * Judge silence (`unanswered`; default true). Only where the server's speed is not part of the run:
   * with a cost model, or live against a loaded server, a slow answer cannot be told from none at the
   * client's wait, and a reconnect storm or a capacity sweep would read as silence.
   */
  judgeSilence?: boolean;
};

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = [
  ...membershipKinds,
  'sync-sent',
  'session',
  'session-lost',
  'ack',
  'cursor-seen',
  'conv-frame',
  'http-read-sent',
  'http-read',
  'cursor-read',
  'unanswered',
  'fault',
] as const satisfies readonly HistoryKind[];

export function createReadPagesChecker(options: ReadPagesOptions = {}): Checker {
  const { ids, pairs, limits, membership } = resolveCheckerOptions(options);
  const judgeSilence = options.judgeSilence ?? true;
  const refusedAnswerMs = options.refusedAnswerMs ?? refusedAnswerMsDefault;
  const witness = new WitnessList(limits.witnessCasesMax);
  /** Per device: its session count (a sync's answer never crosses sessions). */
  const sessions = uint32Column();
  /** Per (device, conv) pair: 1 + the session on which a batch last came for it, 0 if none ever did. */
  const pagedOn = uint32Column();
  /** Per (device, conv) pair: its syncs awaiting a batch (only pairs with one outstanding). */
  const pending = new Map<number, Sync[]>();
  /** Per device: when its current session began to connect, and the node it is on. */
  const connectedFrom = float64Column(Number.NaN);
  const sessionNodes = new SessionNodes();
  /** Per conv: the newest seq acked and when, and the one acked before it and when. */
  const ackedSeq = int32Column();
  const ackedAt = float64Column(Number.POSITIVE_INFINITY);
  const ackedBeforeSeq = int32Column();
  const ackedBeforeAt = float64Column(Number.POSITIVE_INFINITY);
  let welcomes = 0;
  /** Pages whose hidden seqs the oracle could not yet call readable or not: judged at the end. */
  let undecided: Hidden[] = [];
  let syncs = 0;
  let pages = 0;
  let judgedAgainstSync = 0;
  let httpPages = 0;
  /** HTTP reads asked, and those sent malformed on purpose that got their 400. */
  let httpReads = 0;
  let malformedRefused = 0;
  /** Requests a device gave up waiting for (`unanswered`), judged for silence. */
  let giveUps = 0;
  /** Faults open now, and when the last started or healed (silence is judged only away from them). */
  const faults = new FaultQuiet();

  const syncSent = (event: HistoryEvent & { k: 'sync-sent' }): void => {
    syncs++;
    const device = ids.device(event.user, event.device);
    // A sync pipelined before the welcome is answered in the session that welcome opens.
    const session = sessions.get(device) + (event.beforeWelcome ? 1 : 0);
    const pair = pairs.intern(device, ids.conv(event.conv));
    const list = (pending.get(pair) ?? []).filter((sync) => sync.session >= sessions.get(device));
    if (list.length >= pendingSyncsMax) list.shift();
    list.push({
      at: event.at,
      after: event.after,
      limit: event.limit ?? protocolLimits.syncLimitMax,
      existed: membership.newestSeen(event.conv),
      firstOfSession: pagedOn.get(pair) !== session + 1,
      resumeMayAnswer: pagedOn.get(pair) !== session + 1 && !event.beforeWelcome,
      session,
    });
    pending.set(pair, list);
  };

  /**
   * The sync a batch answers, taken from those awaiting one. A batch of messages answers one whose
   * `after` lies before its first seq, and of those one of the largest `after` (a sync further back
   * would have been answered from a seq nearer it; a correct answer holds only seqs past `after`).
   * Resends of one `after` cannot be told apart, nor can the syncs an empty batch may answer: they are
   * folded the lenient way (the earliest knowledge of what existed, the furthest `after`, the largest
   * limit: a late answer to a resent sync must not be judged by the resend), and the newest of them is
   * taken (the answer to an older one, maybe read earlier, may still come: it is judged by the older).
   * Null when the batch answers none (a resume's, or a late answer to a sync already taken): the syncs
   * it cannot answer wait for their own.
   */
  const answered = (event: ConvFrame): Sync | null => {
    const device = ids.device(event.user, event.device);
    const session = sessions.get(device);
    const pair = pairs.intern(device, ids.conv(event.conv));
    pagedOn.set(pair, session + 1);
    const list = pending.get(pair)?.filter((sync) => sync.session === session) ?? [];
    const first = event.seqs?.[0];
    let fits = list;
    if (first !== undefined) {
      let after = Number.NEGATIVE_INFINITY;
      for (const sync of list) if (sync.after < first && sync.after > after) after = sync.after;
      fits = list.filter((sync) => sync.after === after);
    }
    const taken = fits[fits.length - 1];
    const rest = list.filter((sync) => sync !== taken);
    if (rest.length > 0) pending.set(pair, rest);
    else pending.delete(pair);
    if (fits.length === 0) return null;
    let sync = fits[0]!;
    for (const other of fits.slice(1))
      sync = {
        at: Math.min(sync.at, other.at),
        after: Math.max(sync.after, other.after),
        limit: Math.max(sync.limit, other.limit),
        existed: Math.min(sync.existed, other.existed),
        firstOfSession: sync.firstOfSession || other.firstOfSession,
        resumeMayAnswer: sync.resumeMayAnswer || other.resumeMayAnswer,
        session,
      };
    return sync;
  };

  const batch = (event: ConvFrame): void => {
    const sync = answered(event);
    if (sync !== null) judgedAgainstSync++;
    judgePage({
      what: `${event.user}/${event.device} got a batch of ${event.conv}`,
      conv: event.conv,
      user: event.user,
      seqs: event.seqs ?? [],
      lastSeq: event.lastSeq,
      more: event.more,
      after: sync?.after ?? null,
      afterExact: false,
      reader: `${event.user}/${event.device} ${event.conv}`,
      // The first sync of a session may be answered by the resume's late batch: not judged for what it
      // hid, nor, unless pipelined before the welcome (such a hello resumes nothing), by its limit (a
      // resume asks none; fleet-races live on the minimal server: a resume's 6 messages came 1 ms after
      // a first sync of limit 4 and were taken for its answer).
      limit: sync === null || sync.resumeMayAnswer ? protocolLimits.syncLimitMax : sync.limit,
      asked: sync === null || sync.firstOfSession ? null : { at: sync.at, existed: sync.existed },
      path:
        sync === null
          ? [event]
          : [{ k: 'sync-sent', at: sync.at, after: sync.after, limit: sync.limit }, event],
    });
  };

  /**
   * Each reader's run of empty pages saying `more` to one `after` (any other page of its ends it): keyed
   * by the reader and conversation (an HTTP reader: its pager, when the history names it), not the
   * page's description (an HTTP read's names its `after` and limit, so a run keyed by it was never ended
   * by the reader's other pages, and one of other limits never counted).
   */
  const emptyMoreStreaks = new Map<string, { after: number; count: number }>();

  /** A page of a read (a `batch`, an HTTP read's answer) against its claims and what the harness saw. */
  const judgePage = (page: Page): void => {
    pages++;
    const { seqs, what } = page;
    const last = seqs.length > 0 ? seqs[seqs.length - 1]! : page.after;
    if (seqs.length > page.limit)
      witness.add('page past the limit', () => ({
        problem: `${what}: ${seqs.length} messages, more than the limit ${page.limit} asked for`,
        path: page.path,
      }));
    if (page.more === undefined) return;
    if (page.after !== null) {
      const streak = emptyMoreStreaks.get(page.reader);
      if (page.more && seqs.length === 0) {
        const count = streak?.after === page.after ? streak.count + 1 : 1;
        emptyMoreStreaks.set(page.reader, { after: page.after, count });
        if (count === emptyMoreRepeatsMax)
          witness.add('empty page saying more, again and again', () => ({
            problem: `${what} holds no message but says more: true, answer ${count} in a row of that kind to a read after ${page.after}: a client asking again from where it is gets the same page forever`,
            path: page.path,
          }));
      } else if (streak !== undefined) emptyMoreStreaks.delete(page.reader);
    }
    const top = seqs.length > 0 ? seqs[seqs.length - 1]! : 0;
    if (!(Number.isSafeInteger(page.lastSeq) && page.lastSeq! >= top))
      witness.add('lastSeq below the page', () => ({
        problem: `${what}: its lastSeq ${page.lastSeq} (the newest seq the reader may know) is not a seq at or past its last message ${top}`,
        path: page.path,
      }));
    if (last === null) return;
    if (page.more && !((page.lastSeq ?? Number.NEGATIVE_INFINITY) > last))
      witness.add('more with nothing newer', () => ({
        problem: `${what} ending at ${last} that says more: true, but its lastSeq ${page.lastSeq} (the newest seq the reader may know) is not past it`,
        path: page.path,
      }));
    if (page.more && (seqs.length > 0 || page.afterExact) && page.lastSeq! > last)
      readablePastPage(page, last);
    if (!page.more && page.asked !== null && page.asked.existed > last) hiddenPast(page, page.asked, last);
  };

  /** Pages saying `more` whose seqs past them the oracle could not yet place: judged at the end. */
  let undecidedMore: { page: Page; last: number; seqs: number[] }[] = [];

  /**
   * A page saying `more`: some seq past it, up to its own lastSeq (the newest the store held when it
   * was read, capped at the reader's last span), must be one the user may read. The server computes
   * `more` and lastSeq from one store answer under a membership at least as new as the store's then,
   * so a readable seq it counted lies there; when the oracle says none does, nothing the reader may
   * read lay past the page (a server that said `more` for a next span holding nothing yet: mutant
   * 1516 of the seed-5 sample). An empty batch is judged only against an HTTP read's own `after`: a
   * batch's sync is one of several it may answer, and a nearer one would widen the stretch.
   */
  const readablePastPage = (page: Page, last: number): void => {
    const to = page.lastSeq!;
    if (to - last > seqsCheckedPerPageMax) return;
    const maybe: number[] = [];
    for (let seq = last + 1; seq <= to; seq++) {
      const verdict = membership.readable(page.conv, page.user, seq);
      if (verdict === 'yes') return;
      if (verdict === 'maybe') maybe.push(seq);
    }
    if (maybe.length === 0) nothingReadablePast(page, last);
    else if (undecidedMore.length < limits.authorizationSuspectsMax)
      undecidedMore.push({ page, last, seqs: maybe });
  };

  const nothingReadablePast = (page: Page, last: number): void =>
    witness.add('more with nothing readable past', () => ({
      problem: `${page.what} ending at ${last} says more: true, but the user may read none of the seqs past it up to its lastSeq ${page.lastSeq} (protocol.md: more is true exactly when messages the reader may read lie past the page)`,
      path: [{ k: 'membership', ...(membership.describe(page.conv, page.user) as object) }, ...page.path],
    }));

  /** A `more: false` page: the seqs past it that existed when it was asked for must not be readable. */
  const hiddenPast = (page: Page, asked: Asked, last: number): void => {
    const maybe: number[] = [];
    const to = Math.min(asked.existed, last + seqsCheckedPerPageMax);
    for (let seq = last + 1; seq <= to; seq++) {
      const verdict = membership.readable(page.conv, page.user, seq);
      if (verdict === 'yes') return hidden(page, asked, last, [seq]);
      if (verdict === 'maybe') maybe.push(seq);
    }
    if (maybe.length > 0 && undecided.length < limits.authorizationSuspectsMax)
      undecided.push({ page, asked, last, seqs: maybe });
  };

  const hidden = (page: Page, asked: Asked, last: number, seqs: readonly number[]): void =>
    witness.add('more: false hid readable messages', () => ({
      problem: `${page.what} (asked at ${asked.at}, when seq ${asked.existed} had been seen) ended at ${last} with more: false, but the user may read seq ${seqs[0]} past it`,
      path: page.path,
    }));

  /**
   * A member's read of the cursors during the run (`GET .../receipts`, `askedAt`) refused 403/404, the
   * user surely a member from the ask to the answer: protocol.md lets members call it, and a fleet node
   * that has not heard of an add made through another node must read the record before it refuses.
   */
  const cursorReadDuringRun = (event: HistoryEvent & { k: 'cursor-read' }): void => {
    if (event.askedAt === undefined) return;
    httpReads++;
    if (event.status !== 403 && event.status !== 404) {
      if (event.status === 0) return;
      httpPages++;
      // Signed in, a member or not: a page, a 403/404, or a 503 (no-spurious-unavailable's); nothing
      // else (a 500: the step threw, answered so by the live HTTP API's catch and the simulator alike).
      if (event.status !== 200 && event.status !== 503)
        witness.add('HTTP cursor read answered other than protocol.md says', () => ({
          problem: `${event.user} read ${event.conv}'s cursors over HTTP at ${event.askedAt}: answered ${event.status} at ${event.at}; protocol.md answers a signed-in read with the cursors, or 403/404 to a non-member`,
          path: [event],
        }));
      return;
    }
    httpPages++;
    if (membership.surelyMemberThroughout(event.conv, event.user, event.askedAt, event.at))
      witness.add('HTTP read refused to a member', () => ({
        problem: `${event.user} read ${event.conv}'s cursors over HTTP at ${event.askedAt}: refused with ${event.status} at ${event.at}, though the user was a member from the request to the answer`,
        path: [{ k: 'membership', ...(membership.describe(event.conv, event.user) as object) }, event],
      }));
  };

  /** HTTP reads asked and not answered yet. */
  const httpAsked = new Map<number, HttpReadSent>();

  const httpRead = (event: HistoryEvent & { k: 'http-read' }): void => {
    const sent = httpAsked.get(event.id);
    httpAsked.delete(event.id);
    if (sent === undefined) return;
    const what = `${sent.user} read ${sent.conv} over HTTP after ${sent.after} (limit ${sent.limit})`;
    if (event.status === 0) {
      // No answer within the reader's timeout: silence, unless a fault that cuts was open or came
      // meanwhile (one that fails the store leaves the node to answer 503: fault-quiet.ts).
      if (faults.reachableSince(sent.at))
        witness.add('HTTP read never answered', () => ({
          problem: `${sent.malformed === undefined ? what : `${sent.user} read ${sent.conv} over HTTP with ${sent.malformed}`}: no answer by ${event.at}, and no fault that cuts a client from its node was open from the request on`,
          path: [sent, event],
        }));
      return;
    }
    // "A dependency is down": judged against the faults by no-spurious-unavailable.
    if (event.status === 503) return;
    if (sent.malformed !== undefined) return malformedRead(sent, event);
    if (event.status === 200) return httpPage(sent, event, what);
    if (event.status === 403 || event.status === 404) return httpRefused(sent, event, what, true);
    // protocol.md gives a well-formed read by a member its page; a non-member a 403 or 404.
    httpPages++;
    witness.add('well-formed HTTP read refused', () => ({
      problem: `${what}: answered ${event.status}, but the read is well formed (after a seq, limit 1-${protocolLimits.syncLimitMax}): protocol.md answers it with a page, or 403/404 to a non-member`,
      path: [sent, event],
    }));
  };

  /** A read sent malformed on purpose: protocol.md's answer is a 400 (or the 403/404 of a non-member). */
  const malformedRead = (sent: HttpReadSent, event: HistoryEvent & { k: 'http-read' }): void => {
    const what = `${sent.user} read ${sent.conv} over HTTP with ${sent.malformed}`;
    // A forged token or none: 401, whatever the read (a page leaks; a 403 or 404 tells who exists to a
    // caller nobody signed in).
    if (sent.malformed?.startsWith('token=')) {
      if (event.status === 401) {
        malformedRefused++;
        return;
      }
      httpPages++;
      witness.add('unauthenticated read not refused 401', () => ({
        problem: `${what}: answered ${event.status}, not 401 (protocol.md: requests authenticate with a Bearer JWT; a request with none, or one the server cannot verify, is a 401)`,
        path: [sent, event],
      }));
      return;
    }
    if (event.status === 400) {
      malformedRefused++;
      return;
    }
    if (event.status === 403 || event.status === 404) return httpRefused(sent, event, what, false);
    httpPages++;
    witness.add('malformed HTTP read not refused', () => ({
      problem: `${what}: answered ${event.status}, not 400 (protocol.md: after is a seq, limit an integer from 1 to ${protocolLimits.syncLimitMax})`,
      path: [sent, event],
    }));
  };

  const httpPage = (sent: HttpReadSent, event: HistoryEvent & { k: 'http-read' }, what: string): void => {
    httpPages++;
    const seqs = event.seqs ?? [];
    const unreadable = seqs.filter((seq) => membership.readable(sent.conv, sent.user, seq) === 'no');
    if (unreadable.length > 0 || seqs.some((seq, i) => seq <= (i === 0 ? sent.after : seqs[i - 1]!)))
      witness.add('HTTP page out of bounds', () => ({
        problem: `${what}: got seqs ${seqs.join(',')}, which must be ascending, past ${sent.after}, and readable by the user${unreadable.length > 0 ? ` (${unreadable.join(',')} are not)` : ''}`,
        path: [sent, event],
      }));
    judgePage({
      what,
      conv: sent.conv,
      user: sent.user,
      seqs,
      lastSeq: event.lastSeq,
      more: event.more,
      after: sent.after,
      afterExact: true,
      reader: `${sent.user} over HTTP ${sent.conv} ${sent.pager ?? ''}`,
      limit: sent.limit,
      asked: { at: sent.at, existed: sent.existed },
      path: [sent, event],
    });
  };

  /**
   * A read refused 403/404: wrong if the user was surely a member from the ask to the answer (a removed
   * member may still read its span, but the oracle cannot always tell whether it had one), and, for a
   * well-formed read (`ownPast`), if it asked for seqs of its own past.
   */
  const httpRefused = (
    sent: HttpReadSent,
    event: HistoryEvent & { k: 'http-read' },
    what: string,
    ownPast: boolean,
  ): void => {
    httpPages++;
    // "From the ask": a read asked at the instant the add's answer came back was asked on it (the
    // stale-node race reads at once through a node that cannot have heard of the add).
    if (membership.surelyMemberThroughout(sent.conv, sent.user, sent.at, event.at))
      witness.add('HTTP read refused to a member', () => ({
        problem: `${what}: refused with ${event.status}, though the user was a member from the request to the answer`,
        path: [sent, event],
      }));
    // A member no longer still reads its own past (protocol.md guarantee 6): a seq past `after` that
    // existed at the request and that the user surely may read must not be refused.
    else if (
      ownPast &&
      sent.existed > sent.after &&
      membership.surelyReadableIn(sent.conv, sent.user, sent.after + 1, sent.existed)
    )
      witness.add('HTTP read of its own past refused', () => ({
        problem: `${what}: refused with ${event.status}, though seqs past ${sent.after} up to ${sent.existed} existed then, and the user surely may read some (a member when they were sequenced)`,
        path: [{ k: 'membership', ...(membership.describe(sent.conv, sent.user) as object) }, sent, event],
      }));
  };

  /**
   * A request the device gave up waiting for: silence, unless a fault was open or came meanwhile, or
   * its connection began before the last fault event: a connection a fault cut or black-holed may stay
   * dead after the heal until a side notices (swarm seed 39569222896913: a sync sent at 25.2 s on a
   * connection from before a `timeout` fault that healed at 16.6 s reached no node).
   * A hello is owed its welcome after the faults too: one held while the store was away (its welcome's
   * read failed) or while a fleet node was stale (just started, or its bus lost) is welcomed once they
   * heal. So a hello given up `healAnswerMs` or more after the last fault healed, on a connection heard
   * from after that (it survived the faults: a cut or black-holed one is heard from no more), is silence
   * even if it was sent while a fault was open (mutants 107 and 387 of the session-18 sample).
   */
  const unanswered = (event: HistoryEvent & { k: 'unanswered' }): void => {
    giveUps++;
    if (!judgeSilence) return;
    const connectedAt =
      event.asked === 'hello' ? event.askedAt : connectedFrom.get(ids.device(event.user, event.device));
    // A hello may be held while any fault is open (its welcome's read failed, or its fleet node is
    // stale); any other request is owed its answer (an `err unavailable` if the store failed it) unless
    // a fault that cuts was open from its request on (fault-quiet.ts), or its connection may have been
    // left dead by an earlier one: it began before the last fault that cut, and nothing came on it
    // after the request (a black-holed connection is never heard from again). A fault that cuts one
    // node (a crash, a pause, a node cut from its clients) cuts only the sessions on it: the request
    // went on the device's current session, whose node its welcome named.
    const node = sessionNodes.get(ids.device(event.user, event.device));
    const cutLastAt = faults.cutLastAt(node);
    const quiet =
      event.asked === 'hello'
        ? faults.quietSince(event.askedAt) && connectedAt > faults.lastAt
        : faults.reachableSince(event.askedAt, node) &&
          (connectedAt > cutLastAt || (event.heardAt ?? Number.NEGATIVE_INFINITY) > event.askedAt);
    const healed =
      event.asked === 'hello' &&
      (event.heardAt ?? Number.NEGATIVE_INFINITY) > faults.lastAt &&
      faults.healedFor(event.at, healAnswerMs);
    if (!quiet && !healed) return;
    // A resume is owed a batch only when the user may read something past what the device held: a
    // welcome's lastSeq may lie before a new member's join (exploration seed 88715225069581: u41, added
    // to g5 after seq 1, resumed it from 0, and the welcome said lastSeq 1).
    if (event.asked === 'resume' && !readablePast(event)) return;
    const about = event.conv === undefined ? '' : ` of ${event.conv}`;
    const what = event.asked === 'send' ? 'send made again' : event.asked;
    const excuse = quiet
      ? event.asked === 'hello'
        ? "no fault was open from its connection's start on"
        : `no fault that cuts a client from its node was open from ${connectedAt > cutLastAt ? "its connection's start" : `the request (its connection was heard from at ${event.heardAt})`} on (one that fails the store leaves the node to answer with an err)`
      : `the last fault had healed at ${faults.lastAt}, and the connection was heard from at ${event.heardAt}`;
    witness.add(`${what} never answered`, () => ({
      problem: `${event.user}/${event.device} sent a ${what}${about} at ${event.askedAt} and gave up waiting at ${event.at}: no answer and no err, and ${excuse}`,
      path: [event],
    }));
  };

  /** Whether the user surely may read a seq in (after, lastSeq]: near either end, spans being contiguous. */
  const readablePast = (event: HistoryEvent & { k: 'unanswered' }): boolean => {
    const { conv, user, after = 0, lastSeq = 0 } = event;
    if (conv === undefined) return false;
    const ends = [after + 1, Math.max(after + 1, lastSeq - seqsCheckedPerPageMax + 1)];
    for (const from of ends)
      for (let seq = from; seq <= Math.min(lastSeq, from + seqsCheckedPerPageMax - 1); seq++)
        if (membership.readable(conv, user, seq) === 'yes') return true;
    return false;
  };

  /** Sessions that ended with a request unanswered, and of those, how many were judged (overdue). */
  let endedUnanswered = 0;
  let endedOverdue = 0;

  /**
   * A session ended with a request unanswered (`unansweredSince`) on a node whose store was made to
   * refuse at once meanwhile (a failed fsync, a full disk, a store outage): silence if it was still
   * unanswered `refusedAnswerMs` after the fault's start (or the request, if later), with nothing in
   * that time that cuts its session, slows its node or makes its store time out, on a connection not
   * left dead by an earlier cut (begun after it, or heard from after the request). A store that refuses answers at once, whatever
   * its load; a server that leaves a request waiting on a failed log until the fault's heal restarts
   * it (1 s later, in disk-faults) is silent, and the restart's cut hid it (mutant 2431). Away from
   * such faults the answer time hangs on the load (a fault test's saturated group commit keeps sends
   * 3 s with no fault at all), so it is not judged here: the client's own wait is (`unanswered`).
   * Judged with `judgeSilence` only (the simulator without a cost model): live, or with one, a loaded
   * server is slow to answer, not silent.
   */
  const sessionLost = (event: HistoryEventOf<'session-lost'>): void => {
    const since = event.unansweredSince;
    if (since === undefined) return;
    endedUnanswered++;
    if (!judgeSilence) return;
    const device = ids.device(event.user, event.device);
    const node = sessionNodes.get(device);
    const refusing = faults.refusingFrom(since, event.at, node);
    if (Number.isNaN(refusing)) return;
    const from = Math.max(since, refusing);
    if (event.at - from <= refusedAnswerMs) return;
    endedOverdue++;
    // Slowed includes a store link lost or cut on that node meanwhile: what waited on it times out
    // (swarm seed 81821908144667: n3's store partitioned 8.3-10.7 s under a full disk, sends waiting 1.4 s).
    if (faults.cutOrSlowedDuring(since, from + refusedAnswerMs, node)) return;
    const connectedAt = connectedFrom.get(device);
    const cutEndedAt = faults.cutEndedBefore(since, node);
    if (!(connectedAt > cutEndedAt || (event.heardAt ?? Number.NEGATIVE_INFINITY) > since)) return;
    witness.add('request unanswered until its session ended', () => ({
      problem: `${event.user}/${event.device} had a request unanswered from ${since} until its session${node === undefined ? '' : ` on ${node}`} ended at ${event.at} (${event.reason}), though its node's store refused at once from ${refusing} on: no answer and no err in ${refusedAnswerMs} ms, and no fault that cuts a client from its node or slows it was open meanwhile`,
      path: [event],
    }));
  };

  const sessionChanged = (user: string, device: string): void => {
    // A sync's answer never crosses sessions: a batch on the next session answers its resume.
    const id = ids.device(user, device);
    sessions.set(id, sessions.get(id) + 1);
  };

  const acked = (conv: string, seq: number, at: number): void => {
    const id = ids.conv(conv);
    if (seq <= ackedSeq.get(id)) return;
    ackedBeforeSeq.set(id, ackedSeq.get(id));
    ackedBeforeAt.set(id, ackedAt.get(id));
    ackedSeq.set(id, seq);
    ackedAt.set(id, at);
  };

  /** A welcome's lastSeq for one conversation against the seqs acked before the device began to connect. */
  const welcome = (event: HistoryEvent & { k: 'cursor-seen' }): void => {
    const from = connectedFrom.get(ids.device(event.user, event.device)) - ackBeforeConnectMs;
    if (!(from >= 0)) return;
    welcomes++;
    const conv = ids.conv(event.conv);
    const seq =
      ackedAt.get(conv) <= from
        ? ackedSeq.get(conv)
        : ackedBeforeAt.get(conv) <= from
          ? ackedBeforeSeq.get(conv)
          : 0;
    if (seq <= event.lastSeq || membership.readable(event.conv, event.user, seq) !== 'yes') return;
    witness.add('welcome behind', () => ({
      problem: `${event.user}/${event.device} began to connect at ${from + ackBeforeConnectMs}; its welcome gave ${event.conv} lastSeq ${event.lastSeq}, but seq ${seq}, which the user may read, had been acked before that`,
      path: [event],
    }));
  };

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    membership.observe(event);
    switch (event.k) {
      case 'sync-sent':
        return syncSent(event);
      case 'session':
        connectedFrom.set(ids.device(event.user, event.device), event.at - event.connectMs);
        sessionNodes.set(ids.device(event.user, event.device), event.node);
        return sessionChanged(event.user, event.device);
      case 'session-lost':
        sessionLost(event);
        return sessionChanged(event.user, event.device);
      case 'ack':
        return acked(event.conv, event.seq, event.at);
      case 'cursor-seen':
        // Each welcome entry comes as two cursors of one lastSeq: judged once.
        if (event.source === 'welcome' && event.kind === 'delivered') welcome(event);
        return;
      case 'conv-frame':
        if (event.t === 'batch') batch(event);
        return;
      case 'http-read-sent':
        httpReads++;
        if (httpAsked.size < limits.pendingAttemptsMax)
          httpAsked.set(event.id, {
            ...event,
            existed: membership.newestSeen(event.conv),
          });
        return;
      case 'http-read':
        return httpRead(event);
      case 'cursor-read':
        return cursorReadDuringRun(event);
      case 'unanswered':
        return unanswered(event);
      case 'fault':
        return faults.observe(event);
    }
  };

  return {
    property: readPagesProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(_final: FinalState): CheckResult {
      // The oracle's bounds are tight now: a seq it still calls 'maybe' stays unjudged.
      let stillUndecided = 0;
      for (const entry of undecided) {
        const readable = entry.seqs.filter(
          (seq) => membership.readable(entry.page.conv, entry.page.user, seq) === 'yes',
        );
        if (readable.length > 0) hidden(entry.page, entry.asked, entry.last, readable);
        else stillUndecided++;
      }
      undecided = [];
      for (const entry of undecidedMore) {
        const verdicts = entry.seqs.map((seq) => membership.readable(entry.page.conv, entry.page.user, seq));
        if (verdicts.every((verdict) => verdict === 'no')) nothingReadablePast(entry.page, entry.last);
        else if (!verdicts.includes('yes')) stillUndecided++;
      }
      undecidedMore = [];
      const details =
        `${pages} pages judged, ${judgedAgainstSync} against the sync they answered (of ${syncs} syncs sent); ` +
        `${welcomes} welcome lastSeqs judged against the acks before the connect` +
        (httpReads > 0
          ? `; of ${httpReads} HTTP reads, ${httpPages} answers judged (pages and refusals; in those pages' count) and ${malformedRefused} reads sent malformed refused (400, or 401 to a read with no token that signs in)`
          : '') +
        (giveUps > 0
          ? `; ${giveUps} requests a device gave up waiting for, ${judgeSilence ? 'judged for silence' : "not judged (the server's speed is part of this run)"}`
          : '') +
        (endedUnanswered > 0
          ? `; ${endedUnanswered} sessions ended with a request unanswered, ${judgeSilence ? `${endedOverdue} of them overdue on a store refusing at once, judged for silence` : 'not judged'}`
          : '') +
        (stillUndecided > 0
          ? `; ${stillUndecided} pages with seqs past them the oracle could not place`
          : '');
      return coveredResult(witness, readPagesProperty, details, {
        judged: pages + welcomes + malformedRefused,
        judgedWhat: 'batch, welcome nor HTTP answer',
        done: syncs + httpReads,
        doneWhat: 'syncs and HTTP reads sent',
      });
    },
  };
}
