// Which faults a live target refuses before the run: over a Redis Cluster (--redis-cluster) the store
// fault is a master failover, and the faults that need a proxy between the nodes and Redis are refused
// by name instead of failing mid-run.

import { describe, expect, it } from 'vitest';
import type { FaultSpec } from '../../scenarios/scenario.ts';
import { liveRefusal, nodeCountRefusal, splitLiveFaults } from './live-faults.ts';

const spec = (fields: Partial<FaultSpec> & { type: FaultSpec['type'] }) =>
  ({ atMs: 1000, durationMs: 1000, ...fields }) as FaultSpec;
const cluster = { canSignal: true, network: false, redis: { owned: true, cluster: true } };
const single = { canSignal: true, network: false, redis: { owned: true } };

describe('liveRefusal over Redis', () => {
  it('lets a Redis Cluster fleet run store-outage (the failover) and refuses what needs a proxy', () => {
    expect(liveRefusal(spec({ type: 'store-outage' }), cluster)).toBeNull();
    expect(liveRefusal(spec({ type: 'redis-latency' }), cluster)).toMatch(
      /redis-latency is not supported with --redis-cluster/,
    );
    expect(liveRefusal(spec({ type: 'partition', target: 'store', node: 0 }), cluster)).toMatch(
      /partition target store is not supported with --redis-cluster/,
    );
  });

  it('lets a fleet over one Redis run all three', () => {
    for (const fault of [
      spec({ type: 'store-outage' }),
      spec({ type: 'redis-latency' }),
      spec({ type: 'partition', target: 'store', node: 0 }),
    ])
      expect(liveRefusal(fault, single)).toBeNull();
  });

  it('refuses a cut from the bus alone: a live fleet keeps its store and bus in one Redis', () => {
    for (const caps of [single, cluster, { canSignal: true, network: true }])
      expect(liveRefusal(spec({ type: 'partition', target: 'bus', node: 0 }), caps)).toMatch(
        /from its bus alone has no live meaning/,
      );
  });

  it('refuses a crash whose restarted node loses its store link at its start, and carries out a plain crash', () => {
    expect(liveRefusal(spec({ type: 'node-crash', node: 0, storeRefusedAfterStartMs: 300 }), single)).toMatch(
      /storeRefusedAfterStartMs has no live meaning/,
    );
    expect(liveRefusal(spec({ type: 'node-crash', node: 0 }), single)).toBeNull();
  });
});

describe('nodeCountRefusal', () => {
  const nodeDown = { name: 'node-down', nodes: 2 };
  const crash1 = spec({ type: 'node-crash', node: 1 });

  it('refuses a fault naming a node the target does not have, with the --nodes that would do', () => {
    const why = nodeCountRefusal(
      [spec({ type: 'partition', target: 'clients', fraction: 0.2 }), crash1],
      1,
      nodeDown,
    );
    expect(why).toBe(
      'node-down is written for 2 nodes (topology.nodes) and node-crash@1000ms names node 1; this target has 1: use --nodes 2',
    );
  });

  it('lets a timeline run whose nodes all exist, and one that names none', () => {
    expect(nodeCountRefusal([crash1], 2, nodeDown)).toBeNull();
    expect(nodeCountRefusal([spec({ type: 'reconnect-storm', fraction: 0.5 })], 1, nodeDown)).toBeNull();
  });

  it('asks for as many nodes as the highest node named, when a timeline names more than the topology', () => {
    const why = nodeCountRefusal([spec({ type: 'node-pause', node: 3 })], 2, { name: 'mine', nodes: 1 });
    expect(why).toMatch(
      /mine is written for 1 node \(topology\.nodes\) and node-pause@1000ms names node 3; this target has 2: use --nodes 4$/,
    );
  });
});

describe('splitLiveFaults', () => {
  it('keeps what the target can do, in order, and names each fault it drops with the reason', () => {
    const storm = spec({ type: 'reconnect-storm', fraction: 0.5 });
    const clock = spec({ type: 'clock-offset', atMs: 3000, node: 0, offsetMs: 30_000 });
    const crash = spec({ type: 'node-crash', atMs: 5000, node: 0 });
    const url = { canSignal: false, network: true };
    expect(splitLiveFaults([storm, clock, crash], url)).toEqual({
      kept: [storm],
      dropped: [
        "clock-offset@3000ms: clock-offset has no live meaning (a harness cannot set a server process's clock)",
        'node-crash@5000ms: node-crash needs server processes the driver owns (--nodes or --server-cmd), not --url',
      ],
    });
    expect(splitLiveFaults([storm, crash], { canSignal: true, network: true })).toEqual({
      kept: [storm, crash],
      dropped: [],
    });
  });

  it('drops a fault naming a node the target lacks, by name, and keeps those on nodes it has', () => {
    const crash0 = spec({ type: 'node-crash', atMs: 5000, node: 0 });
    const crash1 = spec({ type: 'node-crash', atMs: 1000, node: 1 });
    const cut1 = spec({ type: 'partition', atMs: 9000, node: 1, target: 'node' });
    expect(splitLiveFaults([crash1, crash0, cut1], { canSignal: true, network: true, nodes: 1 })).toEqual({
      kept: [crash0],
      dropped: [
        'node-crash@1000ms: it names node 1 and this target has 1 node (--nodes 2 or more to run it): never carried out on another node',
        'partition@9000ms: it names node 1 and this target has 1 node (--nodes 2 or more to run it): never carried out on another node',
      ],
    });
    expect(splitLiveFaults([crash1, cut1], { canSignal: true, network: true, nodes: 2 }).dropped).toEqual([]);
  });
});
