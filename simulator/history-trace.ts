// What a run did, folded into its trace hash beside the kernel's event schedule: seqs, cmids, bodies,
// membership requests and answers, cursors, presence, phases and, at the end, the verdicts. Two runs
// that differ in one message body, one seq or one verdict hash differently, not only runs that differ in
// when something happened. Cheap on the hot path: a display (the most common event by far) mixes a few
// numbers; strings (bodies, cmids) are mixed once per message, at its send and its durable record.

import type { Message } from '../reference-server/protocol/frames.ts';
import type { CheckResult, HistoryEvent, Via } from './history.ts';
import type { TraceHash } from './kernel/trace-hash.ts';

const kinds: Record<HistoryEvent['k'], number> = {
  conv: 1,
  'members-sent': 2,
  'members-answered': 3,
  send: 4,
  ack: 5,
  failed: 6,
  durable: 7,
  display: 8,
  'cursor-sent': 9,
  'cursor-seen': 10,
  'conv-frame': 11,
  attempt: 12,
  outcome: 13,
  'watch-sent': 14,
  fault: 15,
  'presence-seen': 16,
  phase: 17,
  session: 18,
  'session-lost': 19,
  'sync-sent': 20,
  'rate-limited': 21,
  press: 22,
  'typing-sent': 23,
  'cursor-refused': 24,
  refused: 25,
  'http-read-sent': 26,
  'http-read': 27,
  'cursor-read': 28,
  unanswered: 29,
  'bad-frame': 30,
  'resent-ack': 31,
  'resent-err': 32,
  'create-sent': 33,
  'create-answered': 34,
  unavailable: 35,
  'steady-link': 36,
  ping: 37,
  'node-stop': 38,
  'send-buffer': 39,
};

const sendBufferStates = ['over', 'under', 'closed', 'ended'];

export function traceHistoryEvent(trace: TraceHash, event: HistoryEvent): void {
  trace.mix(kinds[event.k] ?? 0);
  switch (event.k) {
    case 'conv':
      trace.mixText(event.conv);
      for (const user of event.members) trace.mixText(user);
      return;
    case 'members-sent':
      trace.mix(event.id);
      trace.mixText(event.conv);
      for (const user of event.add) trace.mixText(user);
      trace.mix(event.add.length);
      for (const user of event.remove) trace.mixText(user);
      return;
    case 'create-sent':
      trace.mix(event.id);
      trace.mixText(event.conv);
      trace.mixText(event.kind);
      for (const user of event.members) trace.mixText(user);
      return;
    case 'create-answered':
      trace.mix(event.id);
      trace.mix(event.status);
      return;
    case 'members-answered':
      trace.mix(event.id);
      trace.mix(event.status);
      trace.mix(event.lastSeq ?? -1);
      return;
    case 'send':
      trace.mixText(event.cmid);
      trace.mixText(event.body);
      return;
    case 'ack':
      trace.mix(event.seq);
      trace.mix(event.ts);
      trace.mix(event.cmid.length);
      return;
    case 'resent-ack':
      trace.mix(event.seq);
      trace.mix(event.ts);
      trace.mix(event.first.seq);
      trace.mix(event.first.ts);
      trace.mixText(event.cmid);
      return;
    case 'failed':
    case 'cursor-refused':
    case 'refused':
    case 'resent-err':
      trace.mixText(event.code);
      return;
    case 'durable':
      trace.mix(event.message.seq);
      trace.mixText(event.message.cmid);
      trace.mixText(event.message.body);
      return;
    case 'display':
      traceDisplayFields(trace, event.message, event.via);
      return;
    case 'cursor-sent':
    case 'cursor-seen':
      trace.mix(event.seq);
      trace.mix(event.kind.length);
      return;
    case 'conv-frame':
      traceConvFrameFields(trace, event.t, event.seqs?.length ?? -1, event.of?.length ?? -1);
      if (event.more !== undefined) trace.mix(event.more ? (event.lastSeq ?? -1) : -2 - (event.lastSeq ?? 0));
      return;
    case 'outcome':
      trace.mixText(event.result);
      return;
    case 'presence-seen':
      trace.mix(event.online ? 1 : 0);
      return;
    case 'rate-limited':
      trace.mix(event.retryAfterMs ?? -1);
      return;
    case 'press':
      trace.mix(event.count);
      return;
    case 'typing-sent':
      trace.mix(event.on ? 1 : 0);
      return;
    case 'steady-link':
      trace.mix(event.latencyMs);
      return;
    case 'send-buffer':
      trace.mix(sendBufferStates.indexOf(event.state));
      trace.mix(event.bytes);
      trace.mix(event.code ?? -1);
      return;
    case 'http-read-sent':
      trace.mix(event.after);
      trace.mix(event.limit);
      if (event.malformed !== undefined) trace.mixText(event.malformed);
      return;
    case 'http-read':
      trace.mix(event.status);
      for (const seq of event.seqs ?? []) trace.mix(seq);
      trace.mix(
        event.more === undefined ? -1 : event.more ? (event.lastSeq ?? -2) : -3 - (event.lastSeq ?? 0),
      );
      return;
    case 'cursor-read':
      trace.mixText(event.conv);
      trace.mix(event.status);
      trace.mix(event.lastSeq ?? -1);
      for (const member of event.members ?? []) {
        trace.mixText(member.user);
        trace.mix(member.delivered);
        trace.mix(member.read);
      }
      return;
    case 'bad-frame':
      trace.mixText(event.problem);
      return;
    case 'unavailable':
      trace.mixText(event.ref ?? '');
      return;
    case 'unanswered':
      trace.mix(event.asked.length);
      trace.mix(event.askedAt);
      trace.mix(event.after ?? -1);
      return;
    case 'phase':
    case 'fault':
      trace.mix(event.at);
      return;
    case 'node-stop':
      trace.mix(event.at);
      trace.mix(event.killed ? 1 : 0);
      return;
  }
}

/** A `display` event as traceHistoryEvent mixes it, from its fields (a client's display recorded without its object). */
export function traceDisplay(trace: TraceHash, message: Message, via: Via): void {
  trace.mix(kinds.display);
  traceDisplayFields(trace, message, via);
}

/**
 * A `conv-frame` event with `seqCount` seqs (-1: none) and neither `of` nor a page, as traceHistoryEvent
 * mixes it, from its fields.
 */
export function traceConvFrame(trace: TraceHash, t: string, seqCount: number): void {
  trace.mix(kinds['conv-frame']);
  traceConvFrameFields(trace, t, seqCount, -1);
}

function traceDisplayFields(trace: TraceHash, message: Message, via: Via): void {
  trace.mix(message.seq);
  trace.mix(message.body.length);
  trace.mix(via.length);
}

function traceConvFrameFields(trace: TraceHash, t: string, seqCount: number, ofLength: number): void {
  trace.mix(t.length);
  trace.mix(seqCount);
  trace.mix(ofLength);
}

/** The verdicts close the trace: a run judged differently hashes differently. */
export function traceVerdicts(trace: TraceHash, verdicts: readonly CheckResult[]): void {
  for (const verdict of verdicts) {
    trace.mixText(verdict.property);
    trace.mixText(verdict.verdict);
    trace.mixText(verdict.details);
  }
}
