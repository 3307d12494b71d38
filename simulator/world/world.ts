// The simulated world: server nodes (the real ChatNode), a shared simulated store and bus, virtual
// clients, and the links between them, all on one virtual clock driven by one event queue. It
// carries out the core's and the clients' effects in virtual time; faults change link, node and
// store state through the methods at the bottom. Everything random comes from seeded streams.

import { ChatNode } from '../../reference-server/core/chat-node.ts';
import type { Effect } from '../../reference-server/core/effects.ts';
import type { HttpRequest, Input } from '../../reference-server/core/inputs.ts';
import type { NodeLimits } from '../../reference-server/core/limits.ts';
import type { ServerFrame } from '../../reference-server/protocol/frames.ts';
import type { ClientEffect } from '../client/virtual-client.ts';
import type { HistoryEvent } from '../history.ts';
import { CalendarQueue } from '../kernel/calendar-queue.ts';
import type { Prng, SeedStreams } from '../kernel/prng.ts';
import { TraceHash } from '../kernel/trace-hash.ts';
import type { SimClient } from './sim-client.ts';
import { SimStore, type SimStoreOptions, type StoreReply } from './sim-store.ts';
import { SimTokens } from './sim-tokens.ts';

export const Ev = {
  nodeInput: 0,
  nodeTick: 1,
  clientConnected: 2,
  clientFrame: 3,
  clientClosed: 4,
  clientTimer: 5,
  storeFlush: 6,
  callback: 8,
  linkDrain: 9,
} as const;

/** One shape for every event keeps the hot loop monomorphic. */
type SimEvent = { k: number; i: number; j: number; n: number; data: unknown; at: number; order: number };

export type NetworkConfig = {
  latencyMs: number;
  jitterMs: number;
  storeLatencyMs: number;
  busLatencyMs: number;
  fsyncMs: number;
  connectTimeoutMs: number;
  storeTimeoutMs: number;
  /** How long a node takes to notice a dead connection (missed pongs). */
  deadDetectMs: number;
};

export type WorldOptions = {
  streams: SeedStreams;
  nodes: number;
  /** 'embedded': the store lives in the node process (one node): a node crash loses unsynced writes. */
  storeMode: 'embedded' | 'shared';
  limits: Partial<NodeLimits>;
  network: NetworkConfig;
  store: Omit<SimStoreOptions, 'record'>;
  record(event: HistoryEvent): void;
  /** Core bug variants, applied to every node. */
  coreBugs?: ReadonlySet<string>;
};

type Conn = {
  id: number;
  client: number;
  node: number;
  epoch: number;
  state: 'connecting' | 'open' | 'closed';
  broken: boolean;
  toNodeAt: number;
  toClientAt: number;
  /** Bytes the node has written that the link has not carried yet (its send buffer). */
  queuedBytes: number;
  /** Frames waiting for a rate-limited link, in order; null when nothing waits. */
  pending: { frame: ServerFrame; bytes: number }[] | null;
  draining: boolean;
};

type NodeHost = {
  core: ChatNode;
  epoch: number;
  up: boolean;
  paused: boolean;
  held: SimEvent[];
  clockOffsetMs: number;
  cutFromClients: boolean;
  cutFromStore: boolean;
};

export class World {
  readonly queue = new CalendarQueue<SimEvent>();
  readonly trace = new TraceHash();
  readonly store: SimStore;
  readonly tokens: SimTokens;
  readonly nodes: NodeHost[] = [];
  readonly clients: SimClient[] = [];
  now = 0;
  events = 0;
  private readonly conns: Conn[] = [];
  private readonly clientConn: number[] = [];
  /** Per client: extra latency (ms), bandwidth (bytes/ms, 0 = unlimited), cut from every node. */
  readonly extraLatencyMs: number[] = [];
  readonly bandwidth: number[] = [];
  readonly clientCut: boolean[] = [];
  private readonly linkRng: Prng[] = [];
  private flushScheduled = false;
  private nextReq = 1;
  private readonly httpWaiters = new Map<number, (status: number, body: unknown) => void>();

  constructor(readonly options: WorldOptions) {
    this.store = new SimStore({ ...options.store, record: options.record });
    this.tokens = new SimTokens(options.streams.stream('tokens').nextU32());
    for (let i = 0; i < options.nodes; i++) {
      this.nodes.push({
        core: this.newCore(i),
        epoch: 0,
        up: true,
        paused: false,
        held: [],
        clockOffsetMs: 0,
        cutFromClients: false,
        cutFromStore: false,
      });
    }
  }

  private newCore(index: number): ChatNode {
    return new ChatNode({
      nodeId: `n${index + 1}`,
      limits: this.options.limits,
      publishes: this.options.nodes > 1,
      ...(this.options.coreBugs ? { bugs: this.options.coreBugs } : {}),
    } as ConstructorParameters<typeof ChatNode>[0]);
  }

  /** Loads every node from the store (after setup wrote the conversations). */
  boot(): void {
    const records = this.store.state.records();
    for (const [index, node] of this.nodes.entries()) {
      node.core.load(records);
      this.nodeEffects(index, node.core.start(this.now));
    }
  }

  addClient(client: SimClient): number {
    const index = this.clients.length;
    this.clients.push(client);
    this.clientConn.push(-1);
    this.extraLatencyMs.push(0);
    this.bandwidth.push(0);
    this.clientCut.push(false);
    this.linkRng.push(this.options.streams.stream('link', index));
    return index;
  }

  // ---- the loop -----------------------------------------------------------------------------

  schedule(at: number, k: number, i: number, j: number, data: unknown, n = 0): void {
    this.queue.push(at, { k, i, j, n, data, at: 0, order: 0 });
  }

  at(at: number, callback: () => void): void {
    this.schedule(at, Ev.callback, 0, 0, callback);
  }

  /** Runs events up to and including time `until`; returns false if the queue ran dry first. */
  runUntil(until: number): boolean {
    const queue = this.queue;
    const trace = this.trace;
    for (;;) {
      const at = queue.peekTime();
      if (at === undefined) {
        this.now = until;
        return false;
      }
      if (at > until) {
        this.now = until;
        return true;
      }
      const event = queue.pop();
      this.now = at;
      this.events++;
      trace.mix(at);
      trace.mix(event.k);
      trace.mix(event.i);
      trace.mix(event.j);
      trace.endEvent();
      this.dispatch(event);
    }
  }

  private dispatch(event: SimEvent): void {
    switch (event.k) {
      case Ev.nodeInput:
      case Ev.nodeTick: {
        const node = this.nodes[event.i]!;
        if (!node.up || node.epoch !== event.j) return;
        if (node.paused) {
          node.held.push(event);
          return;
        }
        const nodeNow = this.now + node.clockOffsetMs;
        const effects =
          event.k === Ev.nodeTick ? node.core.tick(nodeNow) : node.core.handle(event.data as Input, nodeNow);
        this.nodeEffects(event.i, effects);
        return;
      }
      case Ev.clientConnected: {
        const conn = this.conns[event.j]!;
        if (conn.state !== 'connecting' || this.clientConn[event.i] !== event.j) return;
        if (conn.broken) {
          // The handshake never completes across a cut: the client gives up after the connect timeout.
          this.schedule(
            this.now + this.options.network.connectTimeoutMs,
            Ev.clientClosed,
            event.i,
            event.j,
            null,
          );
          return;
        }
        conn.state = 'open';
        this.clientEffects(event.i, this.clients[event.i]!.client.connected(this.now));
        return;
      }
      case Ev.clientFrame: {
        const conn = this.conns[event.j]!;
        if (conn.state !== 'open' || this.clientConn[event.i] !== event.j) return;
        const client = this.clients[event.i]!.client;
        client.heard(this.now);
        this.clientEffects(event.i, client.received(event.data as ServerFrame, this.now));
        return;
      }
      case Ev.clientClosed: {
        if (this.clientConn[event.i] !== event.j) return;
        this.clientConn[event.i] = -1;
        this.conns[event.j]!.state = 'closed';
        this.clientEffects(
          event.i,
          this.clients[event.i]!.client.disconnected(event.data as number | null, this.now),
        );
        return;
      }
      case Ev.clientTimer: {
        const client = this.clients[event.i]!.client;
        if (this.linkHealthy(event.i)) client.heard(this.now);
        const timer = event.data as { kind: string; key?: string };
        this.clientEffects(event.i, client.timer(timer.kind as never, timer.key, this.now));
        return;
      }
      case Ev.storeFlush: {
        this.flushScheduled = false;
        for (const reply of this.store.flush(this.now)) this.storeReply(reply);
        return;
      }
      case Ev.linkDrain:
        this.linkDrain(event.j);
        return;
      default:
        (event.data as () => void)();
    }
  }

  /** Pings flow on an open, unbroken connection to a running node: the client hears the server. */
  private linkHealthy(client: number): boolean {
    const id = this.clientConn[client]!;
    if (id < 0) return false;
    const conn = this.conns[id]!;
    const node = this.nodes[conn.node]!;
    return conn.state === 'open' && !conn.broken && node.up && !node.paused && node.epoch === conn.epoch;
  }

  private latency(client: number): number {
    const { latencyMs, jitterMs } = this.options.network;
    return (
      latencyMs + this.extraLatencyMs[client]! + (jitterMs > 0 ? this.linkRng[client]!.float() * jitterMs : 0)
    );
  }

  // ---- node effects -------------------------------------------------------------------------

  private nodeEffects(index: number, effects: readonly Effect[]): void {
    const node = this.nodes[index]!;
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          for (const id of effect.to) this.toClient(index, id, effect.frame);
          break;
        case 'close':
          this.closeFromNode(effect.conn, effect.code);
          break;
        case 'verify': {
          const verdict = this.tokens.verify(effect.token, this.now + node.clockOffsetMs);
          const input: Input =
            verdict.reason === undefined
              ? { type: 'verified', conn: effect.conn, claims: verdict.claims }
              : { type: 'verified', conn: effect.conn, claims: verdict.claims, reason: verdict.reason };
          this.schedule(this.now, Ev.nodeInput, index, node.epoch, input);
          break;
        }
        case 'store':
          this.toStore(index, effect.id, effect.op);
          break;
        case 'publish':
          for (let other = 0; other < this.nodes.length; other++) {
            if (other === index || !this.nodes[other]!.up) continue;
            this.schedule(
              this.now + this.options.network.busLatencyMs,
              Ev.nodeInput,
              other,
              this.nodes[other]!.epoch,
              {
                type: 'bus',
                event: effect.event,
              },
            );
          }
          break;
        case 'reply': {
          const waiter = this.httpWaiters.get(effect.req);
          this.httpWaiters.delete(effect.req);
          waiter?.(effect.status, effect.body);
          break;
        }
        case 'wake':
          this.schedule(
            Math.max(this.now, effect.at - node.clockOffsetMs),
            Ev.nodeTick,
            index,
            node.epoch,
            null,
          );
          break;
        case 'drained':
          break;
      }
    }
  }

  private toClient(nodeIndex: number, connId: number, frame: ServerFrame): void {
    const conn = this.conns[connId];
    if (conn === undefined || conn.state === 'closed' || conn.broken || conn.node !== nodeIndex) return;
    const bandwidth = this.bandwidth[conn.client]!;
    if (bandwidth === 0 && conn.pending === null) {
      const at = Math.max(this.now + this.latency(conn.client), conn.toClientAt);
      conn.toClientAt = at;
      this.schedule(at, Ev.clientFrame, conn.client, connId, frame);
      return;
    }
    // A rate-limited link (or one still draining what it queued while limited): frames wait in order
    // and leave one transmission time apart at the link's rate at that moment, so a healed link
    // drains its backlog at full speed.
    const bytes = frameBytes(frame);
    conn.pending ??= [];
    conn.pending.push({ frame, bytes });
    conn.queuedBytes += bytes;
    if (!conn.draining) {
      conn.draining = true;
      this.schedule(
        this.now + (bandwidth > 0 ? bytes / bandwidth : 0),
        Ev.linkDrain,
        conn.client,
        connId,
        null,
      );
    }
    const node = this.nodes[nodeIndex]!;
    this.schedule(this.now, Ev.nodeInput, nodeIndex, node.epoch, {
      type: 'backpressure',
      conn: connId,
      bufferedBytes: conn.queuedBytes,
    });
  }

  /** The head of a rate-limited link's queue has been transmitted: it travels on, the next starts. */
  private linkDrain(connId: number): void {
    const conn = this.conns[connId]!;
    const head = conn.pending?.shift();
    if (head === undefined || conn.state === 'closed' || conn.broken) {
      conn.pending = null;
      conn.draining = false;
      conn.queuedBytes = 0;
      return;
    }
    conn.queuedBytes -= head.bytes;
    const at = Math.max(this.now + this.latency(conn.client), conn.toClientAt);
    conn.toClientAt = at;
    this.schedule(at, Ev.clientFrame, conn.client, connId, head.frame);
    const next = conn.pending![0];
    if (next === undefined) {
      conn.pending = null;
      conn.draining = false;
      return;
    }
    const bandwidth = this.bandwidth[conn.client]!;
    this.schedule(
      this.now + (bandwidth > 0 ? next.bytes / bandwidth : 0),
      Ev.linkDrain,
      conn.client,
      connId,
      null,
    );
  }

  private closeFromNode(connId: number, code: number): void {
    const conn = this.conns[connId];
    if (conn === undefined || conn.state === 'closed') return;
    const node = this.nodes[conn.node]!;
    const at = Math.max(this.now + this.latency(conn.client), conn.toClientAt);
    if (!conn.broken) this.schedule(at, Ev.clientClosed, conn.client, connId, code);
    // The close handshake completes (or the node destroys the socket) and the node forgets it.
    this.schedule(at + this.options.network.latencyMs, Ev.nodeInput, conn.node, node.epoch, {
      type: 'gone',
      conn: connId,
    });
  }

  private toStore(nodeIndex: number, id: number, op: Parameters<SimStore['submit']>[3]): void {
    const node = this.nodes[nodeIndex]!;
    const { storeLatencyMs, storeTimeoutMs, fsyncMs } = this.options.network;
    if (node.cutFromStore) {
      const input: Input = { type: 'stored', id, outcome: { status: 'unavailable' } };
      this.schedule(this.now + storeTimeoutMs, Ev.nodeInput, nodeIndex, node.epoch, input);
      return;
    }
    // The request's trip to the store is folded into the reply's: one event per operation, not three.
    const immediate = this.store.submit(nodeIndex, node.epoch, id, op);
    if (immediate) this.storeReply(immediate);
    else if (!this.flushScheduled) {
      this.flushScheduled = true;
      this.schedule(this.now + storeLatencyMs + fsyncMs, Ev.storeFlush, 0, 0, null);
    }
  }

  private storeReply(reply: StoreReply): void {
    const input: Input = { type: 'stored', id: reply.id, outcome: reply.outcome };
    this.schedule(
      this.now + 2 * this.options.network.storeLatencyMs,
      Ev.nodeInput,
      reply.node,
      reply.epoch,
      input,
    );
  }

  // ---- client effects -----------------------------------------------------------------------

  clientEffects(index: number, effects: readonly ClientEffect[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'connect':
          this.connect(index);
          break;
        case 'frame': {
          const id = this.clientConn[index]!;
          const conn = id >= 0 ? this.conns[id]! : undefined;
          if (conn === undefined || conn.state !== 'open' || conn.broken) break;
          const at = Math.max(this.now + this.latency(index), conn.toNodeAt);
          conn.toNodeAt = at;
          this.schedule(at, Ev.nodeInput, conn.node, conn.epoch, {
            type: 'frame',
            conn: id,
            value: effect.frame,
          });
          break;
        }
        case 'close': {
          const id = this.clientConn[index]!;
          if (id < 0) break;
          const conn = this.conns[id]!;
          this.clientConn[index] = -1;
          conn.state = 'closed';
          if (!conn.broken)
            this.schedule(
              Math.max(this.now + this.latency(index), conn.toNodeAt),
              Ev.nodeInput,
              conn.node,
              conn.epoch,
              {
                type: 'gone',
                conn: id,
              },
            );
          break;
        }
        case 'timer':
          this.schedule(Math.max(this.now, effect.at), Ev.clientTimer, index, 0, effect);
          break;
      }
    }
  }

  /** A load balancer: the client's home node, or the next one up. */
  private pickNode(client: number): number {
    const count = this.nodes.length;
    const home = this.clients[client]!.home % count;
    for (let k = 0; k < count; k++) {
      const index = (home + k) % count;
      if (this.nodes[index]!.up) return index;
    }
    return home;
  }

  private connect(client: number): void {
    const old = this.clientConn[client]!;
    if (old >= 0) this.conns[old]!.state = 'closed';
    const nodeIndex = this.pickNode(client);
    const node = this.nodes[nodeIndex]!;
    const id = this.conns.length;
    const conn: Conn = {
      id,
      client,
      node: nodeIndex,
      epoch: node.epoch,
      state: 'connecting',
      broken: false,
      toNodeAt: 0,
      toClientAt: 0,
      queuedBytes: 0,
      pending: null,
      draining: false,
    };
    this.conns.push(conn);
    this.clientConn[client] = id;
    if (!node.up || node.cutFromClients || this.clientCut[client]) {
      // Refused (node down) at once; unreachable (cut) after the connect timeout.
      const delay = node.up ? this.options.network.connectTimeoutMs : 2 * this.latency(client);
      this.schedule(this.now + delay, Ev.clientClosed, client, id, null);
      return;
    }
    const oneWay = this.latency(client);
    conn.toNodeAt = this.now + oneWay;
    this.schedule(this.now + oneWay, Ev.nodeInput, nodeIndex, node.epoch, { type: 'open', conn: id });
    this.schedule(this.now + 2 * oneWay, Ev.clientConnected, client, id, null);
  }

  // ---- HTTP (admin operations during a run) -------------------------------------------------

  http(nodeIndex: number, request: HttpRequest, then: (status: number, body: unknown) => void): void {
    const node = this.nodes[nodeIndex]!;
    const req = this.nextReq++;
    this.httpWaiters.set(req, then);
    this.schedule(this.now, Ev.nodeInput, nodeIndex, node.epoch, { type: 'http', req, request });
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Breaks every open connection matching `match`: frames are lost; the node notices after deadDetectMs. */
  breakConnections(match: (conn: { client: number; node: number }) => boolean): void {
    for (const id of this.clientConn) {
      if (id < 0) continue;
      const conn = this.conns[id]!;
      if (conn.state === 'closed' || conn.broken || !match(conn)) continue;
      conn.broken = true;
      const node = this.nodes[conn.node]!;
      this.schedule(this.now + this.options.network.deadDetectMs, Ev.nodeInput, conn.node, node.epoch, {
        type: 'gone',
        conn: id,
      });
    }
  }

  /** Resets matching connections: both sides learn at once (reset_peer, reconnect storms). */
  resetConnections(match: (conn: { client: number; node: number }) => boolean): void {
    for (const id of [...this.clientConn]) {
      if (id < 0) continue;
      const conn = this.conns[id]!;
      if (conn.state === 'closed' || !match(conn)) continue;
      const node = this.nodes[conn.node]!;
      conn.broken = true;
      this.schedule(this.now + this.options.network.latencyMs, Ev.clientClosed, conn.client, id, null);
      this.schedule(this.now + this.options.network.latencyMs, Ev.nodeInput, conn.node, node.epoch, {
        type: 'gone',
        conn: id,
      });
    }
  }

  crashNode(index: number): void {
    const node = this.nodes[index]!;
    if (!node.up) return;
    node.up = false;
    node.paused = false;
    node.held = [];
    node.epoch++;
    for (const id of this.clientConn) {
      if (id < 0) continue;
      const conn = this.conns[id]!;
      if (conn.node !== index || conn.state === 'closed') continue;
      conn.broken = true;
      // The kernel resets the dead process's sockets: clients learn quickly.
      this.schedule(this.now + this.latency(conn.client), Ev.clientClosed, conn.client, id, null);
    }
    if (this.options.storeMode === 'embedded') this.store.dropQueued((owner) => owner === index);
  }

  restartNode(index: number): void {
    const node = this.nodes[index]!;
    if (node.up) return;
    node.core = this.newCore(index);
    node.core.load(this.store.state.records());
    node.up = true;
    this.nodeEffects(index, node.core.start(this.now));
  }

  pauseNode(index: number): void {
    this.nodes[index]!.paused = true;
  }

  resumeNode(index: number): void {
    const node = this.nodes[index]!;
    node.paused = false;
    const held = node.held;
    node.held = [];
    for (const event of held) this.schedule(this.now, event.k, event.i, event.j, event.data, event.n);
  }

  setStoreOutage(on: boolean): void {
    this.store.outage = on;
    if (on) for (const reply of this.store.dropQueued(() => true)) this.storeReply(reply);
  }

  connectionOf(client: number): number {
    return this.clientConn[client]!;
  }

  isConnected(client: number): boolean {
    return this.linkHealthy(client);
  }
}

/** A cheap estimate of a frame's JSON size, for bandwidth and send-buffer accounting. */
export function frameBytes(frame: ServerFrame): number {
  switch (frame.t) {
    case 'msg':
      return 80 + frame.body.length + frame.cmid.length + frame.conv.length + frame.from.length;
    case 'batch': {
      let bytes = 60;
      for (const m of frame.msgs) bytes += 70 + m.body.length + m.cmid.length + m.conv.length + m.from.length;
      return bytes;
    }
    case 'welcome':
      return 100 + frame.convs.length * 60;
    default:
      return 80;
  }
}
