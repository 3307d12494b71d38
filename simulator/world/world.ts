// The simulated world, assembled the way TigerBeetle's testing cluster is: virtual time (the agenda),
// the network (connections, links and their faults), the nodes (the real ChatNode, with crash, pause
// and clock faults), the storage, the bus and the fleet's liveness set (a node silent for the presence
// TTL is taken for dead, as Redis heartbeats do live). This file only wires them and routes each event and
// effect to the part that owns it; faults act through the parts' own methods
// (`world.network.partition(...)`, `world.nodes[i].crash()`, `world.storage.setOutage(...)`).

import type { ChatNode, ChatNodeOptions } from '../../reference-server/core/chat-node.ts';
import type { Effect } from '../../reference-server/core/effects.ts';
import type { HttpRequest, Input } from '../../reference-server/core/inputs.ts';
import type { NodeLimits } from '../../reference-server/core/limits.ts';
import { createChatNode } from '../../reference-server/known-bugs/buggy-chat-node.ts';
import type { ServerFrame } from '../../reference-server/protocol/frames.ts';
import type { LogStore, LogStoreOptions } from '../../reference-server/store/log-store.ts';
import type { ConversationRecord, MessageStore } from '../../reference-server/store/message-store.ts';
import { redisLimits } from '../../reference-server/store/redis-limits.ts';
import type { StoreStateView } from '../../reference-server/store/store-state.ts';
import type { ClientEffect, ClientTimerKind, VirtualClient } from '../client/virtual-client.ts';
import type { HistoryEvent } from '../history.ts';
import type { SeedStreams } from '../kernel/prng.ts';
import type { TraceHash } from '../kernel/trace-hash.ts';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';
import { Bus } from './bus.ts';
import type { CostModel } from './cost-model.ts';
import { HostCpu } from './host-cpu.ts';
import { Liveness, nodeId } from './liveness.ts';
import { LogStorage } from './log-storage.ts';
import { MemoryStorage } from './memory-storage.ts';
import { ModelStorage } from './model-storage.ts';
import { Network, type NetworkConfig } from './network.ts';
import type { SimClient } from './sim-client.ts';
import { SimDisk } from './sim-disk.ts';
import { SimNode } from './sim-node.ts';
import { SimStore, type SimStoreOptions } from './sim-store.ts';
import { SimTokens } from './sim-tokens.ts';
import type { StorageService } from './storage.ts';

export { frameBytes, type NetworkConfig } from './network.ts';

/** Latency of a simulated disk read, write or metadata operation (an fsync takes the scenario's fsyncMs). */
const diskIoMs = 0.02;

export type WorldOptions = {
  streams: SeedStreams;
  nodes: number;
  /** 'embedded': the store lives in the node process (one node): a node crash loses unsynced writes. */
  storeMode: 'embedded' | 'shared';
  /** The bus is Redis pub/sub beside the store: cut with it, and lossy while cut (see bus.ts). */
  busLossOnDisconnect?: boolean;
  limits: Partial<NodeLimits>;
  network: NetworkConfig;
  /**
   * 'log': the real log store on a simulated disk; 'model': the model store (scale runs); 'memory': the
   * real memory store in the node's process (`serve --store memory`).
   */
  storeEngine: 'log' | 'model' | 'memory';
  /** The model store's options (its known-bug variants). */
  store: Omit<SimStoreOptions, 'record'>;
  /** The real log's options per incarnation (limits, known-bug policies) and bug wrappers. */
  log?: {
    storeOptions: Omit<LogStoreOptions, 'dir' | 'fs'>;
    wrap?: (store: MessageStore) => MessageStore;
    newStore?: (options: LogStoreOptions) => LogStore;
  };
  record(event: HistoryEvent): void;
  /** Core bug variants, applied to every node. */
  coreBugs?: ReadonlySet<string>;
  /** Builds each node's core in place of the shipped one (tests that run a deliberately broken core). */
  newCore?: (options: ChatNodeOptions) => ChatNode;
  /** Each node step costs service time from this model, so nodes queue (sim-node.ts); none: steps are free. */
  costModel?: CostModel;
  /** Watches nodes and links without acting on them (simulated tracing); absent, nothing is called. */
  tap?: WorldTap;
  /** A fleet node silent this long is taken for dead (`serve --redis-presence-ttl-ms`; default Redis's). */
  presenceTtlMs?: number;
  /**
   * Whether a device's frames reach its node as WebSocket text (the core parses and validates them, as
   * live) rather than as decoded values (`clients.textFraction`); absent, none does.
   */
  speaksText?: (device: string) => boolean;
};

/**
 * protocol.md's default bound on a connection's unsent data ("4 MiB of unsent data per connection"),
 * the harness's own figure rather than the server's `defaultLimits`: a server whose default differs
 * (mutant 1913 of the 3c0f288 sample, seed 3: 4 bytes) then closes 4509 where the harness saw no
 * queue past the bound, and server-frames says so.
 */
export const protocolSendBufferBytesDefault = 4 * 1024 * 1024;

/** What a tap sees, in virtual time (`world.now`): it must not act on the world, draw or schedule. */
export type WorldTap = {
  /** A node's core is about to handle an input. */
  nodeInput(node: number, input: Input): void;
  /** A node's core asked for these effects; the world carries them out next. */
  nodeEffects(node: number, effects: readonly Effect[]): void;
  /** A frame reached a client over an open connection. */
  frameArrived(client: number, frame: ServerFrame): void;
};

export class World {
  readonly agenda: Agenda;
  readonly network: Network;
  readonly nodes: SimNode[] = [];
  readonly storage: StorageService;
  /** The simulated disk under the real log (null on the model store). */
  readonly disk: SimDisk | null = null;
  readonly bus: Bus;
  /** Which nodes the fleet takes for alive (Redis heartbeats live): a silent node's presence is forgotten. */
  readonly liveness: Liveness;
  readonly tokens: SimTokens;
  readonly clients: SimClient[] = [];
  /**
   * Each client's state machine by index, beside `clients`: a client event reads it with one hop instead
   * of two (the SimClient record, then its machine), one cache miss fewer per event at a million clients.
   */
  private readonly machines: VirtualClient[] = [];
  private nextHttpRequest = 1;
  private readonly httpWaiters = new Map<number, (status: number, body: unknown) => void>();

  constructor(readonly options: WorldOptions) {
    this.agenda = new Agenda((event) => this.dispatch(event));
    this.network = new Network(this.agenda, this.nodes, options.network, options.nodes);
    // The nodes' send buffers as the network holds them, against the bound the nodes apply (the
    // scenario's, else protocol.md's default): the harness's view of when a node owes a 4509 close.
    this.network.watchSendBuffers(
      options.limits.sendBufferBytesMax ?? protocolSendBufferBytesDefault,
      (client, state, bytes, code) => {
        const { user, device } = this.clients[client]!;
        options.record({
          k: 'send-buffer',
          at: this.agenda.now,
          state,
          bytes,
          ...(code === undefined ? {} : { code }),
          user,
          device,
        });
      },
    );
    if (options.storeEngine === 'log') {
      this.disk = new SimDisk({
        clock: this.agenda,
        rng: options.streams.stream('disk'),
        fsyncMs: options.network.fsyncMs,
        ioMs: diskIoMs,
      });
      this.storage = new LogStorage({
        agenda: this.agenda,
        network: this.network,
        config: options.network,
        mode: options.storeMode,
        disk: this.disk,
        record: options.record,
        storeOptions: options.log?.storeOptions ?? {},
        ...(options.log?.wrap ? { wrap: options.log.wrap } : {}),
        ...(options.log?.newStore ? { newStore: options.log.newStore } : {}),
        readMessagesMax: options.store.readMessagesMax,
      });
    } else if (options.storeEngine === 'memory') {
      this.storage = new MemoryStorage({
        agenda: this.agenda,
        network: this.network,
        config: options.network,
        record: options.record,
        readMessagesMax: options.store.readMessagesMax,
        // The known-bug wrappers fit any MessageStore, the memory store as the log.
        ...(options.log?.wrap ? { wrap: options.log.wrap } : {}),
      });
    } else {
      const store = new SimStore({ ...options.store, record: options.record });
      this.storage = new ModelStorage(store, this.agenda, this.network, options.network, options.storeMode);
    }
    this.bus = new Bus(
      this.agenda,
      this.nodes,
      options.network.busLatencyMs,
      options.busLossOnDisconnect ?? false,
      this.network,
    );
    this.liveness = new Liveness(
      this.agenda,
      this.nodes,
      options.presenceTtlMs ?? redisLimits.presenceTtlMsDefault,
    );
    this.tokens = new SimTokens(options.streams.stream('tokens').nextU32());
    const costModel = options.costModel ?? null;
    const host = {
      agenda: this.agenda,
      costModel,
      hostCpu: costModel?.host ? new HostCpu(costModel.host, costModel, options.nodes) : null,
      newCore: (index: number) => this.newCore(index),
      carryOut: (index: number, effects: readonly Effect[]) => this.nodeEffects(index, effects),
      ...(options.tap ? { handling: options.tap.nodeInput.bind(options.tap) } : {}),
      crashed: (index: number) => {
        this.network.nodeCrashed(index);
        this.storage.nodeCrashed(index);
        this.bus.processDown(index);
        this.liveness.stopped(index);
      },
      stopped: (index: number) => {
        // Sockets a drain left open (it ran out of time) are closed with the process.
        this.network.nodeCrashed(index);
        this.storage.nodeStopped(index);
        this.bus.processDown(index);
        this.liveness.stopped(index);
      },
      frozen: (index: number, frozen: boolean) =>
        frozen ? this.liveness.stopped(index) : this.liveness.beating(index),
      starting: (
        index: number,
        ready: (records: readonly ConversationRecord[]) => void,
        abandoned: () => boolean,
      ) => this.storage.nodeStarting(index, ready, abandoned),
      booted: (index: number) => {
        this.bus.nodeStarted(index);
        this.liveness.beating(index);
      },
    };
    for (let index = 0; index < options.nodes; index++) this.nodes.push(new SimNode(index, host));
  }

  /** The store's decisions so far (the harness's view for settling; checkers get the final read). */
  get decisions(): StoreStateView {
    return this.storage.decisions;
  }

  get now(): number {
    return this.agenda.now;
  }

  get events(): number {
    return this.agenda.events;
  }

  get trace(): TraceHash {
    return this.agenda.trace;
  }

  private newCore(index: number): ChatNode {
    const options = { nodeId: nodeId(index), limits: this.options.limits, publishes: this.options.nodes > 1 };
    return this.options.newCore?.(options) ?? createChatNode(options, this.options.coreBugs);
  }

  /** Opens the store with the setup's conversations and boots every node from it. */
  /** Opens the store (`provisioned`: what the operator does to it before the nodes start), then the nodes. */
  async boot(provisioned?: () => Promise<void>): Promise<void> {
    await this.storage.open();
    await provisioned?.();
    const records = this.storage.decisions.records();
    for (const node of this.nodes) node.boot(this.now, records);
  }

  addClient(client: SimClient): number {
    const index = this.clients.length;
    this.clients.push(client);
    this.machines.push(client.client);
    this.network.addClient(
      client.home,
      this.options.streams.stream('link', index),
      client.pinned,
      this.options.speaksText?.(client.device) ?? false,
    );
    return index;
  }

  /**
   * The run is over and its final snapshot taken (run-scenario.ts): drops what only running it needed,
   * the clients, the nodes' cores and the events still pending, so the checkers' final judging does not
   * stack on a whole world (at a million clients the run's peak memory was set there). What a summary
   * reads stays: the trace, the clock and event count, the bus's counters, the storage, each node's
   * load figures. Nothing may run after it.
   */
  release(): void {
    this.clients.length = 0;
    this.machines.length = 0;
    this.agenda.release();
    for (const node of this.nodes) node.core = this.newCore(node.index);
  }

  at(at: number, callback: () => void): void {
    this.agenda.at(at, callback);
  }

  /** Runs events up to and including time `until`; resolves false if the queue ran dry first. */
  runUntil(until: number): Promise<boolean> {
    return this.agenda.runUntil(until);
  }

  connectionOf(client: number): number {
    return this.network.connectionOf(client);
  }

  /** The client at the far end of a connection id (as the nodes' `conn`). */
  clientOfConnection(connection: number): SimClient | undefined {
    const index = this.network.clientOf(connection);
    return index === undefined ? undefined : this.clients[index];
  }

  isConnected(client: number): boolean {
    return this.network.isConnected(client);
  }

  // ---- routing events -----------------------------------------------------------------------

  private dispatch(event: SimEvent): void {
    const now = this.agenda.now;
    switch (event.kind) {
      case EventKind.nodeInput:
      case EventKind.nodeTick:
        this.nodes[event.target]!.run(event, now);
        return;
      case EventKind.clientConnected:
        if (this.network.handshakeArrived(event.target, event.instance))
          this.clientEffects(event.target, this.machines[event.target]!.connected(now));
        return;
      case EventKind.clientFrame: {
        if (!this.network.frameArrived(event.target, event.instance)) return;
        this.options.tap?.frameArrived(event.target, event.data as ServerFrame);
        const client = this.machines[event.target]!;
        client.heard(now);
        this.clientEffects(event.target, client.received(event.data as ServerFrame, now));
        return;
      }
      case EventKind.clientClosed:
        if (this.network.closeArrived(event.target, event.instance))
          this.clientEffects(
            event.target,
            this.machines[event.target]!.disconnected(event.data as number | null, now),
          );
        return;
      case EventKind.clientTimer: {
        const client = this.machines[event.target]!;
        if (this.network.isConnected(event.target)) client.heard(now);
        // See clientEffects: the kind alone, or the whole effect when the timer has a key.
        const timer = event.data as ClientTimerKind | { kind: ClientTimerKind; key?: string };
        this.clientEffects(
          event.target,
          typeof timer === 'string'
            ? client.timer(timer, undefined, now)
            : client.timer(timer.kind, timer.key, now),
        );
        return;
      }
      case EventKind.storeFlush:
        this.storage.flushed();
        return;
      case EventKind.linkDrain:
        this.network.linkDrained(event.instance);
        return;
      default:
        (event.data as () => void)();
    }
  }

  // ---- carrying out effects -----------------------------------------------------------------

  private nodeEffects(index: number, effects: readonly Effect[]): void {
    const node = this.nodes[index]!;
    this.options.tap?.nodeEffects(index, effects);
    // Indexed loops: a for-of here allocated an iterator result per effect on the hottest path.
    for (let e = 0; e < effects.length; e++) {
      const effect = effects[e]!;
      switch (effect.type) {
        case 'send':
          for (let i = 0; i < effect.to.length; i++)
            this.network.sendToClient(index, effect.to[i]!, effect.frame);
          break;
        case 'close':
          this.network.closeFromNode(effect.conn, effect.code);
          break;
        case 'verify': {
          const verdict = this.tokens.verify(effect.token, node.clock(this.now));
          const input: Input =
            verdict.reason === undefined
              ? { type: 'verified', conn: effect.conn, claims: verdict.claims }
              : { type: 'verified', conn: effect.conn, claims: verdict.claims, reason: verdict.reason };
          // Live, the check is asynchronous: a frame or a close may come before its answer (verifyMs).
          this.agenda.schedule(
            this.now + (this.options.network.verifyMs ?? 0),
            EventKind.nodeInput,
            index,
            node.epoch,
            input,
          );
          break;
        }
        case 'store':
          this.storage.submit(index, node.epoch, effect.id, effect.op);
          break;
        case 'publish':
          this.bus.publish(index, effect.event);
          break;
        case 'reply': {
          const waiter = this.httpWaiters.get(effect.req);
          this.httpWaiters.delete(effect.req);
          waiter?.(effect.status, effect.body);
          break;
        }
        case 'wake':
          this.agenda.schedule(
            Math.max(this.now, effect.at - node.clockOffsetMs),
            EventKind.nodeTick,
            index,
            node.epoch,
            null,
          );
          break;
        case 'drained':
          node.drained();
          break;
      }
    }
  }

  clientEffects(index: number, effects: readonly ClientEffect[]): void {
    for (let e = 0; e < effects.length; e++) {
      const effect = effects[e]!;
      switch (effect.type) {
        case 'connect':
          this.network.connect(index);
          break;
        case 'frame':
          this.network.sendToNode(index, effect.frame);
          break;
        case 'text':
          this.network.sendTextToNode(index, effect.text);
          break;
        case 'binary':
          this.network.sendBinaryToNode(index);
          break;
        case 'close':
          this.network.closeFromClient(index);
          break;
        case 'timer':
          // A timer waits seconds (an idle check, a resend): holding only its kind (a constant string)
          // lets the effect object die young instead of being promoted, a million at a time.
          this.agenda.schedule(
            Math.max(this.now, effect.at),
            EventKind.clientTimer,
            index,
            0,
            effect.key === undefined ? effect.kind : effect,
          );
          break;
      }
    }
  }

  // ---- HTTP (admin operations during a run) -------------------------------------------------

  http(nodeIndex: number, request: HttpRequest, then: (status: number, body: unknown) => void): void {
    const node = this.nodes[nodeIndex]!;
    const req = this.nextHttpRequest++;
    this.httpWaiters.set(req, then);
    this.agenda.schedule(this.now, EventKind.nodeInput, nodeIndex, node.epoch, {
      type: 'http',
      req,
      request,
    });
  }
}
