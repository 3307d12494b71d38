// OpenTelemetry spans for one message's way through a live node, kept out of the sans-I/O core: the
// runtime watches what goes in (a client `send` carrying the v1.1 `tp` traceparent, the store's
// answer) and what comes out (the `store` append, the `ack`, the `msg` pushes) and opens spans
// send -> persist -> fan-out -> deliver, continuing the client's trace. Pushed `msg` frames carry
// `tp` (the deliver span) so a receiving client can continue it. Off unless a tracer is given.
// Sends are matched by (conv, cmid): two senders using one cmid in one conversation at the same
// moment would share a trace (tracing only; nothing the protocol promises depends on it).

import {
  type Context,
  ROOT_CONTEXT,
  type Span,
  SpanKind,
  SpanStatusCode,
  type Tracer,
  trace,
} from '@opentelemetry/api';
import { W3CTraceContextPropagator } from '@opentelemetry/core';
import type { Effect } from '../core/effects.ts';
import type { Input } from '../core/inputs.ts';
import { runtimeLimits } from './limits.ts';

const propagator = new W3CTraceContextPropagator();
const getter = {
  keys: (carrier: Record<string, string>) => Object.keys(carrier),
  get: (carrier: Record<string, string>, key: string) => carrier[key],
};
const setter = {
  set: (carrier: Record<string, string>, key: string, value: string) => {
    carrier[key] = value;
  },
};

type Traced = { span: Span; context: Context };
type SendEffect = Extract<Effect, { type: 'send' }>;

export class FrameTracer {
  private readonly sends = new Map<string, Traced>();
  private readonly persists = new Map<number, Span>();

  constructor(private readonly tracer: Tracer) {}

  /** Sees every input before the core does. */
  input(input: Input): void {
    if (input.type === 'text') this.clientText(input.text);
    else if (input.type === 'stored') {
      const persist = this.persists.get(input.id);
      if (persist === undefined) return;
      this.persists.delete(input.id);
      if (input.outcome.status !== 'ok')
        persist.setStatus({ code: SpanStatusCode.ERROR, message: input.outcome.status });
      persist.end();
    }
  }

  /** Sees a store effect before the store runs it. */
  store(effect: Extract<Effect, { type: 'store' }>): void {
    if (effect.op.kind !== 'append') return;
    const { conv, cmid, from } = effect.op.request;
    const send = this.sends.get(keyOf(conv, cmid));
    if (send === undefined) return;
    send.span.setAttribute('chat.from', from);
    this.bounded(this.persists);
    this.persists.set(
      effect.id,
      this.tracer.startSpan(
        'chat persist',
        { attributes: { 'chat.conv': conv, 'chat.cmid': cmid } },
        send.context,
      ),
    );
  }

  /** Carries out a send effect through `write`, inside fan-out and deliver spans when it belongs to a trace. */
  send(effect: SendEffect, write: (effect: SendEffect) => void): void {
    const frame = effect.frame;
    if (frame.t === 'ack' || (frame.t === 'err' && frame.ref !== undefined)) {
      const key = frame.t === 'ack' ? keyOf(frame.conv, frame.cmid) : keyOf(frame.conv ?? '', frame.ref!);
      const send = this.sends.get(key);
      if (send !== undefined) {
        if (frame.t === 'ack') send.span.setAttribute('chat.seq', frame.seq);
        else send.span.setStatus({ code: SpanStatusCode.ERROR, message: frame.code });
        send.span.end();
      }
      return write(effect);
    }
    if (frame.t !== 'msg') return write(effect);
    const send = this.sends.get(keyOf(frame.conv, frame.cmid));
    if (send === undefined) return write(effect);
    const attributes = {
      'chat.conv': frame.conv,
      'chat.seq': frame.seq,
      'chat.recipients': effect.to.length,
    };
    const fanout = this.tracer.startSpan('chat fanout', { attributes }, send.context);
    const deliverContext = trace.setSpan(send.context, fanout);
    const deliver = this.tracer.startSpan(
      'chat deliver',
      { kind: SpanKind.PRODUCER, attributes },
      deliverContext,
    );
    const carrier: Record<string, string> = {};
    propagator.inject(trace.setSpan(ROOT_CONTEXT, deliver), carrier, setter);
    try {
      write({ ...effect, frame: carrier.traceparent ? { ...frame, tp: carrier.traceparent } : frame });
    } finally {
      deliver.end();
      fanout.end();
    }
  }

  private clientText(text: string): void {
    // Only frames that carry a traceparent are parsed a second time.
    if (!text.includes('"tp"') || !text.includes('"send"')) return;
    let frame: { t?: unknown; tp?: unknown; conv?: unknown; cmid?: unknown };
    try {
      frame = JSON.parse(text);
    } catch {
      return;
    }
    if (
      frame.t !== 'send' ||
      typeof frame.tp !== 'string' ||
      typeof frame.conv !== 'string' ||
      typeof frame.cmid !== 'string'
    )
      return;
    const parent = propagator.extract(ROOT_CONTEXT, { traceparent: frame.tp }, getter);
    const span = this.tracer.startSpan(
      'chat send',
      { kind: SpanKind.SERVER, attributes: { 'chat.conv': frame.conv, 'chat.cmid': frame.cmid } },
      parent,
    );
    this.bounded(this.sends);
    this.sends.set(keyOf(frame.conv, frame.cmid), { span, context: trace.setSpan(parent, span) });
  }

  /** Forgets the oldest entry past the bound (a trace that never got its answer). */
  private bounded<T>(map: Map<unknown, T>): void {
    if (map.size < runtimeLimits.tracedSendsMax) return;
    const oldest = map.keys().next().value;
    map.delete(oldest);
  }
}

function keyOf(conv: string, cmid: string): string {
  return `${conv}\u0000${cmid}`;
}
