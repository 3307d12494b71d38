// The simulated network keeps a connection's order both ways: a node's close follows the frames it
// sent before it, rate-limited link or not (a close frame cannot overtake the data before it on a TCP
// stream). Before, a close went out at once past frames still queued on a slow link, so a client heard
// a node's 1012 (restart) before the `drain` the node had sent first.

import { describe, expect, it } from 'vitest';
import type { ServerFrame } from '../../reference-server/protocol/frames.ts';
import { Prng } from '../kernel/prng.ts';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';
import { Network } from './network.ts';
import type { SimNode } from './sim-node.ts';

const config = {
  latencyMs: 5,
  jitterMs: 0,
  storeLatencyMs: 1,
  busLatencyMs: 1,
  fsyncMs: 1,
  connectTimeoutMs: 1000,
  storeTimeoutMs: 1000,
  deadDetectMs: 3000,
};

/** One node, one client connected to it; what reaches the client, in arrival order. */
function oneLink() {
  const arrived: string[] = [];
  let network: Network;
  const agenda = new Agenda((event: SimEvent) => {
    if (event.kind === EventKind.clientConnected) network.handshakeArrived(event.target, event.instance);
    else if (event.kind === EventKind.clientFrame) {
      if (network.frameArrived(event.target, event.instance)) arrived.push((event.data as ServerFrame).t);
    } else if (event.kind === EventKind.clientClosed) {
      if (network.closeArrived(event.target, event.instance)) arrived.push(`close ${event.data}`);
    } else if (event.kind === EventKind.linkDrain) network.linkDrained(event.instance);
  });
  const node = { up: true, paused: false, draining: false, epoch: 0 } as unknown as SimNode;
  network = new Network(agenda, [node], config, 1);
  network.addClient(0, new Prng(1));
  network.connect(0);
  return { agenda, network, arrived, conn: () => network.connectionOf(0) };
}

const drain: ServerFrame = { t: 'drain', reconnectInMs: 1000 };
const presence: ServerFrame = { t: 'presence', user: 'bob', online: true, lastSeen: 0 };

describe('Network: a node close and the frames before it', () => {
  it('delivers the close after the frames sent before it on a free link', async () => {
    const link = oneLink();
    await link.agenda.runUntil(20);
    link.network.sendToClient(0, link.conn(), drain);
    link.network.closeFromNode(link.conn(), 1012);
    await link.agenda.runUntil(100);
    expect(link.arrived).toEqual(['drain', 'close 1012']);
  });

  it('holds the close behind frames queued on a rate-limited link, and sends nothing after it', async () => {
    const link = oneLink();
    await link.agenda.runUntil(20);
    link.network.limitBandwidth(new Set([0]), 0.1); // 100 bytes/s: each frame takes a while
    link.network.sendToClient(0, link.conn(), presence);
    link.network.sendToClient(0, link.conn(), drain);
    link.network.closeFromNode(link.conn(), 1012);
    link.network.sendToClient(0, link.conn(), presence); // after the close: never carried
    await link.agenda.runUntil(60_000);
    expect(link.arrived).toEqual(['presence', 'drain', 'close 1012']);
  });
});

describe('Network: a close the node never hears', () => {
  it('remembers when a cut connection was closed by its client, and not a close on a live one', async () => {
    const link = oneLink();
    await link.agenda.runUntil(20);
    expect(link.network.lostCloseAt(0)).toBe(Number.NEGATIVE_INFINITY);
    link.network.closeFromClient(0); // a live connection: the node hears `gone`
    expect(link.network.lostCloseAt(0)).toBe(Number.NEGATIVE_INFINITY);
    link.network.connect(0);
    await link.agenda.runUntil(40);
    link.network.partition(new Set([0]));
    expect(link.network.closeIsLost(0)).toBe(true);
    await link.agenda.runUntil(55);
    link.network.closeFromClient(0); // cut: the close never reaches the node
    expect(link.network.closeIsLost(0)).toBe(false); // no current connection any more
    expect(link.network.lostCloseAt(0)).toBe(55);
  });

  it('counts a cut connection a client dials past as closed unheard', async () => {
    const link = oneLink();
    await link.agenda.runUntil(20);
    link.network.blackhole(new Set([0]));
    await link.agenda.runUntil(30);
    link.network.connect(0); // a new dial while the old connection is dead: the node still holds it
    expect(link.network.lostCloseAt(0)).toBe(30);
  });
});

describe('Network: a draining node', () => {
  it('refuses a new connection after a round trip, as the runtime answers an upgrade 503, and the node hears nothing', async () => {
    const arrived: string[] = [];
    const heard: unknown[] = [];
    let network: Network;
    const agenda = new Agenda((event: SimEvent) => {
      if (event.kind === EventKind.nodeInput) heard.push(event.data);
      else if (event.kind === EventKind.clientClosed && network.closeArrived(event.target, event.instance))
        arrived.push(`close ${event.data} at ${agenda.now}`);
    });
    const node = { up: true, paused: false, draining: true, epoch: 0 } as unknown as SimNode;
    network = new Network(agenda, [node], config, 1);
    network.addClient(0, new Prng(1));
    network.connect(0);
    await agenda.runUntil(100);
    expect(arrived).toEqual(['close null at 10']); // two one-way latencies of 5 ms
    expect(heard).toEqual([]);
  });
});

describe("Network: a client's link", () => {
  it('adds a latency fault to each frame while it is set, and not once it is lifted', async () => {
    const link = oneLink();
    await link.agenda.runUntil(20);
    link.network.setExtraLatency(new Set([0]), 100);
    link.network.sendToClient(0, link.conn(), presence);
    await link.agenda.runUntil(124.9);
    expect(link.arrived).toEqual([]);
    await link.agenda.runUntil(125); // 20 + 5 + 100
    expect(link.arrived).toEqual(['presence']);
    link.network.setExtraLatency(new Set([0]), 0);
    link.network.sendToClient(0, link.conn(), presence);
    await link.agenda.runUntil(130);
    expect(link.arrived).toEqual(['presence', 'presence']);
  });

  it("refuses a home that is not a node index (the link's row holds it as a 32-bit word)", () => {
    const agenda = new Agenda(() => {});
    const network = new Network(agenda, [], config, 1);
    expect(() => network.addClient(-1, new Prng(1))).toThrow(/home node is an index/);
    expect(() => network.addClient(2 ** 32, new Prng(1))).toThrow(/home node is an index/);
    network.addClient(3, new Prng(1));
    expect(network.connectionOf(0)).toBe(-1);
  });
});

describe("Network: a node's send buffer past its bound", () => {
  /** oneLink with a watch at `boundBytes`; what the watch heard, as `state bytes code`. */
  function watched(boundBytes: number) {
    const link = oneLink();
    const heard: string[] = [];
    link.network.watchSendBuffers(boundBytes, (client, state, bytes, code) =>
      heard.push(
        `${client} ${state}${code === undefined ? '' : ` ${code}`}${bytes > boundBytes ? ' over' : ''}`,
      ),
    );
    return { ...link, heard };
  }

  it("reports a rate-limited link's queue passing the bound, its drain back, and the node's close", async () => {
    const link = watched(60);
    await link.agenda.runUntil(20);
    link.network.limitBandwidth(new Set([0]), 0.1);
    for (let i = 0; i < 3; i++) link.network.sendToClient(0, link.conn(), presence);
    await link.agenda.runUntil(60_000);
    // Over once (not again for the third frame), back to the bound as the queue drains.
    expect(link.heard).toEqual(['0 over over', '0 under']);
    for (let i = 0; i < 3; i++) link.network.sendToClient(0, link.conn(), presence);
    link.network.closeFromNode(link.conn(), 4509);
    // After the node's close nothing it writes is its send buffer any more.
    for (let i = 0; i < 3; i++) link.network.sendToClient(0, link.conn(), presence);
    await link.agenda.runUntil(120_000);
    expect(link.heard).toEqual(['0 over over', '0 under', '0 over over', '0 closed 4509 over']);
    expect(link.arrived.at(-1)).toBe('close 4509');
  });

  it('reports nothing on a free link, and a connection cut while over as ended', async () => {
    const link = watched(10);
    await link.agenda.runUntil(20);
    link.network.sendToClient(0, link.conn(), presence);
    expect(link.heard).toEqual([]);
    link.network.limitBandwidth(new Set([0]), 0.1);
    link.network.sendToClient(0, link.conn(), presence);
    link.network.blackhole(new Set([0]));
    expect(link.heard).toEqual(['0 over over', '0 ended over']);
  });
});
