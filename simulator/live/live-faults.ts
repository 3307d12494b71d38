// The scenario's fault vocabulary, live. Each fault either has a live meaning for the chosen target
// (process faults need processes the driver owns; client-side resets need only the generators) or is
// refused by name before anything starts. `startLiveFault` carries one out and returns its heal.

import type { LiveNetwork } from '../../chaos/live-network.ts';
import { diskFaultTypes, type FaultSpec, type FaultType } from '../../scenarios/scenario.ts';
import { redisLatencyMsDefault } from '../faults/redis-latency.ts';
import { drainRestart, restartDelayMsDefault } from '../faults/rolling-restart.ts';
import type { LiveFleet } from './fleet.ts';
import type { GeneratorPool } from './generator-pool.ts';

/** `redis`: the nodes share a Redis the driver reaches; `owned` when the run started it. */
export type LiveCapabilities = {
  canSignal: boolean;
  network: boolean;
  /** `cluster`: a Redis Cluster (--redis-cluster): no proxy between nodes and Redis to cut or slow. */
  redis?: { owned: boolean; cluster?: boolean };
  /** The target's node count: a fault naming a node at or past it is refused (absent: not checked). */
  nodes?: number;
};

/** What each fault means live, and what it needs; the README's fault table says the same. */
export const liveMeaning: Record<
  FaultType,
  { needs: 'signal' | 'network' | 'generators' | 'none'; live: string }
> = {
  'node-crash': {
    needs: 'signal',
    live: 'SIGKILL to the node process group, restarted on the same data dir at the heal',
  },
  'node-pause': { needs: 'signal', live: 'SIGSTOP to the node process group, SIGCONT at the heal' },
  'rolling-restart': {
    needs: 'signal',
    live: 'each node in turn: SIGTERM to its process group (a conforming server drains), its exit awaited, restartDelayMs, started again with the same command, port and data dir; the next node once /readyz answers 200',
  },
  'reconnect-storm': {
    needs: 'generators',
    live: 'the generators reset the sockets of that share of clients at once',
  },
  reset_peer: {
    needs: 'generators',
    live: 'the generators reset (TCP RST) the sockets of that share of clients',
  },
  partition: { needs: 'network', live: 'Toxiproxy between client shards and nodes' },
  latency: { needs: 'network', live: 'Toxiproxy latency toxic' },
  bandwidth: { needs: 'network', live: 'Toxiproxy bandwidth toxic' },
  timeout: { needs: 'network', live: 'Toxiproxy timeout toxic' },
  'slow-consumer': { needs: 'network', live: 'Toxiproxy bandwidth toxic at a few KiB/s' },
  'store-outage': {
    needs: 'none',
    live: "none: protocol.md gives a harness no way to take a server's store down (a fleet over a Redis the run starts: Redis SIGKILLed, restarted on its AOF at the heal; over --redis-cluster: a master SIGKILLed, its replica promoted, the old master back as a replica at the heal)",
  },
  'clock-offset': { needs: 'none', live: "none: a harness cannot set a server process's clock" },
  'store-flaky': {
    needs: 'none',
    live: 'none: Toxiproxy loses no single requests (its toxics act on whole connections); a fleet over Redis can cut a node from it instead (partition target store)',
  },
  'redis-latency': {
    needs: 'none',
    live: 'none: only a fleet over Redis has a path to slow (--nodes 2 or more: a Toxiproxy latency toxic both ways on the proxies between the nodes and Redis)',
  },
  ...Object.fromEntries(
    diskFaultTypes.map((type) => [
      type,
      {
        needs: 'none' as const,
        live: 'none: a fault of the simulated disk under the real log (the simulator only)',
      },
    ]),
  ),
} as Record<FaultType, { needs: 'signal' | 'network' | 'generators' | 'none'; live: string }>;

/** Why `spec` cannot run live against this target, or null when it can. */
export function liveRefusal(spec: FaultSpec, caps: LiveCapabilities): string | null {
  const meaning = liveMeaning[spec.type];
  if (spec.node !== undefined && caps.nodes !== undefined && spec.node >= caps.nodes)
    return `it names node ${spec.node} and this target has ${caps.nodes} node${caps.nodes === 1 ? '' : 's'} (--nodes ${spec.node + 1} or more to run it): never carried out on another node`;
  if (
    caps.redis?.cluster &&
    (spec.type === 'redis-latency' || (spec.type === 'partition' && spec.target === 'store'))
  )
    return `${spec.type === 'partition' ? 'partition target store' : 'redis-latency'} is not supported with --redis-cluster (the nodes reach every master directly, with no proxy between)`;
  if (spec.type === 'node-crash' && spec.storeRefusedAfterStartMs !== undefined)
    return "node-crash with storeRefusedAfterStartMs has no live meaning here (the driver cannot time a Redis refusing one node's connection to the instant a restarted node starts)";
  if (spec.type === 'partition' && spec.target === 'bus')
    return 'partition of a node from its bus alone has no live meaning here (a live fleet keeps its store and its bus in one Redis: cut both with target "store")';
  if (spec.type === 'partition' && spec.target === 'store')
    return caps.redis
      ? null
      : 'partition of a node from its store has no live meaning (the store is inside the server, out of reach; a fleet over Redis has one: --nodes 2 or more)';
  if (spec.type === 'redis-latency' && caps.redis) return null;
  if (spec.type === 'store-outage' && caps.redis)
    return caps.redis.owned
      ? null
      : 'store-outage SIGKILLs Redis: it needs a Redis the run starts itself (leave out --redis)';
  switch (meaning.needs) {
    case 'signal':
      return caps.canSignal
        ? null
        : `${spec.type} needs server processes the driver owns (--nodes or --server-cmd), not --url`;
    case 'network':
      return caps.network
        ? null
        : `${spec.type} needs the Toxiproxy network layer between clients and nodes, which this build does not have yet`;
    case 'generators':
      return null;
    case 'none':
      return `${spec.type} has no live meaning (${meaning.live.replace(/^none: /, '')})`;
  }
}

/**
 * The faults this target can carry out, and one line per fault it cannot (`type@atMs: why`): what
 * `gate --live` and `live --skip-refused` drop, saying so, where `live` alone refuses the run.
 */
export function splitLiveFaults(
  faults: readonly FaultSpec[],
  caps: LiveCapabilities,
): { kept: FaultSpec[]; dropped: string[] } {
  const kept: FaultSpec[] = [];
  const dropped: string[] = [];
  for (const fault of faults) {
    const why = liveRefusal(fault, caps);
    if (why === null) kept.push(fault);
    else dropped.push(`${fault.type}@${fault.atMs}ms: ${why}`);
  }
  return { kept, dropped };
}

/**
 * Why the timeline cannot run on `nodes` nodes, or null: a fault that names a node the target does not
 * have (node-down crashes node 1 of its two) is refused by name, not carried out on another node.
 */
export function nodeCountRefusal(
  faults: readonly FaultSpec[],
  nodes: number,
  scenario: { name: string; nodes: number },
): string | null {
  const beyond = faults.filter((spec) => spec.node !== undefined && spec.node >= nodes);
  if (beyond.length === 0) return null;
  const needed = Math.max(scenario.nodes, ...beyond.map((spec) => spec.node! + 1));
  const named = [...new Set(beyond.map((spec) => `${spec.type}@${spec.atMs}ms names node ${spec.node}`))];
  return `${scenario.name} is written for ${scenario.nodes} node${scenario.nodes === 1 ? '' : 's'} (topology.nodes) and ${named.join(', ')}; this target has ${nodes}: use --nodes ${needed}`;
}

export type LiveFaultContext = {
  fleet: LiveFleet;
  pool: GeneratorPool;
  /** The Toxiproxy layer, when the run has one. */
  network: LiveNetwork | null;
  /** Told what a network fault really touched (its fraction is rounded to whole client groups). */
  describe?: (line: string) => void;
  /** Index of the fault in the run's timeline (seeds the client picks). */
  n: number;
  /** Records one node's step of a rolling restart (its drain until it serves again), by node index. */
  step?: (type: string, phase: 'start' | 'heal', node: number) => void;
};

export type LiveHeal = () => Promise<void>;

export async function startLiveFault(spec: FaultSpec, context: LiveFaultContext): Promise<LiveHeal> {
  const { fleet, pool, n, network } = context;
  const node = spec.node ?? 0;
  switch (spec.type) {
    case 'node-crash':
      await fleet.crash(node);
      return () => fleet.restart(node);
    case 'node-pause':
      fleet.pause(node);
      return async () => fleet.resume(node);
    case 'rolling-restart':
      return rollingRestart(spec, context);
    case 'reconnect-storm':
      pool.broadcast({ type: 'drop', fraction: spec.fraction ?? 0.5, fault: n });
      return async () => {};
    case 'reset_peer':
      pool.broadcast({ type: 'drop', fraction: spec.fraction ?? 0.1, fault: n, reset: true });
      return async () => {};
    case 'store-outage':
      if (fleet.redis === undefined) throw new Error('store-outage needs a fleet over Redis');
      return fleet.redis.outage();
    case 'redis-latency':
      if (fleet.redis === undefined) throw new Error('redis-latency needs a fleet over Redis');
      return fleet.redis.slow(spec.node, spec.latencyMs ?? redisLatencyMsDefault, spec.jitterMs ?? 0);
    default: {
      if (spec.type === 'partition' && spec.target === 'store') {
        if (fleet.redis === undefined) throw new Error('a partition from the store needs a fleet over Redis');
        return fleet.redis.cut(node);
      }
      if (network === null || liveMeaning[spec.type].needs !== 'network')
        throw new Error(`${spec.type} cannot run live here (it should have been refused before the run)`);
      const fault = await network.apply(spec, n);
      context.describe?.(fault.describe);
      return () => fault.heal();
    }
  }
}

/**
 * Node by node: drained by SIGTERM, restarted on the same data dir once it exited, the next once it is
 * ready. The heal lets the node in hand finish its turn and leaves the nodes not reached yet alone.
 */
function rollingRestart(spec: FaultSpec, context: LiveFaultContext): LiveHeal {
  const { fleet } = context;
  let healed = false;
  const roll = (async () => {
    for (let node = 0; node < fleet.urls.length && !healed; node++) {
      context.step?.(drainRestart, 'start', node);
      await fleet.drainRestart(node, spec.restartDelayMs ?? restartDelayMsDefault);
      context.step?.(drainRestart, 'heal', node);
    }
  })();
  // Not awaited here: the roll runs beside the load; a node that did not come back fails the heal.
  roll.catch(() => {});
  return async () => {
    healed = true;
    await roll;
  };
}

/** Whether any fault of the timeline goes through the Toxiproxy layer. */
export function needsNetwork(faults: readonly FaultSpec[]): boolean {
  return faults.some((f) => liveMeaning[f.type].needs === 'network' && f.target !== 'store');
}

/** One line per fault event, wall clock first, for a team watching its own dashboards beside the run. */
export function describeLiveFault(spec: FaultSpec): string {
  const whom =
    spec.type === 'store-outage'
      ? 'Redis'
      : spec.type === 'redis-latency'
        ? `${spec.node === undefined ? 'every node' : `node ${spec.node}`} to Redis, +${spec.latencyMs ?? redisLatencyMsDefault} ms`
        : spec.target === 'store'
          ? `node ${spec.node ?? 0} from Redis`
          : spec.type === 'rolling-restart'
            ? 'every node in turn'
            : spec.type === 'node-crash' || spec.type === 'node-pause' || spec.target === 'node'
              ? `node ${spec.node ?? 0}`
              : `${Math.round((spec.fraction ?? 0.1) * 100)}% of clients`;
  return `${spec.type} (${whom}${spec.durationMs === undefined ? '' : `, ${(spec.durationMs / 1000).toFixed(1)} s`})`;
}
