import { describe, expect, it } from 'vitest';
import type { Input } from '../../reference-server/core/inputs.ts';
import { Agenda, EventKind, type SimEvent } from './agenda.ts';
import { Liveness } from './liveness.ts';
import type { SimNode } from './sim-node.ts';

/** A fleet of `count` stand-in nodes on a real agenda; records every input fed to a node. */
function fleet(count: number, ttlMs = 5000) {
  const fed: { at: number; node: number; input: Input }[] = [];
  const agenda: Agenda = new Agenda((event: SimEvent) => {
    if (event.kind === EventKind.nodeInput)
      fed.push({ at: agenda.now, node: event.target, input: event.data as Input });
    else (event.data as () => void)();
  });
  const nodes = Array.from({ length: count }, (_, index) => ({ index, up: true, epoch: 0 }));
  const liveness = new Liveness(agenda, nodes as unknown as SimNode[], ttlMs);
  return { agenda, nodes, liveness, fed };
}

describe('Liveness', () => {
  it('feeds node-down to every other running node once a node has been silent for the TTL', async () => {
    const { agenda, nodes, liveness, fed } = fleet(3);
    nodes[1]!.up = false;
    liveness.stopped(1);
    await agenda.runUntil(4999);
    expect(fed).toEqual([]);
    nodes[2]!.up = false; // down meanwhile: told nothing
    await agenda.runUntil(6000);
    expect(fed).toEqual([
      { at: 5000, node: 0, input: { type: 'bus', event: { kind: 'node-down', origin: 'n2' } } },
    ]);
    expect(liveness.downs).toBe(1);
  });

  it('tells nobody of a silence shorter than the TTL', async () => {
    const { agenda, liveness, fed } = fleet(2);
    liveness.stopped(1);
    await agenda.runUntil(3000);
    liveness.beating(1);
    liveness.stopped(1);
    await agenda.runUntil(7000); // the second silence began at 3000: not yet a TTL long
    expect(fed).toEqual([]);
    await agenda.runUntil(8000);
    expect(fed.map((f) => f.at)).toEqual([8000]);
  });

  it('feeds presence-resync to the others when a node taken for dead beats again', async () => {
    const { agenda, liveness, fed } = fleet(2);
    liveness.stopped(0);
    await agenda.runUntil(6000);
    liveness.beating(0);
    await agenda.runUntil(6000);
    expect(fed.map((f) => [f.node, f.input.type])).toEqual([
      [1, 'bus'],
      [1, 'presence-resync'],
    ]);
  });

  it('does nothing for a single node', async () => {
    const { agenda, liveness, fed } = fleet(1);
    liveness.stopped(0);
    await agenda.runUntil(10_000);
    liveness.beating(0);
    expect(fed).toEqual([]);
  });
});
