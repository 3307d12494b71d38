// Latency between nodes and Redis (the shared store and the pub/sub bus): every store request, store
// answer and bus message on a touched node's link arrives latencyMs ± jitterMs later, in order, as
// with Toxiproxy's latency toxic on the proxy between that node and Redis. `node` slows one node's
// link; without it every node's (Redis itself slow). The heal lets what the links held arrive first.
// Two such faults may overlap on one node (one window handing over to the next at the same instant,
// as fleet-races' node 1 does at 12 s: the later one starts before the earlier one heals): the link
// keeps the latest one still open, and is healthy only once none is.

import type { Prng } from '../kernel/prng.ts';
import type { Network } from '../world/network.ts';
import { type Fault, nodeOf } from './fault.ts';

export const redisLatencyMsDefault = 100;

type Layer = { extraMs: number; jitterMs: number; rng: Prng };

/** Per network, per node: the redis-latency faults open on its link, oldest first. */
const open = new WeakMap<Network, Map<number, Layer[]>>();

export const redisLatency: Fault = {
  type: 'redis-latency',
  start(context) {
    const { world, spec, rng } = context;
    const network = world.network;
    const nodes = spec.node === undefined ? world.nodes.map((node) => node.index) : [nodeOf(context)];
    const layer: Layer = {
      extraMs: spec.latencyMs ?? redisLatencyMsDefault,
      jitterMs: spec.jitterMs ?? 0,
      rng,
    };
    let byNode = open.get(network);
    if (byNode === undefined) {
      byNode = new Map();
      open.set(network, byNode);
    }
    const layers = byNode;
    for (const node of nodes) layers.set(node, [...(layers.get(node) ?? []), layer]);
    network.setStoreLatency(nodes, layer.extraMs, layer.jitterMs, rng);
    return () => {
      for (const node of nodes) {
        const rest = (layers.get(node) ?? []).filter((other) => other !== layer);
        layers.set(node, rest);
        const top = rest.at(-1);
        if (top === undefined) network.setStoreLatency([node], 0, 0, rng);
        else network.setStoreLatency([node], top.extraMs, top.jitterMs, top.rng);
      }
    };
  },
};
