// The simulated bus: lossless between running nodes by default; with `lossOnDisconnect`, as Redis
// pub/sub: a node cut from it loses what is delivered meanwhile (in flight included), keeps its own
// publishes for when it is back, and is then fed `bus-resumed`.

import { describe, expect, it } from 'vitest';
import type { BusEvent } from '../../reference-server/core/bus-events.ts';
import type { Input } from '../../reference-server/core/inputs.ts';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';
import { Bus } from './bus.ts';
import type { SimNode } from './sim-node.ts';

const latencyMs = 10;
const typing = (origin: string, on: boolean): BusEvent => ({
  kind: 'typing',
  origin,
  conv: 'g',
  user: 'u',
  on,
});

function world(lossOnDisconnect: boolean) {
  const received: { node: number; at: number; input: Input }[] = [];
  const agenda: Agenda = new Agenda((event: SimEvent) => {
    if (event.kind === EventKind.callback) (event.data as () => void)();
    else received.push({ node: event.target, at: event.at, input: event.data as Input });
  });
  const nodes = [0, 1, 2].map((index) => ({ index, up: true, epoch: 1 }) as SimNode);
  const bus = new Bus(agenda, nodes, latencyMs, lossOnDisconnect);
  const runUntil = (at: number) => agenda.runUntil(at);
  return { agenda, bus, received, runUntil };
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
});
