// The adversarial behaviours of a virtual client: every `adversaryEveryMs` while connected it tries
// one thing the protocol forbids (round-robin over `config.adversary`) and records an `attempt`,
// then exactly one `outcome` once the server's answer (or its silence, or a later welcome) shows
// what happened: an error code, `closed:<code>`, or `accepted` when the server let it through.
// A foreign resume (a `hello` whose `resume` names a conversation the user may not read) and a
// foreign typing are refused by an `err` (`ref` `hello`, `typing`) or by silence; a resume served is
// `accepted` (its batch is also judged by authorization), a typing relayed is judged by
// typing-recipients (the adversary records no `typing-sent`: its user never typed there as a member).
// Watching users past the server's per-connection bound (watch-past-bound) is no violation either way:
// it makes the server answer with its bound's `err`, whose shape server-frames judges. When that err
// came after a presence for every user up to the last (the connection is exactly at the bound), the
// adversary watches the first of them again (rewatch-at-bound): that adds no user, so the bound cannot
// refuse it, and authorization demands its presence (`served`).
// malformed-text sends WebSocket text that is no valid frame (not JSON, JSON not an object, an unknown
// type, a field of the wrong type), each owed `bad_request`, then a binary frame (binary-frame: protocol.md's
// messages are text frames, so a binary one is a malformed frame, owed `bad_request` too), over and over
// until the connection has had `badFramesMax` (protocol.md's 10) bad frames, never more; once all are
// answered, one more (bad-frame-past-limit: "the 11th on one connection closes it with 4400"), owed
// close 4400; then, on the next session once every bad frame is answered (so that its close ends none
// of them unanswered), a text frame over 64 KiB, owed close 1009 (protocol.md); authorization judges the
// answers (a 4400 that ends a connection before its 11th bad frame is one). The simulator
// carries that text and binary to the node as they are (`text` and `binary` inputs, as ws-transport
// feeds them), the live driver sends them on the socket. Two of the bad frames are JSON objects that are
// no client frame (an unknown `t`, no `t`), sent as the client's link carries frames: in the simulator a
// `frame` input, whose value the core validates as it does a parsed text's (the path a cost model
// classes apart from text), live a text frame. A second `hello` on a welcomed session is one of
// the malformed texts (protocol.md: the first frame is the hello; a later one is an invalid frame).
// repeated-hello sends the same bad frames, in an order that makes the bound's last one (the 10th)
// and the one past it (the 11th) second `hello`s: a server counts those after parsing a valid frame,
// apart from the frames it cannot parse, and both counts must stop at the same bound.
// The connection's own lifecycle (protocol.md "Signing in"): silent-connection opens a connection and
// sends nothing, owed close 4408, and not before the server's hello timeout (5 s) has passed since the
// connection began (it cannot have opened earlier on the server); frames-before-welcome sends, right
// after its hello and so before the welcome (while the token is checked: the scenario's verifyMs), a
// binary frame, text that is no frame and a second hello, each owed `bad_request` once the session
// opens and counted toward the 4400 bound, and in its next round a text over 64 KiB, owed close 1009;
// leave-before-welcome sends its hello and closes at once, before the token check answers (the server
// must forget the connection, not crash on the answer); wrong-first-frame opens with text that is no
// frame, or with a valid typing, instead of the hello, owed close 4401.

// missing-conv syncs and sends, in one round, to a conversation no one created: protocol.md's code for it
// is `not_found` (`forbidden` is for a conversation the user is not a member of), so authorization fails a
// `forbidden` or a batch. A sync's `err` is matched to it only when it names the conversation (`conv`).
// Both in one round, so the send comes in the first cycle of rounds, early enough that a server's silence
// to it is seen (`no-answer`, attemptTimeoutMs later) before the run ends (one in turn made the send in
// the second cycle, in the settle phase, where its silence was never seen).

import { CloseCode, ErrorCode } from '../../reference-server/protocol/codes.ts';
import type {
  AckFrame,
  BatchFrame,
  ClientFrame,
  ErrFrame,
  HelloFrame,
  PresenceFrame,
  WelcomeFrame,
} from '../../reference-server/protocol/frames.ts';
import { protocolLimits } from '../../reference-server/protocol/limits.ts';
import { type ClientHost, needsTimer } from './client-effect.ts';
import type { ConversationView } from './conversation-view.ts';
import type { AdversaryBehaviour } from './limits.ts';
import { clientFrame } from './wire.ts';

/** What the adversary needs beyond an ordinary client part. */
export interface AdversaryHost extends ClientHost {
  /** Sends WebSocket text as it is (malformed-text: it need not be a frame). */
  text(text: string): void;
  /** Sends a WebSocket binary frame (malformed-text's binary-frame). */
  binary(bytes: Uint8Array): void;
  nextAttemptId(): number;
  badToken(now: number): string;
  views(): Iterable<ConversationView>;
  /** Closes the connection (if any) and reconnects at once. */
  reconnectNow(now: number): void;
  /** When the current connection began to connect (the server cannot have opened it earlier). */
  connectionBegunAt(): number;
}

/**
 * A behaviour's attempt; cursor-regression makes two, the second past lastSeq; watch-past-bound makes a
 * second, a re-watch at the bound, when the server refused exactly the one user past it.
 */
type Action =
  | AdversaryBehaviour
  | 'cursor-past-last-seq'
  | 'rewatch-at-bound'
  | 'binary-frame'
  | 'bad-frame-past-limit'
  | 'oversize-text';

type Attempt = {
  id: number;
  action: Action;
  conv: string;
  /** foreign-send: the cmid. watch-past-bound: the last user watched. cursor attempts: the cursor the welcome is compared with. */
  key: string;
  threshold: number;
  at: number;
};

/** Answers a server gives a forbidden sync before touching its store. */
const refusals: ReadonlySet<string> = new Set([
  ErrorCode.forbidden,
  ErrorCode.notFound,
  ErrorCode.badRequest,
]);

export class Adversary {
  private round = 0;
  /** The first hello of a forged-token adversary is already an attempt: it needs no welcome first. */
  private forgeNext: boolean;
  private pending: Attempt[] = [];
  private timerAt = 0;
  private foreignNext = 0;
  private sends = 0;
  /** foreign-resume: the conversation the next hello resumes (null: none). */
  private resumeNext: string | null = null;
  /** watch-past-bound is tried once: the server's bound does not change. */
  private watchedPastBound = false;
  /** Presences got for the users watch-past-bound watched, while its attempt waits. */
  private watchesServed = 0;
  /**
   * malformed-text's text over 64 KiB waits for the answers to the malformed frames before it: its close
   * would otherwise end their attempts before a server that ignores them is seen to (`closed:1009`, no
   * verdict, where silence is one).
   */
  private oversizeDue = false;
  /** Bad frames sent on this connection (malformed-text): at most `badFramesMax` are owed `bad_request`. */
  private badFramesOnConn = 0;
  /** The bad frame past the bound, owed close 4400, waits for the answers to those before it. */
  private pastLimitDue = false;
  /** That frame: malformed-text's is text that is no JSON, repeated-hello's a second hello. */
  private pastLimit = malformedTexts[0]!;
  /** silent-connection: the next connection sends no hello. */
  private silentNext = false;
  /** wrong-first-frame: the next connection sends this first, not a hello (owed close 4401). */
  private firstFrameNext: 'text' | 'frame' | null = null;
  /** wrong-first-frame rounds so far: they alternate text that is no frame and a valid typing. */
  private firstFrameRounds = 0;
  /** The current connection sent no hello (its attempt waits for close 4408). */
  silent = false;
  /** What the next connection does between its hello and the welcome. */
  private beforeWelcomeNext: 'frames' | 'oversize' | 'leave' | null = null;
  /** frames-before-welcome rounds so far: they alternate bad frames and a text over 64 KiB. */
  private beforeWelcomeRounds = 0;

  constructor(behaviours: readonly string[]) {
    this.forgeNext = behaviours.includes('forged-token');
  }

  /** Attempts made before `at` still waiting for their outcome (the run must not end on them). */
  pendingBefore(at: number): number {
    let count = 0;
    for (const attempt of this.pending) if (attempt.at < at) count++;
    return count;
  }

  isForeign(host: ClientHost, conv: string): boolean {
    return host.config.foreignConvs.includes(conv);
  }

  /** The token of this hello: a forged one when a forged-token round asked for it. */
  helloToken(host: AdversaryHost, now: number): string | undefined {
    if (!this.forgeNext) return undefined;
    this.forgeNext = false;
    this.attempt(host, 'forged-token', '', '', 0, now);
    return host.badToken(now);
  }

  /** A foreign-resume round names a conversation the user may not read in this hello's `resume`. */
  addResume(host: AdversaryHost, frame: HelloFrame, now: number): void {
    const conv = this.resumeNext;
    if (conv === null) return;
    this.resumeNext = null;
    frame.resume = { ...frame.resume, [conv]: 0 };
    this.attempt(host, 'foreign-resume', conv, '', 0, now);
  }

  /**
   * Asked as each connection opens: true when a silent-connection round wants it to send no hello. The
   * attempt's threshold is when the connection began: the server cannot have opened it earlier, so its
   * close 4408 is owed no earlier than helloTimeoutMs after that.
   */
  withholdsHello(host: AdversaryHost, now: number): boolean {
    const first = this.firstFrameNext;
    if (first !== null) {
      // protocol.md "Signing in": "a first frame that is not a hello gets close 4401".
      this.firstFrameNext = null;
      this.silent = true;
      this.attempt(host, 'wrong-first-frame', '', first, 0, now);
      if (first === 'text') host.text(malformedTexts[0]!.text);
      else host.frame(clientFrame.typing(`${host.device}-nx`, true));
      this.arm(host, now + host.config.attemptTimeoutMs);
      return true;
    }
    this.silent = this.silentNext;
    if (!this.silentNext) return false;
    this.silentNext = false;
    this.attempt(host, 'silent-connection', '', '', host.connectionBegunAt(), now);
    this.arm(host, now + host.config.helloTimeoutMs + host.config.attemptTimeoutMs);
    return true;
  }

  /** Right after the hello, before the welcome: frames-before-welcome's frames, or leave-before-welcome's close. */
  afterHello(host: AdversaryHost, now: number): void {
    const next = this.beforeWelcomeNext;
    this.beforeWelcomeNext = null;
    if (next === 'leave') host.reconnectNow(now);
    else if (next === 'oversize') this.oversize(host, now);
    else if (next === 'frames')
      for (const malformed of beforeWelcomeFrames) {
        this.badFramesOnConn++;
        if (malformed === 'binary') {
          this.attempt(host, 'binary-frame', beforeWelcome, 'binary', 0, now);
          host.binary(binaryFrame);
        } else {
          this.attempt(host, 'malformed-text', beforeWelcome, malformed.key, 0, now);
          host.text(malformed.text);
        }
      }
  }

  onWelcome(host: AdversaryHost, welcome: WelcomeFrame, now: number): void {
    // The text over 64 KiB follows the 4400 close that ended the last session (no bad frame pending now).
    this.afterBadFrames(host, now);
    for (const attempt of [...this.pending]) {
      if (attempt.action === 'forged-token') this.resolve(host, attempt, 'accepted', now);
      else if (attempt.action === 'cursor-regression' || attempt.action === 'cursor-past-last-seq') {
        const summary = welcome.convs.find((c) => c.conv === attempt.conv);
        let result = 'not-member';
        if (summary !== undefined && attempt.action === 'cursor-regression')
          result = summary.delivered < attempt.threshold ? 'accepted' : 'ignored';
        else if (summary !== undefined) result = summary.delivered > summary.lastSeq ? 'accepted' : 'clamped';
        this.resolve(host, attempt, result, now);
      }
    }
    this.arm(host, now + host.config.adversaryEveryMs);
  }

  /** True when the ack answers an adversarial send. */
  onAck(host: AdversaryHost, frame: AckFrame, now: number): boolean {
    const attempt = this.pending.find((a) => isSend(a) && a.key === frame.cmid);
    if (attempt === undefined) return false;
    this.resolve(host, attempt, 'accepted', now);
    return true;
  }

  /** True when the err answers an adversarial frame. */
  onErr(host: AdversaryHost, frame: ErrFrame, now: number): boolean {
    if (this.malformedErr(host, frame, now)) return true;
    const action = refusedActions[frame.ref ?? ''];
    const attempt =
      action === undefined
        ? this.pending.find((a) => isSend(a) && a.key === frame.ref)
        : action === 'watch-past-bound' || refusals.has(frame.code)
          ? this.pending.find(
              (a) =>
                ((a.action === action ||
                  (action === 'watch-past-bound' && a.action === 'rewatch-at-bound')) &&
                  (frame.conv === undefined || a.conv === '' || a.conv === frame.conv)) ||
                (action === 'foreign-sync' &&
                  a.action === 'missing-conv' &&
                  a.key === '' &&
                  a.conv === frame.conv),
            )
          : undefined;
    if (attempt === undefined) return false;
    this.resolve(host, attempt, frame.code, now);
    if (attempt.action === 'watch-past-bound') this.rewatchAtBound(host, now);
    return true;
  }

  /** True when the batch is for a foreign conversation: it is evidence, never displayed. */
  onBatch(host: AdversaryHost, frame: BatchFrame, now: number): boolean {
    const missing = frame.conv === missingConv(host);
    if (!this.isForeign(host, frame.conv) && !missing) return false;
    const attempt = this.pending.find(
      (a) =>
        (a.action === 'foreign-sync' || a.action === 'foreign-resume' || a.action === 'missing-conv') &&
        a.key === '' &&
        a.conv === frame.conv,
    );
    if (attempt !== undefined) this.resolve(host, attempt, frame.msgs.length > 0 ? 'accepted' : 'empty', now);
    return true;
  }

  /**
   * True when the presence is about a user only watch-past-bound watched (no one is): not recorded, as
   * no checker judges it. The last one's answer means the server served every watch.
   */
  onPresence(host: AdversaryHost, frame: PresenceFrame, now: number): boolean {
    if (!frame.user.startsWith(watchedPrefix(host))) return false;
    const attempt = this.pending.find(
      (a) => (a.action === 'watch-past-bound' || a.action === 'rewatch-at-bound') && a.key === frame.user,
    );
    if (attempt === undefined) this.watchesServed++;
    else this.resolve(host, attempt, 'served', now);
    return true;
  }

  /**
   * The server refused the watches past its bound after serving every one up to it
   * (watchPastBoundUsers - 1): this connection watches exactly its bound's worth, and nothing else of
   * the burst is unanswered. Watching one of them again adds no user, so the bound cannot refuse it:
   * protocol.md's `watch` answers a presence per user.
   */
  private rewatchAtBound(host: AdversaryHost, now: number): void {
    if (this.watchesServed !== host.config.watchPastBoundUsers - 1) return;
    const user = `${watchedPrefix(host)}1`;
    this.attempt(host, 'rewatch-at-bound', '', user, 0, now);
    host.frame(clientFrame.watch([user]));
  }

  /** The connection is gone: attempts answered on it can no longer be. */
  onDisconnect(host: AdversaryHost, reason: string, now: number): void {
    // The session the bad frame past the bound ended: the text over 64 KiB goes in the next one.
    this.oversizeDue &&= this.pending.some((a) => a.action === 'bad-frame-past-limit');
    this.pastLimitDue = false;
    this.badFramesOnConn = 0;
    this.silent = false;
    for (const attempt of [...this.pending])
      if (attempt.action === 'silent-connection')
        this.resolve(
          host,
          attempt,
          // Its threshold is when the connection began: a 4408 before the hello timeout came early, one
          // more than a second after it came late (the node's timer fires at the timeout; the open and
          // the close each cross the network once).
          reason !== String(CloseCode.helloTimeout)
            ? `closed:${reason}`
            : now - attempt.threshold < host.config.helloTimeoutMs
              ? `closed:${reason}-early`
              : now - attempt.threshold > host.config.helloTimeoutMs + helloCloseSlackMs
                ? `closed:${reason}-late`
                : `closed:${reason}`,
          now,
        );
      else if (attempt.action !== 'cursor-regression' && attempt.action !== 'cursor-past-last-seq')
        this.resolve(host, attempt, `closed:${reason}`, now);
  }

  onTimer(host: AdversaryHost, now: number): void {
    // Only the earliest outstanding timer runs a round; any other is stale.
    if (this.timerAt === 0 || now < this.timerAt) return;
    this.timerAt = 0;
    for (const attempt of [...this.pending])
      if (attempt.at + this.waitFor(host, attempt) <= now && !isCursor(attempt.action))
        this.resolve(host, attempt, 'no-answer', now);
    if (!host.canSend()) return;
    // A bad frame's answer is awaited on this connection (its silence is judged, a close is not): the
    // next round waits, lest it close the connection first (frames-before-welcome's before a reconnect).
    if (this.pending.some((a) => isMalformed(a.action) || a.action === 'oversize-text')) {
      this.arm(host, now + host.config.adversaryEveryMs);
      return;
    }
    if (this.pending.some((a) => isCursor(a.action))) {
      // Cursors are never answered to their sender: the next welcome shows where they landed.
      host.reconnectNow(now);
      return;
    }
    const behaviours = host.config.adversary;
    const behaviour = behaviours[this.round++ % behaviours.length];
    if (behaviour === 'forged-token') {
      this.forgeNext = true;
      host.reconnectNow(now);
      return;
    }
    if (behaviour === 'silent-connection') {
      this.silentNext = true;
      host.reconnectNow(now);
      return;
    }
    if (behaviour === 'wrong-first-frame') {
      this.firstFrameNext = this.firstFrameRounds++ % 2 === 0 ? 'text' : 'frame';
      host.reconnectNow(now);
      return;
    }
    if (behaviour === 'frames-before-welcome' || behaviour === 'leave-before-welcome') {
      this.beforeWelcomeNext =
        behaviour === 'leave-before-welcome'
          ? 'leave'
          : this.beforeWelcomeRounds++ % 2 === 0
            ? 'frames'
            : 'oversize';
      host.reconnectNow(now);
      return;
    }
    if (behaviour === 'foreign-resume') {
      this.resumeNext = this.nextForeign(host);
      if (this.resumeNext !== null) {
        host.reconnectNow(now);
        return;
      }
    }
    if (behaviour === 'foreign-send' || behaviour === 'foreign-sync' || behaviour === 'foreign-typing')
      this.foreign(host, behaviour, now);
    else if (behaviour === 'cursor-regression') this.cursors(host, now);
    else if (behaviour === 'watch-past-bound') this.watchPastBound(host, now);
    else if (behaviour === 'missing-conv') this.missing(host, now);
    else if (behaviour === 'malformed-text' || behaviour === 'repeated-hello')
      this.malformedText(host, behaviour === 'repeated-hello', now);
    this.arm(host, now + host.config.adversaryEveryMs);
  }

  private nextForeign(host: AdversaryHost): string | null {
    const convs = host.config.foreignConvs;
    return convs[this.foreignNext++ % convs.length] ?? null;
  }

  private foreign(
    host: AdversaryHost,
    behaviour: 'foreign-send' | 'foreign-sync' | 'foreign-typing',
    now: number,
  ): void {
    const conv = this.nextForeign(host);
    if (conv === null) return;
    if (behaviour === 'foreign-send') {
      const cmid = `${host.device}-f${++this.sends}`;
      this.attempt(host, behaviour, conv, cmid, 0, now);
      host.frame(clientFrame.send(conv, cmid, 'adversarial'));
    } else {
      this.attempt(host, behaviour, conv, '', 0, now);
      host.frame(behaviour === 'foreign-sync' ? clientFrame.sync(conv, 0) : clientFrame.typing(conv, true));
    }
  }

  /** A sync and a send naming a conversation no one created: two attempts, each owed an answer. */
  private missing(host: AdversaryHost, now: number): void {
    const conv = missingConv(host);
    this.attempt(host, 'missing-conv', conv, '', 0, now);
    host.frame(clientFrame.sync(conv, 0));
    const cmid = `${host.device}-m${++this.sends}`;
    this.attempt(host, 'missing-conv', conv, cmid, 0, now);
    host.frame(clientFrame.send(conv, cmid, 'adversarial'));
  }

  /**
   * Text frames the protocol answers `bad_request` (protocol.md: "a malformed or invalid frame, or an
   * unknown type"), one of each way to be malformed, then a binary frame (every message is a text frame,
   * protocol.md's Connection), again and again up to the connection's `badFramesMax`; then, once they
   * are answered, one more, which it closes with 4400, and in the next session one past 64 KiB, which it
   * closes with 1009 (afterBadFrames). The binary frame holds a
   * well-formed typing's UTF-8, so a server that read it as text would answer it as a typing, not as
   * bad_request.
   * Text a JS string holds is always valid UTF-16, and a WebSocket sends it as valid UTF-8: invalid
   * UTF-8 cannot be sent this way (ws closes such a frame 1007 before the server's code sees it).
   */
  private malformedText(host: AdversaryHost, helloLast: boolean, now: number): void {
    const bound = host.config.badFramesMax;
    // repeated-hello starts the round where the bound's last frame is the second hello.
    const first = helloLast
      ? (secondHello + badFrames.length - ((bound - 1) % badFrames.length)) % badFrames.length
      : 0;
    // Round after round of the ways to be malformed, up to the connection's bound and never past it.
    for (let i = first; this.badFramesOnConn < bound; i++) {
      this.badFramesOnConn++;
      const malformed = badFrames[i % badFrames.length]!;
      if (malformed === 'binary') {
        this.attempt(host, 'binary-frame', '', 'binary', 0, now);
        host.binary(binaryFrame);
      } else {
        this.attempt(host, 'malformed-text', '', malformed.key, 0, now);
        if ('text' in malformed) host.text(malformed.text);
        else host.frame(malformed.frame as unknown as ClientFrame);
      }
    }
    this.pastLimit = malformedTexts[helloLast ? secondHello : 0]!;
    this.pastLimitDue = true;
    this.oversizeDue = true;
    this.afterBadFrames(host, now);
  }

  /**
   * Once every bad frame before it is answered on this connection: the one past the bound (owed 4400),
   * then, when that is answered too (in the next session, after its close), the text over 64 KiB.
   */
  private afterBadFrames(host: AdversaryHost, now: number): void {
    if (this.pending.some((a) => isMalformed(a.action))) return;
    if (this.pastLimitDue) {
      this.pastLimitDue = false;
      this.badFramesOnConn++;
      this.attempt(host, 'bad-frame-past-limit', '', this.pastLimit.key, 0, now);
      host.text(this.pastLimit.text);
      return;
    }
    if (!this.oversizeDue) return;
    this.oversizeDue = false;
    this.oversize(host, now);
  }

  /** A text frame over 64 KiB: owed close 1009. */
  private oversize(host: AdversaryHost, now: number): void {
    this.attempt(host, 'oversize-text', '', '', 0, now);
    host.text(`{"t":"typing","conv":"x","on":true,"pad":"${'x'.repeat(protocolLimits.frameBytesMax)}"}`);
  }

  /** How long an attempt waits for its answer: a silent connection's close comes after the hello timeout. */
  private waitFor(host: AdversaryHost, attempt: Attempt): number {
    return attempt.action === 'silent-connection'
      ? host.config.helloTimeoutMs + host.config.attemptTimeoutMs
      : host.config.attemptTimeoutMs;
  }

  /**
   * An err answering a malformed text (answers come in order): the oldest pending one whose expected
   * `ref` it carries, else, when its `ref` is none or names nothing else this adversary awaits, the
   * oldest pending at all: protocol.md does not fix a malformed frame's `ref` (the minimal server
   * answers an unknown type with `ref` "unknown").
   */
  private malformedErr(host: AdversaryHost, frame: ErrFrame, now: number): boolean {
    let oldest: Attempt | undefined;
    let attempt: Attempt | undefined;
    for (const a of this.pending) {
      if (!isMalformed(a.action)) continue;
      oldest ??= a;
      if (malformedRefs.get(a.key) === frame.ref) {
        attempt = a;
        break;
      }
    }
    if (oldest === undefined) return false;
    const ref = frame.ref;
    // A hello's refusal other than bad_request answers a foreign resume, not a second hello.
    if (ref === 'hello' && frame.code !== ErrorCode.badRequest) return false;
    // By order only an err that could answer text: none names its frame, or it refuses one as bad. An
    // err with another code and a `ref` of its own answers something else this device did (swarm seed
    // 7925195655475: an `unavailable` with a ref the adversary did not track was taken for a text's).
    if (
      attempt === undefined &&
      (ref === undefined ||
        (frame.code === ErrorCode.badRequest &&
          refusedActions[ref] === undefined &&
          !this.pending.some((a) => isSend(a) && a.key === ref)))
    )
      attempt = oldest;
    if (attempt === undefined) return false;
    this.resolve(host, attempt, frame.code, now);
    this.afterBadFrames(host, now);
    return true;
  }

  /** Watches `watchPastBoundUsers` users no one is, in frames of the protocol's most. */
  private watchPastBound(host: AdversaryHost, now: number): void {
    if (this.watchedPastBound) return;
    this.watchedPastBound = true;
    const count = host.config.watchPastBoundUsers;
    const prefix = watchedPrefix(host);
    this.attempt(host, 'watch-past-bound', '', `${prefix}${count}`, 0, now);
    this.watchesServed = 0;
    for (let from = 1; from <= count; from += protocolLimits.watchUsersMax) {
      const users: string[] = [];
      for (let n = from; n < from + protocolLimits.watchUsersMax && n <= count; n++)
        users.push(`${prefix}${n}`);
      host.frame(clientFrame.watch(users));
    }
  }

  /** A delivered cursor below one the server confirmed, then one far past lastSeq. */
  private cursors(host: AdversaryHost, now: number): void {
    for (const view of host.views()) {
      if (view.ownDelivered < 1) continue;
      this.attempt(host, 'cursor-regression', view.conv, '', view.ownDelivered, now);
      host.frame(clientFrame.cursor('delivered', view.conv, view.ownDelivered - 1));
      const past = Math.max(view.knownLastSeq, view.displayedUpTo) + host.config.cursorPastLastSeqBy;
      this.attempt(host, 'cursor-past-last-seq', view.conv, '', 0, now);
      host.frame(clientFrame.cursor('delivered', view.conv, past));
      return;
    }
  }

  private attempt(
    host: AdversaryHost,
    action: Action,
    conv: string,
    key: string,
    threshold: number,
    now: number,
  ): void {
    const id = host.nextAttemptId();
    this.pending.push({ id, action, conv, key, threshold, at: now });
    host.record({ k: 'attempt', at: now, id, action, conv, user: host.user, device: host.device });
  }

  private resolve(host: AdversaryHost, attempt: Attempt, result: string, now: number): void {
    const index = this.pending.indexOf(attempt);
    if (index < 0) return;
    this.pending.splice(index, 1);
    host.record({ k: 'outcome', at: now, id: attempt.id, result });
  }

  private arm(host: AdversaryHost, at: number): void {
    if (!needsTimer(this.timerAt, at)) return;
    this.timerAt = at;
    host.schedule('adversary', at);
  }
}

/**
 * The malformed texts, each owed `bad_request`: not JSON (a valid frame with garbage after it), JSON
 * that is not an object, an unknown type, and a known type with a field of the wrong type.
 */
const malformedTexts: readonly { key: string; text: string }[] = [
  { key: 'not-json', text: '{"t":"typing","conv":"x","on":true} and more' },
  { key: 'not-object', text: '["typing","x",true]' },
  { key: 'unknown-type', text: '{"t":"shout","conv":"x"}' },
  { key: 'bad-field', text: '{"t":"watch","users":"everyone"}' },
  { key: 'second-hello', text: '{"t":"hello","token":"again"}' },
];

/**
 * How long after the hello timeout a silent connection's 4408 may come: the connection's open and its
 * close each cross the network (milliseconds here). Later, the node sat on its timers.
 */
const helloCloseSlackMs = 1000;

/** Where the second hello is among the malformed texts (and the bad frames). */
const secondHello = 4;

/**
 * JSON objects that are no client frame, sent as the link carries frames (a `frame` input in the
 * simulator): an unknown type, and no type at all. Each owed `bad_request`.
 */
const malformedFrames: readonly { key: string; frame: object }[] = [
  { key: 'unknown-type-frame', frame: { t: 'shout', conv: 'x' } },
  { key: 'untyped-frame', frame: { conv: 'x', on: true } },
];

/** One round of malformed-text's bad frames: the texts, a binary frame, the objects. */
const badFrames: readonly ('binary' | { key: string; text: string } | { key: string; frame: object })[] = [
  ...malformedTexts,
  'binary',
  ...malformedFrames,
];

/** frames-before-welcome's frames: a binary frame, text that is no frame, and a second hello. */
const beforeWelcomeFrames: readonly ('binary' | { key: string; text: string })[] = [
  'binary',
  malformedTexts[0]!,
  malformedTexts[4]!,
];

/** The `conv` of an attempt made before the welcome (it names none): shown in a witness. */
const beforeWelcome = 'before-welcome';

/** The `ref` the reference server's `err` carries for each malformed text (none for what is no frame). */
const malformedRefs: ReadonlyMap<string, string | undefined> = new Map([
  ['not-json', undefined],
  ['not-object', undefined],
  ['unknown-type', 'shout'],
  ['bad-field', 'watch'],
  ['binary', undefined],
  ['second-hello', 'hello'],
  ['unknown-type-frame', 'shout'],
  ['untyped-frame', undefined],
]);

/** binary-frame's frame: a well-formed typing, as UTF-8 in a binary frame. */
const binaryFrame: Uint8Array = new TextEncoder().encode('{"t":"typing","conv":"x","on":true}');

/** The adversarial action an `err` answers, by its `ref` (a frame type). */
const refusedActions: Readonly<Record<string, Action>> = {
  sync: 'foreign-sync',
  hello: 'foreign-resume',
  typing: 'foreign-typing',
  watch: 'watch-past-bound',
};

/** A send of foreign-send or missing-conv: its key is the cmid. */
function isSend(attempt: Attempt): boolean {
  return attempt.action === 'foreign-send' || (attempt.action === 'missing-conv' && attempt.key !== '');
}

/** The conversation missing-conv names: `<device>-nx`, which no one creates. */
function missingConv(host: ClientHost): string {
  return `${host.device}-nx`;
}

/** The ids of the users watch-past-bound watches: `<device>-w<n>`, which no user is. */
function watchedPrefix(host: ClientHost): string {
  return `${host.device}-w`;
}

/** A bad frame malformed-text sends: owed `bad_request`, or, past the bound, close 4400. */
function isMalformed(action: Action): boolean {
  return action === 'malformed-text' || action === 'binary-frame' || action === 'bad-frame-past-limit';
}

function isCursor(action: Action): boolean {
  return action === 'cursor-regression' || action === 'cursor-past-last-seq';
}
