// The simulated bus: lossless between running nodes by default; with `lossOnDisconnect`, as Redis
// pub/sub: a node cut from it loses what is delivered meanwhile (in flight included), keeps its own
// publishes for when it is back (unless its process dies first: they die with it), and is then fed
// `bus-resumed`.

import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../reference-server/core/bus-events.ts';
import type { Input } from '../../reference-server/core/inputs.ts';
import { Prng } from '../kernel/prng.ts';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';
import { Bus } from './bus.ts';
import { Network, type NetworkConfig } from './network.ts';
import type { SimNode } from './sim-node.ts';

const latencyMs = 10;
const typing = (origin: string, on: boolean): BusEvent => ({
  kind: 'typing',
  origin,
  conv: 'g',
  user: 'u',
  on,
});

function world(lossOnDisconnect: boolean, slowed?: { nodes: number[]; extraMs: number; jitterMs: number }) {
  const received: { node: number; at: number; input: Input }[] = [];
  const agenda: Agenda = new Agenda((event: SimEvent) => {
    if (event.kind === EventKind.callback) (event.data as () => void)();
    else received.push({ node: event.target, at: event.at, input: event.data as Input });
  });
  const nodes = [0, 1, 2].map((index) => ({ index, up: true, epoch: 1 }) as SimNode);
  const network = new Network(agenda, nodes, {} as NetworkConfig, nodes.length);
  if (slowed) network.setStoreLatency(slowed.nodes, slowed.extraMs, slowed.jitterMs, new Prng(7));
  const bus = new Bus(agenda, nodes, latencyMs, lossOnDisconnect, network);
  const runUntil = (at: number) => agenda.runUntil(at);
  return { agenda, bus, network, received, runUntil };
}

describe('the simulated bus', () => {
  it('delivers to every other running node after the latency', () => {
    const w = world(true);
    w.bus.publish(0, typing('n0', true));
    w.runUntil(100);
    expect(w.received.map((r) => [r.node, r.at])).toEqual([
      [1, latencyMs],
      [2, latencyMs],
    ]);
  });

  it('with loss on, a cut node loses what arrives while it is away, in flight included, then resumes', () => {
    const w = world(true);
    w.bus.publish(0, typing('n0', true));
    w.agenda.at(latencyMs / 2, () => w.bus.disconnect(1));
    w.agenda.at(20, () => w.bus.publish(0, typing('n0', false)));
    w.agenda.at(40, () => w.bus.publish(1, typing('n1', true)));
    w.agenda.at(50, () => w.bus.reconnect(1));
    w.runUntil(200);
    const seen = w.received.map((r) => [
      r.node,
      r.at,
      r.input.type === 'bus' ? r.input.event.origin : r.input.type,
    ]);
    expect(seen).toEqual([
      // node 1 is told at once that it lost the bus (its welcomes wait until it has caught up).
      [1, latencyMs / 2, 'bus-lost'],
      [2, latencyMs, 'n0'],
      [2, 20 + latencyMs, 'n0'],
      // node 1 hears it may have missed events; its own publish waited for the reconnect.
      [1, 50 + latencyMs, 'bus-resumed'],
      [0, 50 + latencyMs, 'n1'],
      [2, 50 + latencyMs, 'n1'],
    ]);
    expect(w.bus.resumes).toBe(1);
  });

  it('loses what a cut-off node kept when its process dies, as Redis would: nothing is republished', () => {
    const w = world(true);
    w.bus.disconnect(1);
    w.bus.publish(1, typing('kept-then-crashed', true));
    w.bus.processDown(1);
    // The next process, still cut off, publishes too: that one is kept and sent on the reconnect.
    w.bus.publish(1, typing('next-process', true));
    w.bus.reconnect(1);
    w.runUntil(100);
    const origins = w.received.flatMap((r) =>
      r.input.type === 'bus' ? [[r.node, r.input.event.origin]] : [],
    );
    expect(origins).toEqual([
      [0, 'next-process'],
      [2, 'next-process'],
    ]);
    expect(w.bus.lostWithProcess).toBe(1);
  });

  it('loses a publish still on its way up to Redis when its process dies, not one Redis already has', async () => {
    const w = world(false, { nodes: [1], extraMs: 100, jitterMs: 0 });
    w.bus.publish(1, typing('reached-redis', true));
    w.agenda.at(150, () => w.bus.publish(1, typing('in-the-socket', true)));
    w.agenda.at(200, () => w.bus.processDown(1));
    await w.runUntil(1000);
    const origins = w.received.flatMap((r) => (r.input.type === 'bus' ? [r.input.event.origin] : []));
    expect(origins).toEqual(['reached-redis', 'reached-redis']);
    expect(w.bus.lostWithProcess).toBe(1);
  });

  it('a node whose kept publishes overflowed sends them, then events-dropped, so the others read the store', () => {
    const w = world(true);
    w.bus.disconnect(1);
    // One more than the bound: the oldest is dropped (RedisBus keeps as many).
    for (let i = 0; i <= 10_000; i++) w.bus.publish(1, typing(`kept-${i}`, true));
    w.bus.reconnect(1);
    w.runUntil(100);
    const heardBy0 = w.received.flatMap((r) =>
      r.node === 0 && r.input.type === 'bus'
        ? [r.input.event.kind === 'typing' ? 'typing' : r.input.event]
        : [],
    );
    expect(heardBy0).toHaveLength(10_001);
    expect(heardBy0.at(-1)).toEqual({ kind: 'events-dropped', origin: 'n2' });
    // Nothing dropped on the next cut: no notice.
    w.bus.disconnect(1);
    w.bus.publish(1, typing('one', true));
    w.bus.reconnect(1);
    w.runUntil(200);
    expect(
      w.received.filter((r) => r.input.type === 'bus' && r.input.event.kind === 'events-dropped'),
    ).toHaveLength(2);
  });

  it('tells a node that starts while cut from the bus that it is cut', () => {
    const w = world(true);
    w.bus.disconnect(1);
    w.bus.nodeStarted(1);
    w.bus.nodeStarted(2);
    w.runUntil(100);
    expect(w.received.map((r) => [r.node, r.input.type])).toEqual([
      [1, 'bus-lost'],
      [1, 'bus-lost'],
    ]);
  });

  it('with loss off, disconnect changes nothing', () => {
    const w = world(false);
    w.bus.disconnect(1);
    w.bus.publish(0, typing('n0', true));
    w.bus.reconnect(1);
    w.runUntil(100);
    expect(w.received.map((r) => r.node)).toEqual([1, 2]);
    expect(w.bus.resumes).toBe(0);
  });

  it('a node whose link to Redis is slowed (redis-latency) hears and is heard later, in order, and the heal keeps order', async () => {
    const w = world(false, { nodes: [1], extraMs: 100, jitterMs: 90 });
    for (let i = 0; i < 20; i++) w.agenda.at(i, () => w.bus.publish(0, typing(`a${i}`, true)));
    w.agenda.at(30, () => w.bus.publish(1, typing('from-1', true)));
    w.agenda.at(40, () => w.network.setStoreLatency([1], 0, 0, new Prng(1)));
    w.agenda.at(41, () => w.bus.publish(0, typing('after-heal', true)));
    await w.runUntil(1000);
    const at = (node: number) =>
      w.received
        .filter((r) => r.node === node && r.input.type === 'bus')
        .map((r) => [r.at, r.input.type === 'bus' ? r.input.event.origin : '']);
    // Node 2's link is healthy: the bus latency only.
    expect(at(2).slice(0, 20)).toEqual(Array.from({ length: 20 }, (_, i) => [i + latencyMs, `a${i}`]));
    // Node 1 hears 10..190 ms later, in publish order; what was published after the heal comes after.
    const heard = at(1);
    expect(heard.map(([, origin]) => origin)).toEqual([
      ...Array.from({ length: 20 }, (_, i) => `a${i}`),
      'after-heal',
    ]);
    for (let i = 1; i < heard.length; i++)
      expect(heard[i]![0]).toBeGreaterThanOrEqual(heard[i - 1]![0] as number);
    expect(heard[0]![0]).toBeGreaterThanOrEqual(latencyMs + 10);
    expect(Math.max(...heard.slice(0, 20).map(([t], i) => (t as number) - i - latencyMs))).toBeGreaterThan(
      100,
    );
    // What node 1 publishes waits on its way up to Redis.
    const up = at(0).find(([, origin]) => origin === 'from-1')!;
    expect(up[0]).toBeGreaterThanOrEqual(30 + latencyMs + 10);
  });
});
