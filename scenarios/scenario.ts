// A scenario is data: topology + clients + conversations + workload + faults + phases + checks +
// SLO thresholds. `validateScenario` checks a parsed JSON value once at the boundary and reports
// every problem at once (k6's Validate() []error); the result is frozen.

export const faultTypes = [
  'partition',
  'latency',
  'bandwidth',
  'timeout',
  'reset_peer',
  'node-crash',
  'node-pause',
  'store-outage',
  'slow-consumer',
  'reconnect-storm',
  'clock-offset',
] as const;
export type FaultType = (typeof faultTypes)[number];

export type FaultSpec = {
  type: FaultType;
  /** ms after the faults phase begins. */
  atMs: number;
  /** How long until the heal; faults without a duration (reset_peer, reconnect-storm) act once. */
  durationMs?: number;
  /** Share of clients touched (client-side faults), 0..1. */
  fraction?: number;
  /** Node index touched (node faults, partitions of a node). */
  node?: number;
  /** Extra parameters by type: latencyMs/jitterMs, bytesPerSec, offsetMs. */
  latencyMs?: number;
  jitterMs?: number;
  bytesPerSec?: number;
  offsetMs?: number;
  /** partition: 'clients' (clients cut from nodes), 'node' (a node cut from clients), 'store' (a node cut from the store). */
  target?: 'clients' | 'node' | 'store';
};

export type Scenario = {
  name: string;
  description: string;
  topology: { nodes: number; store: 'embedded' | 'shared' };
  network: {
    latencyMs: number;
    jitterMs: number;
    storeLatencyMs: number;
    busLatencyMs: number;
    fsyncMs: number;
  };
  clients: {
    /** Virtual clients (devices) in all; users = clients / devicesPerUser. */
    count: number;
    devicesPerUser: number;
    adversaries: number;
    jitter: boolean;
    /** Clients send `delivered` cursors (default true). */
    deliveredCursors?: boolean;
  };
  conversations: {
    /** Each user is in this many direct conversations (paired with neighbours). */
    directPerUser: number;
    groupSize: number;
    /** Share of users in one group of groupSize. */
    groupFraction: number;
    /** Large groups (above the node's large-group threshold): count and size. */
    largeGroups: number;
    largeGroupSize: number;
  };
  workload: {
    executor: 'constant-arrival-rate' | 'ramping-arrival-rate';
    /** Messages per virtual second per 1,000 clients (scales with --clients). */
    ratePer1kClients: number;
    /** ramping-arrival-rate: targets (fraction of the rate) reached at the end of each stage. */
    stages?: { durationMs: number; target: number }[];
    bodyBytes: number;
    readProbability: number;
    typingProbability: number;
    watchPerClient: number;
    /** Share of clients that go offline at some point, and for how long on average. */
    churnFraction: number;
    churnOfflineMs: number;
    /** Share of clients that leave when the run settles and stay offline: their watchers must see it. */
    leaveFraction: number;
    /** Membership changes per virtual minute (groups only). */
    membershipChangesPerMin: number;
  };
  phases: { warmupMs: number; faultsMs: number; healMs: number; settleMaxMs: number };
  faults: FaultSpec[];
  /** Swarm testing: each seed picks its own subset of these fault types and rates. */
  swarm?: { types: FaultType[]; count: number };
  limits: Record<string, number>;
  thresholds: { ackLatencyMsP99?: number; failedSendsMax?: number };
  checks?: string[];
};

export class ScenarioError extends Error {
  readonly code = 'CHATSIM_ERR_SCENARIO';
  constructor(
    readonly source: string,
    readonly problems: string[],
  ) {
    super(`${source}: ${problems.length} problem(s):\n  - ${problems.join('\n  - ')}`);
  }
}

type Shape = 'number' | 'string' | 'boolean';

/** Checks `value` against the scenario shape; every problem is reported, none thrown early. */
export function validateScenario(value: unknown, source: string): Scenario {
  const problems: string[] = [];
  const at = (path: string, v: unknown, shape: Shape, rule?: (x: never) => string | null): void => {
    if (typeof v !== shape) {
      problems.push(
        `${path} must be a ${shape}${v === undefined ? ' (missing)' : `, got ${JSON.stringify(v)}`}`,
      );
      return;
    }
    const verdict = rule?.(v as never);
    if (verdict) problems.push(`${path} ${verdict}`);
  };
  const obj = (path: string, v: unknown): Record<string, unknown> => {
    if (typeof v !== 'object' || v === null || Array.isArray(v)) {
      problems.push(`${path} must be an object`);
      return {};
    }
    return v as Record<string, unknown>;
  };
  const nonNeg = (x: number) => (Number.isFinite(x) && x >= 0 ? null : 'must be >= 0');
  const positiveInt = (x: number) => (Number.isInteger(x) && x > 0 ? null : 'must be a positive integer');
  const nonNegInt = (x: number) => (Number.isInteger(x) && x >= 0 ? null : 'must be an integer >= 0');
  const share = (x: number) => (x >= 0 && x <= 1 ? null : 'must be between 0 and 1');

  const root = obj('scenario', value);
  at('name', root.name, 'string', (x: string) => (/^[a-z0-9-]+$/.test(x) ? null : 'must be kebab-case'));
  at('description', root.description, 'string');
  const topology = obj('topology', root.topology);
  at('topology.nodes', topology.nodes, 'number', positiveInt);
  if (topology.store !== 'embedded' && topology.store !== 'shared')
    problems.push('topology.store must be "embedded" or "shared"');
  if (topology.store === 'embedded' && topology.nodes !== 1)
    problems.push('topology.store "embedded" needs exactly 1 node');
  const network = obj('network', root.network);
  for (const key of ['latencyMs', 'jitterMs', 'storeLatencyMs', 'busLatencyMs', 'fsyncMs'])
    at(`network.${key}`, network[key], 'number', nonNeg);
  const clients = obj('clients', root.clients);
  at('clients.count', clients.count, 'number', positiveInt);
  at('clients.devicesPerUser', clients.devicesPerUser, 'number', positiveInt);
  at('clients.adversaries', clients.adversaries, 'number', nonNegInt);
  at('clients.jitter', clients.jitter, 'boolean');
  const conversations = obj('conversations', root.conversations);
  for (const key of ['directPerUser', 'groupSize', 'largeGroups', 'largeGroupSize'])
    at(`conversations.${key}`, conversations[key], 'number', nonNegInt);
  at('conversations.groupFraction', conversations.groupFraction, 'number', share);
  const workload = obj('workload', root.workload);
  if (workload.executor !== 'constant-arrival-rate' && workload.executor !== 'ramping-arrival-rate')
    problems.push('workload.executor must be "constant-arrival-rate" or "ramping-arrival-rate"');
  for (const key of [
    'ratePer1kClients',
    'bodyBytes',
    'watchPerClient',
    'churnOfflineMs',
    'membershipChangesPerMin',
  ])
    at(`workload.${key}`, workload[key], 'number', nonNeg);
  for (const key of ['readProbability', 'typingProbability', 'churnFraction', 'leaveFraction'])
    at(`workload.${key}`, workload[key], 'number', share);
  if (typeof workload.bodyBytes === 'number' && workload.bodyBytes > 4096)
    problems.push('workload.bodyBytes must be <= 4096');
  if (workload.executor === 'ramping-arrival-rate') {
    if (!Array.isArray(workload.stages) || workload.stages.length === 0)
      problems.push('workload.stages must be a non-empty array for ramping-arrival-rate');
    else
      for (const [i, stage] of workload.stages.entries()) {
        const s = obj(`workload.stages[${i}]`, stage);
        at(`workload.stages[${i}].durationMs`, s.durationMs, 'number', positiveInt);
        at(`workload.stages[${i}].target`, s.target, 'number', nonNeg);
      }
  }
  const phases = obj('phases', root.phases);
  for (const key of ['warmupMs', 'faultsMs', 'healMs', 'settleMaxMs'])
    at(`phases.${key}`, phases[key], 'number', nonNegInt);
  if (!Array.isArray(root.faults)) problems.push('faults must be an array (empty for none)');
  else
    for (const [i, fault] of root.faults.entries())
      validateFault(fault, `faults[${i}]`, problems, topology.nodes);
  if (root.swarm !== undefined) {
    const swarm = obj('swarm', root.swarm);
    if (
      !Array.isArray(swarm.types) ||
      !swarm.types.every((t) => (faultTypes as readonly unknown[]).includes(t))
    )
      problems.push(`swarm.types must list fault types from: ${faultTypes.join(', ')}`);
    at('swarm.count', swarm.count, 'number', nonNegInt);
  }
  const limits = obj('limits', root.limits ?? {});
  for (const [key, v] of Object.entries(limits)) at(`limits.${key}`, v, 'number', positiveInt);
  const thresholds = obj('thresholds', root.thresholds ?? {});
  for (const [key, v] of Object.entries(thresholds)) {
    if (key !== 'ackLatencyMsP99' && key !== 'failedSendsMax')
      problems.push(`thresholds.${key} is not a known threshold`);
    else at(`thresholds.${key}`, v, 'number', nonNeg);
  }
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return deepFreeze({ ...root, limits, thresholds } as unknown as Scenario);
}

function validateFault(value: unknown, path: string, problems: string[], nodes: unknown): void {
  if (typeof value !== 'object' || value === null) {
    problems.push(`${path} must be an object`);
    return;
  }
  const fault = value as Record<string, unknown>;
  if (!(faultTypes as readonly unknown[]).includes(fault.type))
    problems.push(`${path}.type must be one of ${faultTypes.join(', ')}, got ${JSON.stringify(fault.type)}`);
  if (typeof fault.atMs !== 'number' || fault.atMs < 0) problems.push(`${path}.atMs must be a number >= 0`);
  if (fault.durationMs !== undefined && (typeof fault.durationMs !== 'number' || fault.durationMs <= 0))
    problems.push(`${path}.durationMs must be a number > 0`);
  if (
    fault.fraction !== undefined &&
    (typeof fault.fraction !== 'number' || fault.fraction < 0 || fault.fraction > 1)
  )
    problems.push(`${path}.fraction must be between 0 and 1`);
  if (
    fault.node !== undefined &&
    (typeof fault.node !== 'number' || typeof nodes !== 'number' || fault.node >= nodes)
  )
    problems.push(`${path}.node must be a node index below topology.nodes`);
}

/** A fault timeline from a file (`chatsim live --faults`): an array of faults, or `{faults: [...]}`. */
export function validateFaults(value: unknown, source: string, nodes: number): FaultSpec[] {
  const list = Array.isArray(value) ? value : (value as { faults?: unknown } | null)?.faults;
  if (!Array.isArray(list))
    throw new ScenarioError(source, ['must be an array of faults or {"faults": [...]}']);
  const problems: string[] = [];
  for (const [i, fault] of list.entries()) validateFault(fault, `faults[${i}]`, problems, nodes);
  if (problems.length > 0) throw new ScenarioError(source, problems);
  return deepFreeze(list as FaultSpec[]);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
