// The simulated network (TigerBeetle's packet simulator, for WebSocket connections): it owns every
// connection between a client and a node, each client's link (latency with seeded jitter, bandwidth,
// a cut), the nodes' links to clients and to the store, and the faults on them. Faults act only
// through the methods at the bottom. Frames on one connection arrive in order; a broken connection
// loses frames silently and each end finds out by its own timeout.

import { CloseCode } from '../../reference-server/protocol/codes.ts';
import type { ClientFrame, ServerFrame } from '../../reference-server/protocol/frames.ts';
import { encodeClientFrame } from '../client/wire.ts';
import type { Prng } from '../kernel/prng.ts';
import { PrngTable, prngStateWords } from '../kernel/prng-table.ts';
import { type Agenda, EventKind } from './agenda.ts';
import { ConnectionState, ConnectionTable } from './connection-table.ts';
import { pickNode } from './load-balancer.ts';
import type { SimNode } from './sim-node.ts';

export type NetworkConfig = {
  latencyMs: number;
  jitterMs: number;
  storeLatencyMs: number;
  busLatencyMs: number;
  fsyncMs: number;
  /** How long a node's token check takes to answer its `verify` (0: at once). */
  verifyMs?: number;
  connectTimeoutMs: number;
  storeTimeoutMs: number;
  /** How long a node takes to notice a dead connection (missed pongs). */
  deadDetectMs: number;
};

/**
 * Hears that the bytes queued toward `client` on its connection passed the nodes' send-buffer bound
 * (`over`), fell back to it (`under`), or that the connection ended while over: closed by its node
 * with `code` (`closed`), or otherwise (`ended`).
 */
export type SendBufferReport = (
  client: number,
  state: 'over' | 'under' | 'closed' | 'ended',
  bytes: number,
  code?: number,
) => void;

/** Which connections a fault touches, by their two ends. */
type ConnectionMatch = (client: number, node: number) => boolean;

/**
 * A client's link is a row of 32-bit words: its jitter stream's state, then its current connection id
 * (-1: none), its home node and its flags. A frame sent reads the jitter, the connection and whether a
 * fault touches the link; in one row they cost one cache line, where five columns cost five.
 */
const linkRowWords = prngStateWords + 4;
const connectionWord = prngStateWords;
const homeWord = prngStateWords + 1;
const flagsWord = prngStateWords + 2;
/** The client dials only its home node. */
const pinnedFlag = 1;
/** Cut from every node (a partition). */
const cutFlag = 2;
/** Extra latency or jitter, or a bandwidth limit, is set on the link: read them (else all three are 0). */
const impairedFlag = 4;
/**
 * The client's frames reach the node as WebSocket text, encoded by the client's wire (as a live
 * client's do, and as ws-transport feeds them: a `text` input the core parses and validates); without
 * it, as the decoded value (a `frame` input, validated alike: the simulator skips the JSON).
 */
const textFlag = 8;
/**
 * A steady link: no jitter, so every frame on it takes exactly `latencyMs` (while no fault impairs it).
 * The harness then knows when the node got each frame the client sent (the fast typists' links).
 */
const steadyFlag = 16;

export class Network {
  private readonly connections = new ConnectionTable();
  /** Per client (by index: clients are added in order), its link's row (see linkRowWords). */
  private readonly links = new PrngTable(linkRowWords);
  private clientCount = 0;
  /**
   * Per client link, read only when its row says `impairedFlag`: extra one-way latency (ms), a latency
   * fault's jitter (ms: each frame's extra delay varies by ±jitter, Toxiproxy's), bandwidth (bytes/ms, 0 = unlimited).
   */
  private readonly extraLatencyMs: number[] = [];
  private readonly extraJitterMs: number[] = [];
  private readonly bytesPerMs: number[] = [];
  /**
   * Per client whose connection ended while cut (rare: a Map, not a column): when it last did. The node
   * was not told; it holds that connection until missed heartbeats end it.
   */
  private readonly lostCloses = new Map<number, number>();
  /** Per node: cut from every client; cut from the store. */
  private readonly nodeCutFromClients: boolean[];
  private readonly nodeCutFromStore: boolean[];
  /** Per node: a latency fault's extra one-way delay and ±jitter on its link to the store and bus (Redis). */
  private readonly storeLinkExtraMs: number[];
  private readonly storeLinkJitterMs: number[];
  private storeLinkRng: Prng | null = null;
  /** Per node: a store-flaky fault's share of store requests lost on the link, drawn from its own stream. */
  private readonly storeLinkLoss: number[];
  /** Per node: a store-flaky fault's share of store replies lost on the way back (the operation ran). */
  private readonly storeLinkReplyLoss: number[];
  /** Per node: its link to the store refuses every request the node sends while set (storeRequestRefused). */
  private readonly storeLinkRefuses: boolean[];
  private storeLossRng: Prng | null = null;
  /** Per node, towards the store (0) and back (1): when the last message on a slowed link arrives. */
  private readonly storeLinkLastAt: [number[], number[]];
  /** What watchSendBuffers set: the nodes' bound and who hears of a queue passing it (null: no one). */
  private sendBufferWatch: { boundBytes: number; report: SendBufferReport } | null = null;
  /** Connections whose queue toward the client is over the watched bound, by id: their client (rare). */
  private readonly overBound = new Map<number, number>();

  constructor(
    private readonly agenda: Agenda,
    private readonly nodes: readonly SimNode[],
    readonly config: NetworkConfig,
    nodeCount: number,
  ) {
    this.nodeCutFromClients = new Array<boolean>(nodeCount).fill(false);
    this.nodeCutFromStore = new Array<boolean>(nodeCount).fill(false);
    this.storeLinkExtraMs = new Array<number>(nodeCount).fill(0);
    this.storeLinkJitterMs = new Array<number>(nodeCount).fill(0);
    this.storeLinkLoss = new Array<number>(nodeCount).fill(0);
    this.storeLinkReplyLoss = new Array<number>(nodeCount).fill(0);
    this.storeLinkRefuses = new Array<boolean>(nodeCount).fill(false);
    this.storeLinkLastAt = [new Array<number>(nodeCount).fill(0), new Array<number>(nodeCount).fill(0)];
  }

  /**
   * `pinned`: the client dials only its home node, never another while that one is down. `text`: its
   * frames reach the node as text (textFlag).
   */
  addClient(home: number, jitterRng: Prng, pinned = false, text = false): void {
    // The row holds it as a 32-bit word: a home node index, not any number.
    if (!(Number.isInteger(home) && home >= 0 && home <= 0x7fffffff))
      throw new Error(`a client's home node is an index, got ${home}`);
    const client = this.links.add(jitterRng);
    this.clientCount++;
    this.extraLatencyMs.push(0);
    this.extraJitterMs.push(0);
    this.bytesPerMs.push(0);
    const words = this.links.words;
    const row = client * linkRowWords;
    words[row + connectionWord] = -1;
    words[row + homeWord] = home;
    words[row + flagsWord] = (pinned ? pinnedFlag : 0) | (text ? textFlag : 0);
  }

  /**
   * Reports each connection whose queue toward its client (a rate-limited link's: the node's send
   * buffer, which the node hears of as `backpressure`) passes `boundBytes`, the nodes' bound, and how
   * that ends: the harness's own view of what the node must do about it (protocol.md: close it 4509).
   */
  watchSendBuffers(boundBytes: number, report: SendBufferReport): void {
    this.sendBufferWatch = { boundBytes, report };
  }

  /** The connection ended while its queue was over the bound: the watch hears how, once. */
  private endWatch(id: number, code: number | null): void {
    const client = this.overBound.get(id);
    if (client === undefined) return;
    this.overBound.delete(id);
    const bytes = this.connections.queuedBytes[id]!;
    if (code === null) this.sendBufferWatch!.report(client, 'ended', bytes);
    else this.sendBufferWatch!.report(client, 'closed', bytes, code);
  }

  /** The connection goes dead with no close (a fault): frames on it are lost from now on. */
  private markBroken(id: number): void {
    this.connections.markBroken(id);
    this.endWatch(id, null);
  }

  /** Makes the client's link steady (steadyFlag): its frames take exactly `latencyMs` while unimpaired. */
  steadyLink(client: number): void {
    this.setFlag(client, steadyFlag, true);
  }

  /** The client's current connection id, or -1. */
  connectionOf(client: number): number {
    return this.links.words[client * linkRowWords + connectionWord]! | 0;
  }

  /** The node the client's current connection goes to (open or not), or -1 without one. */
  nodeOfClient(client: number): number {
    const id = this.connectionOf(client);
    return id < 0 ? -1 : this.connections.nodeOf(id);
  }

  private setConnectionOf(client: number, id: number): void {
    this.links.words[client * linkRowWords + connectionWord] = id;
  }

  private flagsOf(client: number): number {
    return this.links.words[client * linkRowWords + flagsWord]!;
  }

  /** Sets `flag` on the client's link, or clears it. */
  private setFlag(client: number, flag: number, on: boolean): void {
    const at = client * linkRowWords + flagsWord;
    const words = this.links.words;
    words[at] = on ? words[at]! | flag : words[at]! & ~flag;
  }

  /** The link's impairments changed: its row says whether any is set. */
  private impairmentsChanged(client: number): void {
    const impaired =
      this.extraLatencyMs[client] !== 0 || this.extraJitterMs[client] !== 0 || this.bytesPerMs[client] !== 0;
    this.setFlag(client, impairedFlag, impaired);
  }

  /** The link's bandwidth limit (bytes/ms), 0 when unlimited. */
  private bytesPerMsOf(client: number): number {
    return (this.flagsOf(client) & impairedFlag) === 0 ? 0 : this.bytesPerMs[client]!;
  }

  /** The client at the far end of a connection (closed ones too). */
  clientOf(connection: number): number | undefined {
    const connections = this.connections;
    return connections.has(connection) ? connections.clientOf(connection) : undefined;
  }

  /** Pings flow on an open, unbroken connection to a running node: the client hears the server. */
  isConnected(client: number): boolean {
    const id = this.connectionOf(client);
    if (id < 0) return false;
    const connections = this.connections;
    const node = this.nodes[connections.nodeOf(id)]!;
    return (
      connections.stateOf(id) === ConnectionState.open &&
      !connections.isBroken(id) &&
      node.up &&
      !node.paused &&
      node.epoch === connections.epochOf(id)
    );
  }

  /** The client's connection was cut silently (blackholed): a close from the client would never reach its node. */
  closeIsLost(client: number): boolean {
    const id = this.connectionOf(client);
    return (
      id >= 0 && this.connections.stateOf(id) !== ConnectionState.closed && this.connections.isBroken(id)
    );
  }

  /**
   * When a connection of the client last ended while cut (the client closed it, or dialled anew), so
   * that its close never reached the node, which holds it until missed heartbeats end it; -Infinity if
   * none did. The client may hold a newer connection meanwhile: the old one still counts at its node.
   */
  lostCloseAt(client: number): number {
    return this.lostCloses.get(client) ?? Number.NEGATIVE_INFINITY;
  }

  /** Marks the client's connection `id` closed on its side; a cut one's close is lost (see lostCloseAt). */
  private closeOnClientSide(client: number, id: number): void {
    const connections = this.connections;
    this.endWatch(id, null);
    if (connections.stateOf(id) !== ConnectionState.closed && connections.isBroken(id))
      this.lostCloses.set(client, this.agenda.now);
    connections.setState(id, ConnectionState.closed);
  }

  /**
   * Whether a store request of the node, arriving now, reaches the store: not while the node is cut
   * from it, and not when a flaky link loses it (one draw per request, only while the link is flaky,
   * so a run without the fault draws nothing). A lost request is answered by the node's timeout.
   */
  storeRequestArrives(node: number): boolean {
    if (this.nodeCutFromStore[node]) return false;
    const loss = this.storeLinkLoss[node]!;
    return !(loss > 0 && this.storeLossRng!.float() < loss);
  }

  /**
   * Whether a store request the node sends now is refused at once (`refuseStoreRequests`: a connection
   * to Redis not accepted yet, as after a process restart: the node's client answers `unavailable`
   * without a trip). No draw.
   */
  storeRequestRefused(node: number): boolean {
    return this.storeLinkRefuses[node]!;
  }

  /** These nodes' links to the store refuse every request sent from now (`on`), or no longer. */
  refuseStoreRequests(nodes: readonly number[], on: boolean): void {
    for (const node of nodes) this.storeLinkRefuses[node] = on;
  }

  /**
   * Whether the store's reply to the node, leaving now, reaches it: a flaky link set to lose replies
   * loses this one after the store carried the operation out (a connection dropped after Redis ran the
   * command: the write is done, the node learns only by its timeout). One draw per reply, only while
   * the link loses replies.
   */
  storeReplyArrives(node: number): boolean {
    const loss = this.storeLinkReplyLoss[node]!;
    return !(loss > 0 && this.storeLossRng!.float() < loss);
  }

  /**
   * When a message a node sends to the store or bus (`up`), or receives from it (`down`), arrives, had it
   * arrived at `at` on a healthy link. A link under a latency fault adds its delay and keeps order (as
   * Toxiproxy's latency toxic on one TCP connection does); once healed it still lets what it held
   * arrive first. A link never slowed returns `at` itself.
   */
  storeArrival(node: number, direction: 'up' | 'down', at: number): number {
    const last = this.storeLinkLastAt[direction === 'up' ? 0 : 1];
    const lastAt = last[node]!;
    const extraMs = this.storeLinkExtraMs[node]!;
    const jitterMs = this.storeLinkJitterMs[node]!;
    if (extraMs === 0 && jitterMs === 0) return lastAt > at ? lastAt : at;
    const delay = Math.max(0, extraMs + (jitterMs > 0 ? (this.storeLinkRng!.float() * 2 - 1) * jitterMs : 0));
    const arrival = Math.max(at + delay, lastAt);
    last[node] = arrival;
    return arrival;
  }

  /**
   * One-way latency of a client's link now (draws the link's jitter). An unimpaired link's sum leaves out
   * its three zeros (x + 0 is x), so both ways give the same double.
   */
  private latency(client: number): number {
    const { latencyMs, jitterMs } = this.config;
    const flags = this.flagsOf(client);
    if ((flags & impairedFlag) === 0)
      return (
        latencyMs + (jitterMs > 0 && (flags & steadyFlag) === 0 ? this.links.float(client) * jitterMs : 0)
      );
    const extraJitterMs = this.extraJitterMs[client]!;
    return (
      latencyMs +
      this.extraLatencyMs[client]! +
      (jitterMs > 0 ? this.links.float(client) * jitterMs : 0) +
      (extraJitterMs > 0 ? (this.links.float(client) * 2 - 1) * extraJitterMs : 0)
    );
  }

  // ---- client side --------------------------------------------------------------------------

  /** The client dials through the load balancer; the node hears `open`, the client `connected`. */
  connect(client: number): void {
    const connections = this.connections;
    const old = this.connectionOf(client);
    if (old >= 0) this.closeOnClientSide(client, old);
    const home = this.links.words[client * linkRowWords + homeWord]!;
    const flags = this.flagsOf(client);
    const nodeIndex = (flags & pinnedFlag) !== 0 ? home % this.nodes.length : pickNode(home, this.nodes);
    const node = this.nodes[nodeIndex]!;
    const id = connections.add(client, nodeIndex, node.epoch);
    this.setConnectionOf(client, id);
    const clientCut = (flags & cutFlag) !== 0;
    if (!node.up || node.draining || this.nodeCutFromClients[nodeIndex] || clientCut) {
      // Refused (node down; or draining, whose server answers new upgrades 503 as the runtime's
      // transport does) after a round trip; unreachable (cut) after the connect timeout.
      const reachable = !this.nodeCutFromClients[nodeIndex] && !clientCut;
      const delay = !node.up || reachable ? 2 * this.latency(client) : this.config.connectTimeoutMs;
      this.agenda.schedule(this.agenda.now + delay, EventKind.clientClosed, client, id, null);
      return;
    }
    const oneWay = this.latency(client);
    connections.setToNodeAt(id, this.agenda.now + oneWay);
    this.agenda.schedule(this.agenda.now + oneWay, EventKind.nodeInput, nodeIndex, node.epoch, {
      type: 'open',
      conn: id,
    });
    this.agenda.schedule(this.agenda.now + 2 * oneWay, EventKind.clientConnected, client, id, null);
  }

  /** The handshake's answer reached the client: true if the connection is now open. */
  handshakeArrived(client: number, id: number): boolean {
    const connections = this.connections;
    if (connections.stateOf(id) !== ConnectionState.connecting || this.connectionOf(client) !== id)
      return false;
    if (connections.isBroken(id)) {
      // The handshake never completes across a cut: the client gives up after the connect timeout.
      this.agenda.schedule(
        this.agenda.now + this.config.connectTimeoutMs,
        EventKind.clientClosed,
        client,
        id,
        null,
      );
      return false;
    }
    connections.setState(id, ConnectionState.open);
    return true;
  }

  /** A frame reached the client: true if it is for the client's current, open connection. */
  frameArrived(client: number, id: number): boolean {
    return this.connections.stateOf(id) === ConnectionState.open && this.connectionOf(client) === id;
  }

  /** A close (or a failed connect) reached the client: true if it ends the client's current connection. */
  closeArrived(client: number, id: number): boolean {
    if (this.connectionOf(client) !== id) return false;
    this.setConnectionOf(client, -1);
    this.connections.setState(id, ConnectionState.closed);
    return true;
  }

  sendToNode(client: number, frame: ClientFrame): void {
    this.toNode(client, frame, null);
  }

  /** Text as it is, whatever the client's link carries otherwise (an adversary's malformed frames). */
  sendTextToNode(client: number, text: string): void {
    this.toNode(client, null, text);
  }

  /**
   * A binary frame (an adversary's): the node is fed `binary` with no bytes, as ws-transport feeds one;
   * the core refuses it for its kind, whatever it holds.
   */
  sendBinaryToNode(client: number): void {
    this.toNode(client, null, null);
  }

  /** `frame` as the client's link carries frames, else `text` as it is, else (both null) a binary frame. */
  private toNode(client: number, frame: ClientFrame | null, text: string | null): void {
    const id = this.connectionOf(client);
    const connections = this.connections;
    if (id < 0 || connections.stateOf(id) !== ConnectionState.open || connections.isBroken(id)) return;
    const at = Math.max(this.agenda.now + this.latency(client), connections.toNodeAt(id));
    connections.setToNodeAt(id, at);
    this.agenda.schedule(
      at,
      EventKind.nodeInput,
      connections.nodeOf(id),
      connections.epochOf(id),
      text !== null
        ? { type: 'text', conn: id, text }
        : frame === null
          ? { type: 'binary', conn: id }
          : (this.flagsOf(client) & textFlag) === 0
            ? { type: 'frame', conn: id, value: frame! }
            : { type: 'text', conn: id, text: encodeClientFrame(frame!) },
    );
  }

  closeFromClient(client: number): void {
    const id = this.connectionOf(client);
    if (id < 0) return;
    const connections = this.connections;
    this.setConnectionOf(client, -1);
    this.closeOnClientSide(client, id);
    if (!connections.isBroken(id))
      this.agenda.schedule(
        Math.max(this.agenda.now + this.latency(client), connections.toNodeAt(id)),
        EventKind.nodeInput,
        connections.nodeOf(id),
        connections.epochOf(id),
        { type: 'gone', conn: id },
      );
  }

  // ---- node side ----------------------------------------------------------------------------

  sendToClient(nodeIndex: number, id: number, frame: ServerFrame): void {
    const connections = this.connections;
    if (
      !connections.has(id) ||
      connections.stateOf(id) === ConnectionState.closed ||
      connections.isBroken(id) ||
      connections.nodeOf(id) !== nodeIndex
    )
      return;
    const client = connections.clientOf(id);
    const bytesPerMs = this.bytesPerMsOf(client);
    // `draining` is 1 exactly while the connection has frames queued (`pending`): no Map probe per frame.
    if (bytesPerMs === 0 && !connections.isDraining(id)) {
      const at = Math.max(this.agenda.now + this.latency(client), connections.toClientAt(id));
      connections.setToClientAt(id, at);
      this.agenda.schedule(at, EventKind.clientFrame, client, id, frame);
      return;
    }
    // A rate-limited link (or one still draining what it queued while limited): frames wait in order
    // and leave one transmission time apart at the link's rate at that moment, so a healed link
    // drains its backlog at full speed.
    const bytes = frameBytes(frame);
    let pending = connections.pending.get(id);
    if (pending === undefined) {
      pending = [];
      connections.pending.set(id, pending);
    }
    pending.push({ frame, bytes });
    connections.queuedBytes[id]! += bytes;
    const watch = this.sendBufferWatch;
    if (
      watch !== null &&
      connections.queuedBytes[id]! > watch.boundBytes &&
      !this.overBound.has(id) &&
      !connections.isClosedByNode(id)
    ) {
      this.overBound.set(id, client);
      watch.report(client, 'over', connections.queuedBytes[id]!);
    }
    if (!connections.isDraining(id)) {
      connections.setDraining(id, true);
      this.agenda.schedule(
        this.agenda.now + (bytesPerMs > 0 ? bytes / bytesPerMs : 0),
        EventKind.linkDrain,
        client,
        id,
        null,
      );
    }
    this.agenda.schedule(this.agenda.now, EventKind.nodeInput, nodeIndex, this.nodes[nodeIndex]!.epoch, {
      type: 'backpressure',
      conn: id,
      bufferedBytes: connections.queuedBytes[id]!,
    });
  }

  /** The head of a rate-limited link's queue has been transmitted: it travels on, the next starts. */
  linkDrained(id: number): void {
    const connections = this.connections;
    const pending = connections.pending.get(id);
    const head = pending?.shift();
    if (
      head === undefined ||
      connections.stateOf(id) === ConnectionState.closed ||
      connections.isBroken(id)
    ) {
      connections.pending.delete(id);
      connections.setDraining(id, false);
      connections.queuedBytes[id] = 0;
      return;
    }
    if (head.frame === null) {
      // The node's close reached the head of the queue: it travels on; nothing queued after it leaves.
      connections.pending.delete(id);
      connections.setDraining(id, false);
      connections.queuedBytes[id] = 0;
      this.deliverClose(id, head.code!);
      return;
    }
    const client = connections.clientOf(id);
    connections.queuedBytes[id]! -= head.bytes;
    if (this.overBound.size > 0 && connections.queuedBytes[id]! <= this.sendBufferWatch!.boundBytes) {
      if (this.overBound.delete(id))
        this.sendBufferWatch!.report(client, 'under', connections.queuedBytes[id]!);
    }
    const at = Math.max(this.agenda.now + this.latency(client), connections.toClientAt(id));
    connections.setToClientAt(id, at);
    this.agenda.schedule(at, EventKind.clientFrame, client, id, head.frame);
    const next = pending![0];
    if (next === undefined) {
      connections.pending.delete(id);
      connections.setDraining(id, false);
      return;
    }
    const bytesPerMs = this.bytesPerMsOf(client);
    this.agenda.schedule(
      this.agenda.now + (bytesPerMs > 0 ? next.bytes / bytesPerMs : 0),
      EventKind.linkDrain,
      client,
      id,
      null,
    );
  }

  closeFromNode(id: number, code: number): void {
    const connections = this.connections;
    if (!connections.has(id) || connections.stateOf(id) === ConnectionState.closed) return;
    // A socket closed takes no more data (ws refuses a send after close): the watch stops here.
    connections.markClosedByNode(id);
    // Frames still queued on a rate-limited link go first: the close waits its turn behind them (a
    // close frame cannot overtake the data before it on the stream; before, a node's `drain` queued
    // there arrived after its 1012). Except a slow consumer's: the node gives up on that backlog, and
    // the client learns of it at once, as before.
    const pending = connections.pending.get(id);
    if (pending !== undefined && !connections.isBroken(id) && code !== CloseCode.slowConsumer) {
      pending.push({ frame: null, bytes: 0, code });
      return;
    }
    this.deliverClose(id, code);
  }

  /** The node's close leaves now: the client hears it after the link's latency, the node forgets the socket. */
  private deliverClose(id: number, code: number): void {
    const connections = this.connections;
    this.endWatch(id, code);
    const client = connections.clientOf(id);
    const nodeIndex = connections.nodeOf(id);
    const node = this.nodes[nodeIndex]!;
    const at = Math.max(this.agenda.now + this.latency(client), connections.toClientAt(id));
    if (!connections.isBroken(id)) this.agenda.schedule(at, EventKind.clientClosed, client, id, code);
    // The close handshake completes (or the node destroys the socket) and the node forgets it.
    this.agenda.schedule(at + this.config.latencyMs, EventKind.nodeInput, nodeIndex, node.epoch, {
      type: 'gone',
      conn: id,
    });
  }

  /** The node's process died: the kernel resets its sockets, so clients learn quickly. */
  nodeCrashed(nodeIndex: number): void {
    const connections = this.connections;
    for (let client = 0; client < this.clientCount; client++) {
      const id = this.connectionOf(client);
      if (id < 0) continue;
      if (connections.nodeOf(id) !== nodeIndex || connections.stateOf(id) === ConnectionState.closed)
        continue;
      this.markBroken(id);
      this.agenda.schedule(this.agenda.now + this.latency(client), EventKind.clientClosed, client, id, null);
    }
  }

  // ---- faults -------------------------------------------------------------------------------

  /** Cuts these clients from every node: open connections go dead, new ones time out. */
  partition(clients: ReadonlySet<number>): void {
    for (const client of clients) this.setFlag(client, cutFlag, true);
    this.blackhole(clients);
  }

  healPartition(clients: ReadonlySet<number>): void {
    for (const client of clients) this.setFlag(client, cutFlag, false);
  }

  /** Cuts one node from every client. */
  isolateNode(nodeIndex: number): void {
    this.nodeCutFromClients[nodeIndex] = true;
    this.breakConnections((_client, node) => node === nodeIndex);
  }

  rejoinNode(nodeIndex: number): void {
    this.nodeCutFromClients[nodeIndex] = false;
  }

  /** Cuts one node from the store: its store operations time out as `unavailable`. */
  cutFromStore(nodeIndex: number): void {
    this.nodeCutFromStore[nodeIndex] = true;
  }

  reconnectToStore(nodeIndex: number): void {
    this.nodeCutFromStore[nodeIndex] = false;
  }

  /** The least and the most extra delay a redis-latency fault now puts on a message over `node`'s link (0, 0: none). */
  storeLinkDelayRange(node: number): [number, number] {
    const extraMs = this.storeLinkExtraMs[node] ?? 0;
    const jitterMs = this.storeLinkJitterMs[node] ?? 0;
    return [Math.max(0, extraMs - jitterMs), extraMs + jitterMs];
  }

  /** Extra one-way delay ±jitter (drawn from `rng` per message) on these nodes' links to the store and bus; 0 lifts it. */
  setStoreLatency(nodes: readonly number[], extraMs: number, jitterMs: number, rng: Prng): void {
    this.storeLinkRng = rng;
    for (const node of nodes) {
      this.storeLinkExtraMs[node] = extraMs;
      this.storeLinkJitterMs[node] = jitterMs;
    }
  }

  /**
   * These nodes' links to the store lose this share of store requests, and `replyShare` of the replies
   * to those that arrive (drawn from `rng`); 0 lifts it.
   */
  setStoreLoss(nodes: readonly number[], share: number, rng: Prng, replyShare = 0): void {
    this.storeLossRng = rng;
    for (const node of nodes) {
      this.storeLinkLoss[node] = share;
      this.storeLinkReplyLoss[node] = replyShare;
    }
  }

  /** Data stops flowing on these clients' connections, without a close (Toxiproxy's `timeout`). */
  blackhole(clients: ReadonlySet<number>): void {
    this.breakConnections((client) => clients.has(client));
  }

  /** Resets these clients' connections: both ends learn at once (reset_peer, reconnect storms). */
  reset(clients: ReadonlySet<number>): void {
    const connections = this.connections;
    for (let client = 0; client < this.clientCount; client++) {
      const id = this.connectionOf(client);
      if (id < 0) continue;
      if (connections.stateOf(id) === ConnectionState.closed || !clients.has(client)) continue;
      const nodeIndex = connections.nodeOf(id);
      const node = this.nodes[nodeIndex]!;
      this.markBroken(id);
      const at = this.agenda.now + this.config.latencyMs;
      this.agenda.schedule(at, EventKind.clientClosed, client, id, null);
      this.agenda.schedule(at, EventKind.nodeInput, nodeIndex, node.epoch, { type: 'gone', conn: id });
    }
  }

  /**
   * Extra one-way latency (ms) on these clients' links, each frame's varied by ±jitterMs as Toxiproxy's
   * latency toxic does (never below the link's own latency); 0 removes it.
   */
  setExtraLatency(clients: ReadonlySet<number>, extraMs: number, jitterMs = 0): void {
    for (const client of clients) {
      this.extraLatencyMs[client] = extraMs;
      this.extraJitterMs[client] = Math.min(jitterMs, extraMs);
      this.impairmentsChanged(client);
    }
  }

  /** Limits these clients' server-to-client direction to a rate (bytes/ms); 0 lifts the limit. */
  limitBandwidth(clients: ReadonlySet<number>, bytesPerMs: number): void {
    for (const client of clients) {
      this.bytesPerMs[client] = bytesPerMs;
      this.impairmentsChanged(client);
    }
  }

  /** Frames on matching connections are lost from now on; the node notices after deadDetectMs. */
  private breakConnections(match: ConnectionMatch): void {
    const connections = this.connections;
    for (let client = 0; client < this.clientCount; client++) {
      const id = this.connectionOf(client);
      if (id < 0) continue;
      const nodeIndex = connections.nodeOf(id);
      if (
        connections.stateOf(id) === ConnectionState.closed ||
        connections.isBroken(id) ||
        !match(client, nodeIndex)
      )
        continue;
      this.markBroken(id);
      const node = this.nodes[nodeIndex]!;
      this.agenda.schedule(
        this.agenda.now + this.config.deadDetectMs,
        EventKind.nodeInput,
        nodeIndex,
        node.epoch,
        { type: 'gone', conn: id },
      );
    }
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
