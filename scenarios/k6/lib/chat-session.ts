// One session of one k6 virtual user, speaking protocol v1 over k6's event-loop WebSocket: hello
// (resuming what the VU holds from its earlier sessions), a send every SEND_INTERVAL_MS with its ack
// latency measured from the scheduled time, pushes displayed exactly once in seq order, gaps and
// notifies pulled with sync, and the session closed after SESSION_SECONDS (or at a `drain`). What a
// VU holds (its display position, unacked sends) lives in `VuChat` across iterations, so the next
// session resumes it and resends under the same cmids.

import { check } from 'k6';
import exec from 'k6/execution';
import { clearInterval, clearTimeout, setInterval, setTimeout } from 'k6/timers';
import { WebSocket } from 'k6/websockets';
import type { ServerFrame } from '../../../reference-server/protocol/frames.ts';
import { type ChatLoadConfig, conversationOf, userId } from './config.ts';
import { AckBook, ConversationLog, type Message } from './conversation-log.ts';
import { metrics, tokenFor } from './k6-runtime.ts';

/** Bounds: retries of one send after rate_limited/unavailable, and sessions a send may stay unacked. */
export const sessionLimits = { sendRetriesMax: 5, sessionsUnackedMax: 3 } as const;

type PendingSend = { cmid: string; body: string; scheduledAt: number; retries: number; sessions: number };

/** What one VU keeps between its sessions. */
export class VuChat {
  readonly log: ConversationLog;
  readonly acks = new AckBook();
  readonly pending = new Map<string, PendingSend>();
  sessions = 0;
  private sent = 0;

  constructor(
    readonly user: string,
    conv: string,
    /** exec.vu.idInTest: unique across every instance of a distributed run, so cmids never collide. */
    private readonly vuId: number,
  ) {
    this.log = new ConversationLog(conv);
  }

  /** Sends this VU has issued (each under a new cmid). */
  get issued(): number {
    return this.sent;
  }

  nextCmid(): string {
    return `v${this.vuId}.${this.sessions}.${++this.sent}`;
  }
}

type Frame = ServerFrame | { t: string };

/** This VU's chat state; k6 keeps module state per VU across its iterations. */
let thisVu: VuChat | null = null;

/** One iteration of a chat script: this VU's next session (the first opens, later ones resume). */
export function chatIteration(config: ChatLoadConfig): void {
  const n = exec.vu.idInTest;
  thisVu ??= new VuChat(userId(config, n), conversationOf(config, n).id, n);
  runSession(config, thisVu, { send: true });
}

export function runSession(config: ChatLoadConfig, vu: VuChat, options: { send: boolean }): void {
  const conv = vu.log.conv;
  const resume = vu.sessions > 0;
  vu.sessions++;
  const openedAt = Date.now();
  const ws = new WebSocket(config.wsUrl);
  const intervals: number[] = [];
  const timeouts: number[] = [];
  let welcomedAt = 0;
  let sendsScheduled = 0;
  let syncInFlight = false;
  let syncAfter = -1;
  let syncsSent = 0;
  let gapSince = -1;
  metrics.agreementViolations.add(0);
  metrics.idempotencyViolations.add(0);

  const send = (frame: object) => ws.send(JSON.stringify(frame));
  const sync = () => {
    syncInFlight = true;
    syncAfter = vu.log.displayedUpTo;
    syncsSent++;
    metrics.syncs.add(1);
    send({ t: 'sync', conv, after: syncAfter });
  };
  const issue = (entry: PendingSend) => send({ t: 'send', conv, cmid: entry.cmid, body: entry.body });
  const giveUp = (entry: PendingSend) => {
    vu.pending.delete(entry.cmid);
    metrics.failedSends.add(true);
  };
  const display = (offered: Message[], via: 'push' | 'sync' | 'resume' | 'own') => {
    const now = Date.now();
    for (const message of offered) {
      // The VU's own messages (by ack, or by a resume that came before the ack) are not deliveries.
      if (message.from === vu.user) continue;
      metrics.displayedMessages.add(1, { via });
      metrics.deliveryLatency.add(now - message.ts, { via });
    }
  };
  const offer = (message: Message, via: 'push' | 'sync' | 'resume' | 'own') => {
    const offered = vu.log.offer(message);
    if (offered.duplicate) metrics.duplicateFrames.add(1);
    if (offered.disagreement) metrics.agreementViolations.add(1);
    display(offered.shown, via);
  };

  const welcome = (frame: Extract<ServerFrame, { t: 'welcome' }>) => {
    welcomedAt = Date.now();
    metrics.sessions.add(1);
    metrics.connectLatency.add(welcomedAt - openedAt);
    const entry = frame.convs.find((c) => c.conv === conv);
    check(frame, { "welcome lists the VU's conversation": () => entry !== undefined });
    if (entry) vu.log.learnLastSeq(entry.lastSeq);
    for (const pendingSend of vu.pending.values()) {
      if (++pendingSend.sessions > sessionLimits.sessionsUnackedMax) giveUp(pendingSend);
      else issue(pendingSend);
    }
    if (options.send)
      intervals.push(
        setInterval(() => {
          const cmid = vu.nextCmid();
          const body = `${cmid} `.padEnd(config.bodyBytes, 'x').slice(0, config.bodyBytes);
          const entry = {
            cmid,
            body,
            scheduledAt: welcomedAt + ++sendsScheduled * config.sendIntervalMs,
            retries: 0,
            sessions: 1,
          };
          vu.pending.set(cmid, entry);
          issue(entry);
        }, config.sendIntervalMs),
      );
    intervals.push(
      setInterval(
        () => {
          if (!vu.log.behind || syncInFlight) gapSince = -1;
          else if (gapSince < 0) gapSince = Date.now();
          else if (Date.now() - gapSince >= config.gapMs) sync();
        },
        Math.max(1, Math.floor(config.gapMs / 2)),
      ),
    );
  };

  const handle = (frame: Frame) => {
    switch (frame.t) {
      case 'welcome':
        return welcome(frame as Extract<ServerFrame, { t: 'welcome' }>);
      case 'ack': {
        const ack = frame as Extract<ServerFrame, { t: 'ack' }>;
        if (ack.conv !== conv) return;
        if (!vu.acks.record(ack.conv, ack.cmid, ack.seq)) metrics.idempotencyViolations.add(1);
        const entry = vu.pending.get(ack.cmid);
        if (!entry) return;
        vu.pending.delete(ack.cmid);
        metrics.ackLatency.add(Date.now() - entry.scheduledAt);
        metrics.failedSends.add(false);
        offer({ conv, seq: ack.seq, from: vu.user, cmid: ack.cmid, body: entry.body, ts: ack.ts }, 'own');
        return;
      }
      case 'msg': {
        const { t: _, ...message } = frame as Extract<ServerFrame, { t: 'msg' }>;
        if (message.conv === conv) offer(message, 'push');
        return;
      }
      case 'batch': {
        const batch = frame as Extract<ServerFrame, { t: 'batch' }>;
        if (batch.conv !== conv) return;
        const via = syncsSent === 0 && resume ? 'resume' : 'sync';
        const first = batch.msgs[0];
        if (first) vu.log.skipUnreadable(syncInFlight ? syncAfter : vu.log.displayedUpTo, first.seq);
        vu.log.learnLastSeq(batch.lastSeq);
        if (via === 'resume') metrics.resumedMessages.add(batch.msgs.length);
        for (const message of batch.msgs) offer(message, via);
        syncInFlight = false;
        if (batch.more || vu.log.behind) sync();
        return;
      }
      case 'notify': {
        const notify = frame as Extract<ServerFrame, { t: 'notify' }>;
        if (notify.conv !== conv) return;
        vu.log.learnLastSeq(notify.lastSeq);
        if (vu.log.behind && !syncInFlight) sync();
        return;
      }
      case 'err': {
        const err = frame as Extract<ServerFrame, { t: 'err' }>;
        if (err.ref === 'sync') syncInFlight = false;
        const entry = err.ref === undefined ? undefined : vu.pending.get(err.ref);
        if (!entry) return;
        const retryable = err.code === 'rate_limited' || err.code === 'unavailable';
        if (!retryable || ++entry.retries > sessionLimits.sendRetriesMax) return giveUp(entry);
        timeouts.push(setTimeout(() => vu.pending.has(entry.cmid) && issue(entry), err.retryAfterMs ?? 250));
        return;
      }
      case 'drain':
        ws.close(1000);
        return;
    }
  };

  ws.onopen = () => {
    const hello: Record<string, unknown> = { t: 'hello', token: tokenFor(config, vu.user), device: 'k6' };
    if (resume) hello.resume = { [conv]: vu.log.displayedUpTo };
    send(hello);
  };
  ws.onmessage = (event) => {
    let frame: Frame;
    try {
      frame = JSON.parse(String(event?.data)) as Frame;
    } catch {
      return;
    }
    handle(frame);
  };
  ws.onerror = () => {
    // k6 reports the socket error itself; onclose ends the session.
  };
  ws.onclose = () => {
    for (const id of intervals) clearInterval(id);
    for (const id of timeouts) clearTimeout(id);
    clearTimeout(closer);
    check(null, { 'session reached welcome': () => welcomedAt > 0 });
    if (welcomedAt === 0) metrics.sessionFailures.add(1);
  };
  const closer = setTimeout(() => ws.close(1000), config.sessionMs);
}
