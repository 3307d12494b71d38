// A hand-driven harness for one VirtualClient in tests: it carries out the client's effects the way
// a world would (frames collected, timers fired in time order, connects counted) but leaves every
// server frame and every transport event to the test, so each step of the protocol is explicit.

import type { ClientFrame, ConvSummary, ServerFrame } from '../../reference-server/protocol/frames.ts';
import type { HistoryEvent } from '../history.ts';
import type { ClientEffect, ClientTimerKind } from './client-effect.ts';
import type { ClientConfig } from './limits.ts';
import { VirtualClient, type VirtualClientOptions } from './virtual-client.ts';

type PendingTimer = { at: number; order: number; kind: ClientTimerKind; key: string | undefined };

/** A fixed, repeatable stand-in for a seeded stream. */
export function sequenceRng(values: readonly number[]): () => number {
  let i = 0;
  return () => values[i++ % values.length]!;
}

export class ClientDriver {
  readonly client: VirtualClient;
  readonly events: HistoryEvent[] = [];
  /** Frames sent since the last `take()`. */
  sent: ClientFrame[] = [];
  /** Raw text the client sent (an adversary's malformed frames), in order. */
  texts: string[] = [];
  /** Binary frames the client sent (an adversary's), in order. */
  binaries: Uint8Array[] = [];
  connects = 0;
  closes = 0;
  now = 0;
  private timers: PendingTimer[] = [];
  private order = 0;

  constructor(
    config: Partial<ClientConfig> = {},
    options: Partial<VirtualClientOptions> = {},
    make: (options: VirtualClientOptions) => VirtualClient = (options) => new VirtualClient(options),
  ) {
    this.client = make({
      user: 'u1',
      device: 'd1',
      rng: sequenceRng([0.5]),
      token: (now) => `token-at-${now}`,
      record: (event) => this.events.push(event),
      config,
      ...options,
    });
  }

  apply(effects: readonly ClientEffect[]): void {
    for (const effect of effects) {
      if (effect.type === 'frame') this.sent.push(effect.frame);
      else if (effect.type === 'text') this.texts.push(effect.text);
      else if (effect.type === 'binary') this.binaries.push(effect.bytes);
      else if (effect.type === 'connect') this.connects++;
      else if (effect.type === 'close') this.closes++;
      else this.timers.push({ at: effect.at, order: this.order++, kind: effect.kind, key: effect.key });
    }
  }

  start(): void {
    this.apply(this.client.start(this.now));
  }

  /** Transport open, then the server's welcome for `convs` (announcing `heartbeatMs`). */
  open(convs: ConvSummary[] = [], node = 'n1', heartbeatMs = 10_000): void {
    if (this.client.connectionState === 'new') this.start();
    this.apply(this.client.connected(this.now));
    this.receive({
      t: 'welcome',
      user: this.client.user,
      conn: `${node}:1`,
      node,
      heartbeatMs,
      convs,
    });
  }

  receive(frame: ServerFrame): void {
    this.apply(this.client.received(frame, this.now));
  }

  disconnect(code: number | null = null): void {
    this.apply(this.client.disconnected(code, this.now));
  }

  /** Moves time forward by `ms`, firing due timers in (time, issue) order. */
  advance(ms: number): void {
    const until = this.now + ms;
    for (;;) {
      let next: PendingTimer | undefined;
      for (const timer of this.timers)
        if (
          timer.at <= until &&
          (next === undefined || timer.at < next.at || (timer.at === next.at && timer.order < next.order))
        )
          next = timer;
      if (next === undefined) break;
      this.timers.splice(this.timers.indexOf(next), 1);
      this.now = Math.max(this.now, next.at);
      this.apply(this.client.timer(next.kind, next.key, this.now));
    }
    this.now = until;
  }

  /** Returns the frames sent since the last call, and forgets them. */
  take(): ClientFrame[] {
    const sent = this.sent;
    this.sent = [];
    return sent;
  }

  pendingTimers(kind?: ClientTimerKind): number[] {
    return this.timers.filter((t) => kind === undefined || t.kind === kind).map((t) => t.at);
  }

  history<K extends HistoryEvent['k']>(k: K): Extract<HistoryEvent, { k: K }>[] {
    return this.events.filter((e): e is Extract<HistoryEvent, { k: K }> => e.k === k);
  }

  /** Seqs displayed in `conv`, in display order. */
  displayed(conv: string): number[] {
    return this.history('display')
      .filter((e) => e.message.conv === conv)
      .map((e) => e.message.seq);
  }
}

export function summary(conv: string, lastSeq: number, delivered = 0, read = 0): ConvSummary {
  return { conv, lastSeq, delivered, read };
}

export function message(conv: string, seq: number, from = 'u2') {
  return { conv, seq, from, cmid: `${from}-c${seq}`, body: `body ${seq}`, ts: 1000 + seq };
}
