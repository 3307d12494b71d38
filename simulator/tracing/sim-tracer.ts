// OpenTelemetry spans for each message's way through a simulated run, in virtual time: the chain the
// live runtime records (reference-server/runtime/frame-tracer.ts: chat send -> persist -> fan-out ->
// deliver), seen from outside the nodes through the world's tap, under a root span for the client's
// own send (its first attempt to its ack). Nothing here acts on the world or draws from its seed
// streams, so a traced run has the trace hash of an untraced one; span and trace ids come from the
// tracer's own seeded generator and times from the virtual clock, so one seed gives the same spans.
// Deliver spans cover pushed `msg` frames (node to client); a message a client pulls with `sync`
// (large groups, gaps, resumes) has no deliver span.

import { type Context, ROOT_CONTEXT, type Span, SpanKind, SpanStatusCode, trace } from '@opentelemetry/api';
import { millisToHrTime } from '@opentelemetry/core';
import { resourceFromAttributes } from '@opentelemetry/resources';
import { AlwaysOnSampler, BasicTracerProvider, type SpanProcessor } from '@opentelemetry/sdk-trace-base';
import type { Effect } from '../../reference-server/core/effects.ts';
import type { Input } from '../../reference-server/core/inputs.ts';
import type { MsgFrame, ServerFrame } from '../../reference-server/protocol/frames.ts';
import type { HistoryEvent } from '../history.ts';
import { hashString } from '../kernel/prng.ts';
import type { RunTracer } from '../run-scenario.ts';
import type { World } from '../world/world.ts';
import { SeededIdGenerator } from './seeded-id-generator.ts';

export type SimTracerOptions = {
  seed: number;
  /** The wall-clock time (ms since the epoch) virtual time 0 is stamped as. */
  epochMs: number;
  /** Receives each span as it ends (an InOrderBatchProcessor in front of an exporter). */
  processor: SpanProcessor;
  /** The share of messages traced, decided per message from the seed (default 1: every one). */
  sampleRatio?: number;
  /** Resource attributes beside `service.name` (scenario, run id). */
  resource?: Record<string, string>;
};

/** One traced send: the client's root span and the node-side attempts under it. */
type TracedSend = { root: Span; rootContext: Context; servers: Span[]; serverContext: Context };
/** One node's push of one message: open until every frame it sent has arrived. */
type Fanout = { span: Span; pushedAt: number; outstanding: number; recipients: number };

const unfinished = 'still open when the run ended';

export class SimTracer implements RunTracer {
  private readonly provider: BasicTracerProvider;
  private readonly tracer;
  private world: World | null = null;
  private readonly sends = new Map<string, TracedSend>();
  /** Store appends awaiting their answer, by node, incarnation and effect id. */
  private readonly persists = new Map<string, Span>();
  private readonly fanouts = new Map<MsgFrame, Fanout>();
  private readonly sampleBelow: number;

  constructor(private readonly options: SimTracerOptions) {
    if (!Number.isSafeInteger(options.epochMs)) throw new Error('epochMs must be whole milliseconds');
    this.provider = new BasicTracerProvider({
      resource: resourceFromAttributes({ 'service.name': 'chatsim-sim', ...options.resource }),
      idGenerator: new SeededIdGenerator(options.seed),
      sampler: new AlwaysOnSampler(),
      spanProcessors: [options.processor],
    });
    this.tracer = this.provider.getTracer('chatsim-sim');
    this.sampleBelow = Math.floor((options.sampleRatio ?? 1) * 2 ** 32);
  }

  attach(world: World): void {
    this.world = world;
  }

  /** The client side, from the history: a send opens a trace, its ack (or failure) ends the root. */
  observe(event: HistoryEvent): void {
    if (event.k === 'send') {
      const key = keyOf(event.conv, event.user, event.cmid);
      if (this.sampleBelow < 2 ** 32 && hashString(`${this.options.seed}/${key}`) >= this.sampleBelow) return;
      const root = this.tracer.startSpan(
        'chat send',
        {
          kind: SpanKind.CLIENT,
          startTime: this.time(event.at),
          attributes: {
            'chat.conv': event.conv,
            'chat.cmid': event.cmid,
            'chat.user': event.user,
            'chat.device': event.device,
          },
        },
        ROOT_CONTEXT,
      );
      const rootContext = trace.setSpan(ROOT_CONTEXT, root);
      this.sends.set(key, { root, rootContext, servers: [], serverContext: rootContext });
    } else if (event.k === 'ack' || event.k === 'failed') {
      const send = this.sends.get(keyOf(event.conv, event.user, event.cmid));
      if (send === undefined || !send.root.isRecording()) return;
      if (event.k === 'ack') send.root.setAttribute('chat.seq', event.seq);
      else send.root.setStatus({ code: SpanStatusCode.ERROR, message: event.code });
      send.root.end(this.time(event.at));
    }
  }

  nodeInput(node: number, input: Input): void {
    if (input.type === 'stored') {
      const key = `${node}/${this.world!.nodes[node]!.epoch}/${input.id}`;
      const persist = this.persists.get(key);
      if (persist === undefined) return;
      this.persists.delete(key);
      if (input.outcome.status !== 'ok')
        persist.setStatus({ code: SpanStatusCode.ERROR, message: input.outcome.status });
      persist.end(this.time(this.now()));
      return;
    }
    if (input.type !== 'frame' && input.type !== 'text') return;
    // A text frame (a device of `clients.textFraction`) is read again here; the node parses its own.
    const frame = (input.type === 'frame' ? input.value : parsedOrNull(input.text)) as {
      t?: unknown;
      conv?: unknown;
      cmid?: unknown;
    } | null;
    if (frame?.t !== 'send' || typeof frame.conv !== 'string' || typeof frame.cmid !== 'string') return;
    const user = this.world!.clientOfConnection(input.conn)?.user;
    const send = user === undefined ? undefined : this.sends.get(keyOf(frame.conv, user, frame.cmid));
    if (send === undefined) return;
    const server = this.tracer.startSpan(
      'chat send',
      {
        kind: SpanKind.SERVER,
        startTime: this.time(this.now()),
        attributes: { 'chat.node': nodeId(node), 'chat.attempt': send.servers.length + 1 },
      },
      send.rootContext,
    );
    send.servers.push(server);
    send.serverContext = trace.setSpan(send.rootContext, server);
  }

  nodeEffects(node: number, effects: readonly Effect[]): void {
    for (const effect of effects) {
      if (effect.type === 'store' && effect.op.kind === 'append') {
        const { conv, cmid, from } = effect.op.request;
        const send = this.sends.get(keyOf(conv, from, cmid));
        if (send === undefined) continue;
        const key = `${node}/${this.world!.nodes[node]!.epoch}/${effect.id}`;
        this.persists.set(
          key,
          this.tracer.startSpan(
            'chat persist',
            { startTime: this.time(this.now()), attributes: { 'chat.node': nodeId(node) } },
            send.serverContext,
          ),
        );
      } else if (effect.type === 'send') this.frameSent(node, effect.to, effect.frame);
    }
  }

  frameArrived(client: number, frame: ServerFrame): void {
    if (frame.t !== 'msg') return;
    const fanout = this.fanouts.get(frame);
    if (fanout === undefined) return;
    const sim = this.world!.clients[client]!;
    const now = this.time(this.now());
    this.tracer
      .startSpan(
        'chat deliver',
        {
          kind: SpanKind.PRODUCER,
          startTime: this.time(fanout.pushedAt),
          attributes: { 'chat.user': sim.user, 'chat.device': sim.device },
        },
        trace.setSpan(ROOT_CONTEXT, fanout.span),
      )
      .end(now);
    if (--fanout.outstanding === 0) {
      this.fanouts.delete(frame);
      fanout.span.end(now);
    }
  }

  /** Ends what is still open at the run's end, marked as such; the processor gets every span. */
  finish(): void {
    const now = this.time(this.now());
    for (const fanout of this.fanouts.values()) {
      fanout.span.setStatus({
        code: SpanStatusCode.ERROR,
        message: `${fanout.outstanding} of ${fanout.recipients} pushes never arrived`,
      });
      fanout.span.end(now);
    }
    this.fanouts.clear();
    for (const persist of this.persists.values()) endUnfinished(persist, now);
    this.persists.clear();
    for (const send of this.sends.values()) {
      for (const server of send.servers) endUnfinished(server, now);
      endUnfinished(send.root, now);
    }
    this.sends.clear();
  }

  /** Hands every ended span to the exporter. */
  flush(): Promise<void> {
    return this.provider.forceFlush();
  }

  /** Flushes and closes the processor and its exporter. */
  shutdown(): Promise<void> {
    return this.provider.shutdown();
  }

  private frameSent(node: number, to: readonly number[], frame: ServerFrame): void {
    if (frame.t === 'ack' || (frame.t === 'err' && frame.ref !== undefined && frame.conv !== undefined)) {
      const user = this.world!.clientOfConnection(to[0]!)?.user;
      const cmid = frame.t === 'ack' ? frame.cmid : frame.ref!;
      const send = user === undefined ? undefined : this.sends.get(keyOf(frame.conv!, user, cmid));
      if (send === undefined) return;
      const now = this.time(this.now());
      for (const server of send.servers) {
        if (!server.isRecording()) continue;
        if (frame.t === 'ack') server.setAttribute('chat.seq', frame.seq);
        else server.setStatus({ code: SpanStatusCode.ERROR, message: frame.code });
        server.end(now);
      }
      return;
    }
    if (frame.t !== 'msg') return;
    const send = this.sends.get(keyOf(frame.conv, frame.from, frame.cmid));
    if (send === undefined) return;
    const span = this.tracer.startSpan(
      'chat fanout',
      {
        startTime: this.time(this.now()),
        attributes: { 'chat.node': nodeId(node), 'chat.seq': frame.seq, 'chat.recipients': to.length },
      },
      send.serverContext,
    );
    if (to.length === 0) span.end(this.time(this.now()));
    else
      this.fanouts.set(frame, { span, pushedAt: this.now(), outstanding: to.length, recipients: to.length });
  }

  private now(): number {
    return this.world!.now;
  }

  /** Virtual ms as an OTel time, exact to the nanosecond (adding a fraction to an epoch in ms would not be). */
  private time(virtualMs: number): [number, number] {
    const wholeMs = Math.floor(virtualMs);
    const [seconds, nanos] = millisToHrTime(this.options.epochMs + wholeMs);
    const total = nanos + Math.round((virtualMs - wholeMs) * 1e6);
    return total >= 1e9 ? [seconds + 1, total - 1e9] : [seconds, total];
  }
}

function endUnfinished(span: Span, at: [number, number]): void {
  if (!span.isRecording()) return;
  span.setStatus({ code: SpanStatusCode.ERROR, message: unfinished });
  span.end(at);
}

/** cmids repeat across users (the idempotency key includes the sender), so the key does too. */
function keyOf(conv: string, user: string, cmid: string): string {
  return `${conv}\u0000${user}\u0000${cmid}`;
}

function nodeId(index: number): string {
  return `n${index + 1}`;
}

/** A text frame's JSON value, or null when it is not JSON. */
function parsedOrNull(text: string): unknown {
  try {
    return JSON.parse(text);
  } catch {
    return null;
  }
}
