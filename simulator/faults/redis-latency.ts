// Latency between nodes and Redis (the shared store and the pub/sub bus): every store request, store
// answer and bus message on a touched node's link arrives latencyMs ± jitterMs later, in order, as
// with Toxiproxy's latency toxic on the proxy between that node and Redis. `node` slows one node's
// link; without it every node's (Redis itself slow). The heal lets what the links held arrive first.

import { type Fault, nodeOf } from './fault.ts';

export const redisLatencyMsDefault = 100;

export const redisLatency: Fault = {
  type: 'redis-latency',
  start(context) {
    const { world, spec, rng } = context;
    const nodes = spec.node === undefined ? world.nodes.map((node) => node.index) : [nodeOf(context)];
    world.network.setStoreLatency(nodes, spec.latencyMs ?? redisLatencyMsDefault, spec.jitterMs ?? 0, rng);
    return () => world.network.setStoreLatency(nodes, 0, 0, rng);
  },
};
