// The scenario fault vocabulary in Toxiproxy's terms: which toxics (or proxy bounces) a fault becomes,
// on which nodes, for what share of the clients and how long; and, by name, the faults that have no
// network meaning. Pure: LiveNetwork carries a plan out. Defaults follow the simulator's faults.

import type { FaultSpec, FaultType } from '../scenarios/scenario.ts';

export type ToxicSpec = {
  type: 'latency' | 'bandwidth' | 'timeout' | 'reset_peer';
  stream: 'upstream' | 'downstream';
  toxicity: number;
  attributes: Record<string, number>;
};

type Reach = {
  /** Share of client groups to touch (ignored when allGroups). */
  fraction: number;
  allGroups: boolean;
  /** Node indexes whose proxies are touched. */
  nodes: number[];
  /** How long the fault lasts before its heal; 0 acts once (heal at once, as the simulator does). */
  durationMs: number;
  summary: string;
};

export type NetworkFaultPlan =
  | { kind: 'none'; reason: string }
  | ({ kind: 'toxics'; toxics: ToxicSpec[] } & Reach)
  | ({ kind: 'bounce' } & Reach);

/** Defaults of the simulator's faults (simulator/faults/*), and how long the act-once ones last live. */
export const liveFaultDefaults = {
  fraction: 0.1,
  reconnectStormFraction: 0.5,
  latencyMs: 200,
  bandwidthBytesPerSec: 64 * 1024,
  slowConsumerBytesPerSec: 2 * 1024,
  /** A blackhole must last for clients to notice; removing it closes the connections (Toxiproxy). */
  timeoutMs: 5_000,
  /** reset_peer cuts connections as data crosses them, for this long. */
  resetPeerMs: 3_000,
} as const;

const noMeaning: Partial<Record<FaultType, string>> = {
  'node-crash': 'a process fault (SIGKILL and restart the node), not the network',
  'node-pause': 'a process fault (SIGSTOP/SIGCONT the node), not the network',
  'store-outage': "a dependency fault inside the node's store, not the client network",
  'clock-offset': "a node's clock, which no proxy can change",
  'rolling-restart': 'a process fault (drain and restart each node in turn), not the network',
  'redis-latency': "the path between nodes and Redis, not the client network (a fleet's own proxies)",
  'store-flaky': 'single requests lost between a node and its store, which no proxy toxic does',
};

/** Whether a fault type means something on the client network. */
export function liveNetworkMeaning(type: FaultType): { network: true } | { network: false; reason: string } {
  const reason = noMeaning[type];
  return reason ? { network: false, reason } : { network: true };
}

const both = (type: ToxicSpec['type'], attributes: Record<string, number>): ToxicSpec[] =>
  (['upstream', 'downstream'] as const).map((stream) => ({ type, stream, toxicity: 1, attributes }));

export function planNetworkFault(spec: FaultSpec, nodeCount: number): NetworkFaultPlan {
  const meaning = liveNetworkMeaning(spec.type);
  if (!meaning.network) return { kind: 'none', reason: meaning.reason };
  const everyNode = Array.from({ length: nodeCount }, (_, i) => i);
  const clients = (durationMs: number, summary: string) => ({
    fraction: spec.fraction ?? liveFaultDefaults.fraction,
    allGroups: false,
    nodes: everyNode,
    durationMs,
    summary,
  });
  const lasting = spec.durationMs ?? 0;
  switch (spec.type) {
    case 'partition': {
      if (spec.target === 'store')
        return { kind: 'none', reason: 'a node cut from its store is not on the client network' };
      const blackhole = both('timeout', { timeout: 0 });
      if (spec.target === 'node') {
        const node = (spec.node ?? 0) % nodeCount;
        const reach = {
          ...clients(lasting, 'blackhole both ways (timeout 0)'),
          allGroups: true,
          nodes: [node],
        };
        return { kind: 'toxics', toxics: blackhole, ...reach };
      }
      return { kind: 'toxics', toxics: blackhole, ...clients(lasting, 'blackhole both ways (timeout 0)') };
    }
    case 'timeout': {
      const durationMs = spec.durationMs ?? liveFaultDefaults.timeoutMs;
      return {
        kind: 'toxics',
        toxics: both('timeout', { timeout: 0 }),
        ...clients(durationMs, 'timeout 0 both ways'),
      };
    }
    case 'latency': {
      const latency = spec.latencyMs ?? liveFaultDefaults.latencyMs;
      const jitter = spec.jitterMs ?? 0;
      const summary = `latency ${latency} ms ± ${jitter} ms both ways`;
      return { kind: 'toxics', toxics: both('latency', { latency, jitter }), ...clients(lasting, summary) };
    }
    case 'bandwidth':
    case 'slow-consumer': {
      const fallback =
        spec.type === 'bandwidth'
          ? liveFaultDefaults.bandwidthBytesPerSec
          : liveFaultDefaults.slowConsumerBytesPerSec;
      // Toxiproxy's rate is in KB/s (1000 bytes); 0 would stall the link outright, so at least 1.
      const rate = Math.max(1, Math.round((spec.bytesPerSec ?? fallback) / 1000));
      const toxic: ToxicSpec = { type: 'bandwidth', stream: 'downstream', toxicity: 1, attributes: { rate } };
      return {
        kind: 'toxics',
        toxics: [toxic],
        ...clients(lasting, `bandwidth ${rate} KB/s server to client`),
      };
    }
    case 'reset_peer': {
      const durationMs = spec.durationMs ?? liveFaultDefaults.resetPeerMs;
      return {
        kind: 'toxics',
        toxics: both('reset_peer', { timeout: 0 }),
        ...clients(durationMs, 'reset_peer both ways'),
      };
    }
    case 'reconnect-storm':
      return {
        kind: 'bounce',
        ...clients(0, 'proxies disabled and re-enabled (every connection closed at once)'),
        fraction: spec.fraction ?? liveFaultDefaults.reconnectStormFraction,
      };
    default:
      return { kind: 'none', reason: `no live network mapping for ${spec.type}` };
  }
}
