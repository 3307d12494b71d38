// What a run records, as a stream of plain events: virtual clients report what they did and saw,
// the simulated store reports what became durable, the world reports membership and phases.
// Checkers consume this stream one event at a time (they never see a stored history at 1M clients)
// and, at the end, a FinalState with the final read for the witness.
// What a checker *expects* (who may read which seq, who should get a frame) comes only from what the
// harness did and saw: its requests, when they were answered, the acks and frames it received. What the
// server says about itself (the lastSeq in a membership answer, the store's final read, `durable`) is a
// claim the checkers cross-check, never the source of truth; so the same checkers judge a black-box server.

import type { Message } from '../reference-server/protocol/frames.ts';
import type { StoredDigest } from './checkers/stored-digest.ts';

/** A device is one virtual client: one user may have several. */
export type DeviceRef = { user: string; device: string };

export type Via = 'push' | 'resume' | 'sync' | 'own';

/**
 * Takes the `display` event `{ k: 'display', at, via, message, user, device: deviceName }` of device
 * number `device` by its fields, without the event object; false: not taken (record the event).
 * `message` may be the `msg` frame that carried it: the event's message is its Message fields.
 */
export type DisplayTaker = (
  device: number,
  at: number,
  via: Via,
  message: Message,
  user: string,
  deviceName: string,
) => boolean;

/**
 * Takes the `conv-frame` event `{ k: 'conv-frame', at, conv, t, seqs: [seq], node, user, device: deviceName }`
 * (no `seqs` when `seq` is undefined; neither `of` nor a page) by its fields, as DisplayTaker.
 */
export type ConvFrameTaker = (
  device: number,
  at: number,
  conv: string,
  t: string,
  seq: number | undefined,
  node: string,
  user: string,
  deviceName: string,
) => boolean;

/** One member's cursors in a `GET .../receipts` answer. */
export type CursorReadMember = { user: string; delivered: number; read: number };

export type HistoryEvent =
  /**
   * A conversation exists: created at setup before any client acts, or over HTTP during the run (at
   * its answer, `create-answered` 2xx).
   */
  | { k: 'conv'; at: number; conv: string; kind: 'direct' | 'group'; members: string[] }
  /**
   * The harness sent an admin membership change (`POST .../members`); `id` pairs it with its answer.
   * The change takes effect at one point in the conversation's seq order: after every seq the harness
   * saw before it sent the request, before every message first sent after the answer came back.
   */
  | {
      k: 'members-sent';
      at: number;
      id: number;
      conv: string;
      add: string[];
      remove: string[];
      /** Asked with this user's token, not an admin's: owed 403 (the route is the admin's alone). */
      by?: string;
      /**
       * Sent malformed on purpose, and how (admin-refusals.ts): `token=none` or `token=forged` (owed
       * 401), or a body protocol.md refuses (owed 400); `add` and `remove` then hold what of it was ids.
       */
      malformed?: string;
    }
  /**
   * The answer to `members-sent` `id` came back. `status`: 2xx applied, 4xx refused (nothing changed),
   * anything else (5xx; 0 for "no answer") leaves it open whether the change happened. `lastSeq` is the
   * seq the server says the change took effect after, when it says one: a claim, checked against what
   * the harness saw, and used only when consistent with it.
   */
  | { k: 'members-answered'; at: number; id: number; status: number; lastSeq?: number }
  /**
   * The harness asked to create a conversation over HTTP (`POST /v1/admin/conversations`) during the
   * run; `id` pairs it with its answer (the same numbering as `members-sent`). Some are invalid on
   * purpose (a bad id, an id taken by another definition): admin-answers judges every answer.
   */
  | {
      k: 'create-sent';
      at: number;
      id: number;
      conv: string;
      kind: 'direct' | 'group';
      members: string[];
      /** Sent malformed on purpose, as `members-sent`'s; `kind` and `members` are what it meant. */
      malformed?: string;
    }
  /** Its answer's status (0: none came); a 2xx is followed by the `conv` event of what now exists. */
  | { k: 'create-answered'; at: number; id: number; status: number }
  /** A client first issued a send (retries reuse the cmid and are not reported again). */
  | ({ k: 'send'; at: number; conv: string; cmid: string; body: string } & DeviceRef)
  /** The sending device got an ack; `sentAt` is when it first issued that send (its `send` event). */
  | ({
      k: 'ack';
      at: number;
      conv: string;
      cmid: string;
      seq: number;
      ts: number;
      sentAt: number;
    } & DeviceRef)
  /**
   * A device that had been acked for a send sent it again (same conv, cmid and body: an app that lost
   * the ack before it kept it) at `resentAt`, and got this ack. protocol.md: the same (sender, conv,
   * cmid) again yields the same ack, same seq and same ts, and stores nothing new. `first` is the ack
   * the device got for it before (what the harness saw, not what the server says now).
   */
  | ({
      k: 'resent-ack';
      at: number;
      conv: string;
      cmid: string;
      seq: number;
      ts: number;
      resentAt: number;
      first: { seq: number; ts: number };
    } & DeviceRef)
  /**
   * The `err` (`code`) that answered such a send made again at `resentAt` (acked before with `first`).
   * Only `rate_limited` and `unavailable` ("not now") may answer it, for a while (the device retries,
   * and records it only once its retries gave up: idempotency judges that away from faults), or
   * `forbidden`/`not_found` when the user is no longer a member (authorization judges those against
   * the membership oracle): any other err breaks protocol.md's "the same ack" (idempotency judges it).
   */
  | ({
      k: 'resent-err';
      at: number;
      conv: string;
      cmid: string;
      code: string;
      resentAt: number;
      first: { seq: number; ts: number };
      /**
       * How many times it was sent (set when more than once, or when "not now": a `rate_limited` or
       * `unavailable` code means it was retried by the outbox's rule until that gave up, never acked).
       */
      tries?: number;
    } & DeviceRef)
  /**
   * The server refused a frame with `rate_limited` (`ref`: the cmid of a send, or the frame type).
   * `cmid` is set when it answers one of the device's pending sends.
   */
  | ({
      k: 'rate-limited';
      at: number;
      ref: string;
      cmid?: string;
      conv?: string;
      retryAfterMs?: number;
    } & DeviceRef)
  /** The workload made this device issue `count` sends to `conv` in one instant (past the user's burst). */
  | ({ k: 'press'; at: number; conv: string; count: number } & DeviceRef)
  /** The client gave up on a send (bounded retries spent or a final error); `sentAt` as on `ack`. */
  | ({ k: 'failed'; at: number; conv: string; cmid: string; code: string; sentAt: number } & DeviceRef)
  /** The store made a message durable (store-side truth; emitted once per seq). */
  | { k: 'durable'; at: number; message: Message }
  /**
   * A device displayed a message: clients display each (conv, seq) at most once, in seq order.
   * `via: 'own'` is the sender's own device displaying its acked message.
   */
  | ({ k: 'display'; at: number; via: Via; message: Message } & DeviceRef)
  /** A device moved one of its own cursors (sent `delivered`/`read`). */
  | ({ k: 'cursor-sent'; at: number; conv: string; kind: 'delivered' | 'read'; seq: number } & DeviceRef)
  /**
   * A cursor frame was refused: an `err` answering it (`ref` its kind) that names its conversation
   * (v1.1), e.g. `unavailable` while the store is away. It moved nothing.
   */
  | ({ k: 'cursor-refused'; at: number; conv: string; kind: 'delivered' | 'read'; code: string } & DeviceRef)
  /**
   * A device's `sync` or `typing` was refused as not allowed: an `err` `forbidden` or `not_found`
   * answering it (`ref`) that names its conversation (v1.1). Refusing a member is a violation.
   */
  | ({ k: 'refused'; at: number; conv: string; ref: 'sync' | 'typing'; code: string } & DeviceRef)
  /** A device observed a member's cursor: from a `receipt`, or its own in `welcome`. */
  | ({
      k: 'cursor-seen';
      at: number;
      conv: string;
      of: string;
      kind: 'delivered' | 'read';
      seq: number;
      lastSeq: number;
      source: 'receipt' | 'welcome';
      /** A welcome entry's v1.1 `member` flag, when the server sent one (false: a past membership). */
      member?: boolean;
    } & DeviceRef)
  /**
   * A device received a frame about a conversation (msg, batch, notify, receipt, typing); `node` is the
   * server node of the session it came on (its welcome's `node`), when known.
   */
  | ({
      k: 'conv-frame';
      at: number;
      conv: string;
      t: string;
      seqs?: number[];
      node?: string;
      /** `typing`: the user it says is typing. */
      of?: string;
      /** `batch`: the page's `lastSeq` (the newest seq the reader may know) and `more`; `notify`: its `lastSeq`. */
      lastSeq?: number;
      more?: boolean;
    } & DeviceRef)
  /** A device sent `typing` (the server relays it to the other online members, throttled per user). */
  | ({ k: 'typing-sent'; at: number; conv: string; on: boolean } & DeviceRef)
  /**
   * Simulator only: the harness made the device's link steady (no jitter): while no fault touches it,
   * every frame the device sends reaches its node exactly `latencyMs` after it was sent, so the harness
   * knows the instant the node got it (typing-recipients judges the typing throttle at exact boundaries).
   */
  | ({ k: 'steady-link'; at: number; latencyMs: number } & DeviceRef)
  /**
   * Simulator only: the bytes queued on the device's connection toward it (the node's send buffer, as the
   * simulated network holds it) passed the node's bound (`over`), then fell back to it or below
   * (`under`), or the connection ended while over: the node closed it (`closed`, with its `code`), or it
   * ended some other way (`ended`: the client closed it, a fault reset or cut it). Live, the harness
   * cannot see a server's socket buffer and records none.
   */
  | ({
      k: 'send-buffer';
      at: number;
      state: 'over' | 'under' | 'closed' | 'ended';
      bytes: number;
      code?: number;
    } & DeviceRef)
  /** An adversarial client attempted something the protocol forbids; `outcome` follows with the same id. */
  | ({ k: 'attempt'; at: number; id: number; action: string; conv: string } & DeviceRef)
  | { k: 'outcome'; at: number; id: number; result: string }
  /** A device sent `watch` for these users (each should be answered by a `presence`). */
  | ({ k: 'watch-sent'; at: number; users: readonly string[] } & DeviceRef)
  /**
   * The harness started or healed a fault. `nodes` names the server nodes it touches (their welcome
   * `node` ids) for node faults, so a checker can tell which frames a paused node held back, and for a
   * fault on one node's dependencies (its link to the store or the bus, its disk), so one can tell which
   * node's `unavailable` it explains; none named: every node, or none (a fault on clients' links).
   * `target`: a partition's (clients, node, store, bus).
   */
  | {
      k: 'fault';
      at: number;
      type: string;
      phase: 'start' | 'heal';
      nodes?: readonly string[];
      /** A partition that cut `nodes` from the bus alone (their store still reachable). */
      busOnly?: true;
      target?: 'clients' | 'node' | 'store' | 'bus';
    }
  /** A device observed a presence frame. */
  | ({
      k: 'presence-seen';
      at: number;
      of: string;
      online: boolean;
      lastSeen: number;
      /** The server node of the session it came on, when known. */
      node?: string;
    } & DeviceRef)
  /**
   * A session opened (welcome received), `connectMs` after the connection attempt began; `first` for a
   * device's first; `node` the server node that welcomed it (its welcome's `node`).
   */
  | ({ k: 'session'; at: number; connectMs: number; first: boolean; node?: string } & DeviceRef)
  /**
   * An open session ended (`reason`: a close code, 'reset', 'idle' or 'client'). `unansweredSince`: it
   * ended with requests awaiting their answer (a send in flight, a sync, a send made again), the oldest
   * sent then (one pipelined before the welcome: from the welcome on); `heardAt`, then: when the
   * connection was last heard from (a frame or a ping).
   */
  | ({
      k: 'session-lost';
      at: number;
      reason: string;
      unansweredSince?: number;
      heardAt?: number;
    } & DeviceRef)
  /**
   * Live runs only: the device's open session got the server's WebSocket ping. Frames on one connection
   * arrive in order, so whatever the server sent on it before the ping came first: reach judgements
   * count a ping as hearing the server, as they count a frame. The simulator records none (its clients'
   * liveness is modelled on timers, not a frame in the link's order).
   */
  | ({ k: 'ping'; at: number } & DeviceRef)
  /** A device pulled a conversation with `sync` (a gap, a notify, a resume that did not finish). */
  /**
   * `beforeWelcome`: pipelined after the hello, before its welcome: it belongs to the session that welcome
   * opens (the server answers it then), not to the one before.
   */
  | ({
      k: 'sync-sent';
      at: number;
      conv: string;
      after: number;
      limit?: number;
      beforeWelcome?: true;
    } & DeviceRef)
  /**
   * A device gave up waiting for the answer to a request it sent at `askedAt` (its own timeout passed
   * with neither the answer nor an `err`): a `hello` never welcomed, a resumed conversation the welcome
   * said was behind with no `batch`, a `sync` with no `batch`, a send made again after its ack
   * (client/resending-client.ts) with neither its ack nor an `err`. Silence, unless a fault explains it.
   * A resume or sync names what the device held (`after`) and the newest seq it knew of then
   * (`lastSeq`: for a resume, the welcome's). A hello, a sync and a send made again name when their
   * connection was last heard from (`heardAt`: a frame or a ping; in the simulator, the network still
   * carrying it): one heard after every fault healed survived them, and its server owes the welcome
   * once they are over; one heard after the request was sent was carrying it.
   */
  | ({
      k: 'unanswered';
      at: number;
      asked: 'hello' | 'resume' | 'sync' | 'send';
      askedAt: number;
      conv?: string;
      after?: number;
      lastSeq?: number;
      heardAt?: number;
    } & DeviceRef)
  /**
   * A device got an `err` with code `unavailable` ("a dependency is down", protocol.md): `ref` the frame
   * type or cmid it answers, `conv` when it names one, `node` the server node of the session it came
   * on (its welcome's), when known. Only a fault on that node's dependencies explains it
   * (no-spurious-unavailable).
   */
  | ({ k: 'unavailable'; at: number; ref?: string; conv?: string; node?: string } & DeviceRef)
  /** A device got a `welcome` or `err` that breaks protocol.md's shape (client/frame-shape.ts): what is wrong. */
  | ({ k: 'bad-frame'; at: number; t: 'welcome' | 'err' | 'close'; problem: string } & DeviceRef)
  /**
   * A user asked for a conversation's messages over HTTP (`GET /v1/conversations/:id/messages`).
   * `malformed`: the harness sent this read malformed on purpose, one parameter's text in place of the
   * number drawn (e.g. `limit=2.5`; protocol.md: a 400); `after` and `limit` are the numbers drawn.
   */
  | {
      k: 'http-read-sent';
      at: number;
      id: number;
      conv: string;
      user: string;
      after: number;
      limit: number;
      malformed?: string;
      /** The id of the first read of the pager this read belongs to (it pages on while the answer says `more`). */
      pager?: number;
    }
  /** Its answer: the status, and for a 200 the page (its seqs, `lastSeq`, `more`); status 0: none came. */
  | {
      k: 'http-read';
      at: number;
      id: number;
      status: number;
      seqs?: number[];
      lastSeq?: number;
      more?: boolean;
    }
  /**
   * After settle, the harness read a conversation's cursors as `user` (`GET /v1/conversations/:id/receipts`):
   * the status, and for a 200 the server's `lastSeq` and each current member's cursors (status 0: no
   * answer). A claim, judged against the cursors the harness itself saw (cursor-monotonicity).
   * `askedAt`: a read made during the run (asked then, answered at `at`), not the final one: judged
   * against the cursors seen before it was asked, and a refusal of a member is a violation (read-pages).
   */
  | {
      k: 'cursor-read';
      at: number;
      conv: string;
      user: string;
      status: number;
      lastSeq?: number;
      members?: readonly CursorReadMember[];
      askedAt?: number;
    }
  /**
   * Simulator only: the harness stopped a node gracefully (a rolling restart's turn, as SIGTERM does
   * live) and its process ended at `at`: by itself once its drain was done (`killed` false), or killed
   * by the harness once its drain ran out of time (the server's drainTimeoutMs and close grace).
   */
  | { k: 'node-stop'; at: number; node: string; killed: boolean }
  /** The run entered a phase. */
  | { k: 'phase'; at: number; phase: 'warmup' | 'faults' | 'heal' | 'settle' | 'final' };

/** The kinds of history event (`k`). */
export type HistoryKind = HistoryEvent['k'];

/** The history events of the kinds named. */
export type HistoryEventOf<K extends HistoryKind> = Extract<HistoryEvent, { k: K }>;

/** Every kind, once (the compiler checks the list is whole: a kind added to HistoryEvent must be added here). */
const everyKind: Record<HistoryKind, true> = {
  conv: true,
  'members-sent': true,
  'members-answered': true,
  'create-sent': true,
  'create-answered': true,
  send: true,
  ack: true,
  'resent-ack': true,
  'resent-err': true,
  'rate-limited': true,
  press: true,
  failed: true,
  durable: true,
  display: true,
  'cursor-sent': true,
  'cursor-refused': true,
  refused: true,
  'cursor-seen': true,
  'conv-frame': true,
  'typing-sent': true,
  'steady-link': true,
  'send-buffer': true,
  attempt: true,
  outcome: true,
  'watch-sent': true,
  fault: true,
  'presence-seen': true,
  session: true,
  'session-lost': true,
  ping: true,
  'sync-sent': true,
  unanswered: true,
  'bad-frame': true,
  unavailable: true,
  'http-read-sent': true,
  'http-read': true,
  'cursor-read': true,
  'node-stop': true,
  phase: true,
};
export const historyKinds: readonly HistoryKind[] = Object.keys(everyKind) as HistoryKind[];

/**
 * Whether the state the store recovered at the final read equals a replay of its whole log with the
 * checkpoint set aside (store-replay.ts): `excused` when the replay could not be judged (the run
 * damaged synced bytes on purpose, so an older record rightly no longer replays); `refused` when the
 * store did not open for the final read at all (its recovery refused the log).
 */
export type ReplayCheck = { outcome: 'agreed' | 'excused' | 'diverged' | 'refused'; details: string };

/**
 * What the harness knows at the end of a run. Membership is not here: checkers derive it from the
 * history (`conv`, `members-sent`, `members-answered`), never from the server's own spans.
 */
export type FinalState = {
  at: number;
  /** Every device that took part to the end (not the leavers, not adversaries). */
  devices: DeviceRef[];
  /** The conversations the harness created (setup and admin requests). */
  conversations(): Iterable<string>;
  /** The final read of the server's messages after the run: a claim to cross-check. */
  storedMessage(conv: string, seq: number): Message | undefined;
  storedLastSeq(conv: string): number;
  /**
   * The final read's message at (conv, seq) as the store-reading judgements compare it, hashed once
   * (checkers/stored-digest.ts); where absent, they make it from `storedMessage`.
   */
  storedDigest?(conv: string, seq: number): StoredDigest | undefined;
  /** Whether the user has a live connection at the end (the harness's own sockets). */
  online(user: string): boolean;
  /** Whether the settle phase converged within the scenario's liveness window. */
  settledAt: number | null;
  /**
   * Live: the run kept its sessions open after settle until this time, for what checkers were still owed
   * (`Checker.owedPending`); they judge the sessions still open as they stood then. Absent: not held, the
   * sessions are judged as they stood at the run's end.
   */
  heldUntil?: number;
  /** The log store's final recovery against a replay of its whole log; absent where there is none (model store, live). */
  storeReplay?: ReplayCheck;
};

/**
 * A read of the server's messages during the run (live: protocol.md's HTTP message reads), for checkers
 * that judge what it covers as they go and drop their state for it (a long run's memory stays flat).
 * Only seqs present here are judged; the final read must still show each of them unchanged.
 */
export type StoreRead = {
  /** Run clock when the read began. */
  at: number;
  /** conv -> seq -> the message read there. */
  conversations: ReadonlyMap<string, ReadonlyMap<number, Message>>;
};

/** `skipped`: the scenario's `checks.skip` names the property; it was not judged (never a pass). */
export type Verdict = 'pass' | 'fail' | 'unknown' | 'skipped';

export type CheckResult = {
  property: string;
  verdict: Verdict;
  details: string;
  /** The offending events and their path; empty on pass. Bounded: a checker keeps at most a few. */
  witness: unknown[];
};

/** One property, judged from the stream. */
export interface Checker {
  readonly property: string;
  /**
   * The kinds of event `observe` reads (checker-feed.ts gives it those and no others); 'all' for a
   * checker whose judgement moves with every event (a clock read from each). A kind left out that the
   * checker needs is a false green: kinds.test.ts fails a checker that reads more than it declares.
   */
  readonly kinds: 'all' | readonly HistoryKind[];
  observe(event: HistoryEvent): void;
  finish(final: FinalState): CheckResult;
  /** Violations found so far (progress lines; the verdict comes from finish). */
  violationsSoFar?(): number;
  /**
   * Judges what it holds about the seqs `read` shows against them and drops it, keeping only what the
   * final read must confirm (read-back.ts). Optional: a checker without it judges everything at the end.
   */
  checkpoint?(read: StoreRead): void;
  /**
   * What the checker is owed that the history does not show yet but a longer run could judge, by what
   * (e.g. `{ pushes: 3, receipts: 120 }`): a live run keeps its sessions open after settle while any is
   * above 0, within a bound (hold-owed.ts), and tells `finish` how long (`FinalState.heldUntil`).
   * Optional: a checker without it owes nothing the end of the run leaves unjudged.
   */
  owedPending?(): Readonly<Record<string, number>>;
}
