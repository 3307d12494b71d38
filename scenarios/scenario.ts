// A scenario is data: topology + clients + conversations + workload + faults + phases + SLO
// thresholds. `validateScenario` checks a parsed JSON value once at the boundary against the schema
// (scenario-schema.ts), fills every default, and reports every problem at once, one per line
// (k6's Validate() []error); the result is frozen. `extends` is resolved before (extend-scenario.ts).

import { z } from 'zod';
import { type CheckProperty, checkProperties } from './check-properties.ts';
import { closestName } from './closest-name.ts';
import {
  faultSchema,
  foreignRecordForms,
  type ParsedScenario,
  scenarioSchema,
  faultTypes as schemaFaultTypes,
  swarmKnobs,
} from './scenario-schema.ts';
import { parseThreshold, type ThresholdMetric, thresholdMetricNames } from './thresholds.ts';

export const faultTypes = schemaFaultTypes;
export type FaultType = (typeof faultTypes)[number];
export { swarmKnobs };
export type SwarmKnob = (typeof swarmKnobs)[number];

/** Faults on the simulated disk under the real log store: they need `topology.engine` "log". */
export const diskFaultTypes: readonly FaultType[] = faultTypes.slice(faultTypes.indexOf('disk-torn-write'));

/**
 * One fault of the schedule, resolved: the file's values with the type's defaults filled in. Each
 * type accepts only its own parameters (scenario-schema.ts); this flat shape is what faults read.
 */
export type FaultSpec = {
  type: FaultType;
  /** ms after the faults phase begins. */
  atMs: number;
  /** How long until the heal; faults without a duration (timeout, reset_peer, reconnect-storm) act once. */
  durationMs?: number;
  /** Share of clients touched (client-side faults), 0..1; store-flaky: of the node's store requests lost. */
  fraction?: number;
  /** store-flaky: share of the replies to requests that reached the store lost on the way back. */
  repliesFraction?: number;
  /** Node index touched (node faults, partitions of a node). */
  node?: number;
  /** Extra parameters by type: latencyMs/jitterMs, bytesPerSec, offsetMs. */
  latencyMs?: number;
  jitterMs?: number;
  bytesPerSec?: number;
  offsetMs?: number;
  /** partition: 'clients' (clients cut from nodes), 'node' (a node cut from clients), 'store' (a node cut from the store), 'bus' (a node cut from the bus alone). */
  target?: 'clients' | 'node' | 'store' | 'bus';
  /** disk-bitflip: which synced file a bit flips in. */
  file?: 'checkpoint' | 'segment';
  /** disk-bitflip in a segment: the last segment, the sealed one before it, or either. */
  segment?: 'either' | 'last' | 'sealed';
  /** disk-torn-write: which sectors of the torn write survive. */
  sectors?: 'prefix' | 'any' | 'hole';
  /** disk-misdirected-write: whose record lands over the older one. */
  landing?: 'same-conversation' | 'same-seq' | 'any' | 'foreign';
  /**
   * disk-misdirected-write with landing 'foreign': the records a correct writer never writes that land,
   * one a crash-restart, in this order (foreignRecordForms says what each is).
   */
  forms?: ForeignRecordForm[];
  /** disk-lost-flush: what the power-off follows: a crash, a clean stop (drain, flush, final checkpoint), or the operator's first restart before the run (provisioning). */
  after?: 'crash' | 'clean-stop' | 'provisioning';
  /** disk-lost-flush: what the power-off takes, the segment's synced tail or the whole segment file. */
  lose?: 'tail' | 'file';
  /** disk-torn-write: the fewest whole log records the torn write holds; writes of fewer go by untouched. */
  writeRecordsMin?: number;
  /** disk-torn-write: where the tear falls, any sector boundary or one inside a frame's length field. */
  tornAt?: 'sector' | 'frame-length';
  /** disk-open-error: the error every open for reading fails with. */
  code?: 'EMFILE' | 'ENFILE' | 'EIO';
  /** disk-slow: how many times slower every disk operation gets. */
  slowFactor?: number;
  /** rolling-restart: how long each node stays stopped before it starts again (ms). */
  restartDelayMs?: number;
  /** node-crash: how long from its start the restarted node's store refuses every request it sends (ms). */
  storeRefusedAfterStartMs?: number;
  description?: string;
};

export { foreignRecordForms };
export type ForeignRecordForm = (typeof foreignRecordForms)[number];

export type Scenario = {
  name: string;
  description: string;
  /**
   * `engine`: 'log' runs the real log store on a simulated disk; 'model' a model store (scale runs);
   * 'memory' the real memory store in the node's process (`serve --store memory`; nothing survives it).
   */
  topology: {
    nodes: number;
    store: 'embedded' | 'shared';
    busLossOnDisconnect: boolean;
    engine: 'log' | 'model' | 'memory';
  };
  network: {
    latencyMs: number;
    jitterMs: number;
    storeLatencyMs: number;
    busLatencyMs: number;
    fsyncMs: number;
    /** How long the nodes' token check takes to answer a hello. */
    verifyMs: number;
  };
  clients: {
    /** Virtual clients (devices) in all; users = clients / devicesPerUser. */
    count: number;
    devicesPerUser: number;
    adversaries: number;
    jitter: boolean;
    /** The longest reconnect backoff (the bound doubles from 500 ms up to it; a welcome resets it). */
    reconnectCapMs: number;
    /** Clients send `delivered` cursors. */
    deliveredCursors: boolean;
    /** Share of users whose apps send only `read` cursors, never `delivered`. */
    readOnlyCursorsFraction: number;
    /** `limit` of each sync (a small page makes reads span pages). */
    syncLimit: number;
    /** Share of users whose devices dial only their home node (no failover while it is down). */
    pinnedFraction: number;
    /** Simulator: share of devices whose frames reach the node as text (the rest as decoded values). */
    textFraction: number;
    /** Simulator: share of devices that send their syncs after the hello, before the welcome. */
    pipelineFraction: number;
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
    /** Groups of exactly the large-group threshold's size: the biggest that still get pushes. */
    thresholdGroups: number;
  };
  workload: {
    executor: 'constant-arrival-rate' | 'ramping-arrival-rate';
    /** Messages per virtual second per 1,000 clients (scales with --clients). */
    ratePer1kClients: number;
    /** ramping-arrival-rate: targets (fraction of the rate) reached at the end of each stage. */
    stages?: { durationMs: number; target: number }[];
    bodyBytes: number;
    /** Share of sends with the protocol's largest body (multi-byte and JSON-escaped characters). */
    largeBodyShare: number;
    readProbability: number;
    typingProbability: number;
    watchPerClient: number;
    /** Share of clients that go offline at some point, and for how long on average. */
    churnFraction: number;
    churnOfflineMs: number;
    /** Share of users who leave when the run settles, all devices, and stay offline: their watchers must see it. */
    leaveFraction: number;
    awayUsers: number;
    /** When awayUsers go away, [from, until] ms from the faults phase's start (default: its first half). */
    awayWindowMs?: [number, number];
    /** Users who send past their burst in one instant in the warm-up, then send below the rate (rate-limit). */
    pressers: number;
    /** The pressers' press is the node's first sends: they dial first and press before anyone else sends (simulator only). */
    firstPress: boolean;
    /** Users who type in one conversation every 250 ms late in the warm-up, past the typing throttle (simulator only). */
    typists: number;
    /** Devices that send their last acked message again on each session after their first, as an app that lost the ack (simulator only). */
    resenders: number;
    /** Membership changes per virtual minute (groups only). */
    membershipChangesPerMin: number;
    /** Small groups whose every member an admin removes in one change mid-run (simulator only). */
    emptiedGroups: number;
    /** Users with every phone off whom an admin adds to a group, then removes once a message is acked (simulator only). */
    offlineVisitors: number;
    /** Rounds of admin requests whose answer protocol.md fixes, valid and invalid (simulator only). */
    adminProbes: number;
    /** Users reading a conversation's messages over HTTP, per virtual minute (simulator only). */
    httpReadsPerMin: number;
    /** Users per round the admin makes members of a group while their node is cut from the bus (simulator only). */
    staleWelcomes: number;
    /** Times (from the faults phase) at which a new group's bus event races a member's welcome read on a node slow to Redis. */
    welcomeRacesAtMs: number[];
    /** A member who stays sends through another node than the admin's this long before each removal. */
    sendBeforeRemovalMs: number;
    /** With sendBeforeRemovalMs: the removal also waits for that message's ack. */
    removalAfterAck: boolean;
    /** With removalAfterAck: times (from the faults phase) at which a removal races a message sent through a node slow to Redis. */
    removalRacesAtMs: number[];
    /** On a fleet with a window of lost store replies: two of a sender's messages pushed from a gap fill, heard late and never. */
    unheardRace: boolean;
    /** Times (from the faults phase) at which a membership change races a message to a third node, whose group then goes cursor-free. */
    quietRacesAtMs: number[];
    /** Times (from the faults phase) at which the admin creates a group whose listener on another node hears of it from the bus alone. */
    listenerRacesAtMs: number[];
    /** Right after each membership change is answered, a member on another node sends to the group. */
    sendAfterMembershipChange: boolean;
  };
  phases: { warmupMs: number; faultsMs: number; healMs: number; settleMaxMs: number };
  /** Simulator only: the cost model that gives node steps a service time (scenarios/cost-model/). */
  costModel?: string;
  faults: FaultSpec[];
  /** Swarm testing: each seed picks its own subset of these fault types and rates. */
  swarm?: { types: FaultType[]; count: number; draw?: SwarmKnob[] };
  /** Properties the scenario does not judge (each reported as skipped, never as a pass). */
  checks: { skip: CheckProperty[]; presenceKnownWithinMs?: number; slowConsumersPassBound?: boolean };
  /** The node limits the scenario sets; the rest are the node's own defaults. */
  limits: Record<string, number>;
  /** SLO thresholds in k6 syntax per metric (thresholds.ts), e.g. `{ ackLatency: ['p(99)<250'] }`. */
  thresholds: Record<ThresholdMetric, string[]>;
  /**
   * Live runs only: lists that replace those metrics' `thresholds` where a live run pays a cost the
   * simulation does not model (a real process's start-up, say), and why, measured (withLiveThresholds).
   */
  liveThresholds?: { why: string } & Partial<Record<ThresholdMetric, string[]>>;
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

/**
 * Checks `value` (a parsed scenario file, `extends` already resolved) against the schema; every
 * problem is reported, none thrown early. `name` defaults to `defaultName` (the file's name).
 */
export function validateScenario(value: unknown, source: string, defaultName?: string): Scenario {
  const parsed = scenarioSchema.safeParse(value, { reportInput: true });
  const problems = parsed.success ? [] : formatIssues(parsed.error.issues);
  problems.push(...crossFieldProblems(value));
  if (!parsed.success || problems.length > 0) throw new ScenarioError(source, problems);
  const { $schema: _schema, extends: base, ...scenario } = parsed.data;
  if (base !== undefined)
    throw new ScenarioError(source, [`extends "${base}" was not resolved: load the file with loadScenario`]);
  const name = scenario.name ?? defaultName;
  if (name === undefined)
    throw new ScenarioError(source, ['name is missing (and there is no file name to use)']);
  return deepFreeze({
    ...scenario,
    name,
    topology: { ...scenario.topology, store: scenario.topology.store ?? storeFor(scenario.topology.nodes) },
    thresholds: migrateThresholds(scenario.thresholds),
  } satisfies Scenario);
}

/** The scenario as a live run judges it: `liveThresholds` replace those metrics' lists, and are spent. */
export function withLiveThresholds(scenario: Scenario): Scenario {
  const { liveThresholds, ...rest } = scenario;
  if (liveThresholds === undefined) return scenario;
  const { why: _why, ...lists } = liveThresholds;
  return { ...rest, thresholds: { ...scenario.thresholds, ...lists } };
}

function storeFor(nodes: number): 'embedded' | 'shared' {
  return nodes === 1 ? 'embedded' : 'shared';
}

/** The pre-k6 keys (`ackLatencyMsP99: N`, `failedSendsMax: N`) still work: they become expressions. */
function migrateThresholds(thresholds: ParsedScenario['thresholds']): Scenario['thresholds'] {
  const { ackLatencyMsP99, failedSendsMax, ...k6 } = thresholds;
  return {
    ...k6,
    ackLatency: [...k6.ackLatency, ...(ackLatencyMsP99 === undefined ? [] : [`p(99)<=${ackLatencyMsP99}`])],
    failedSends: [...k6.failedSends, ...(failedSendsMax === undefined ? [] : [`count<=${failedSendsMax}`])],
  };
}

function pathOf(path: readonly PropertyKey[]): string {
  let text = '';
  for (const part of path)
    text += typeof part === 'number' ? `[${part}]` : `${text === '' ? '' : '.'}${String(part)}`;
  return text === '' ? 'scenario' : text;
}

/** One line per problem: the path, then what is wrong and, where it helps, what was meant. */
function formatIssues(issues: readonly z.core.$ZodIssue[]): string[] {
  const lines: string[] = [];
  for (const issue of issues) {
    const path = pathOf(issue.path);
    const got = 'input' in issue && issue.input !== undefined ? `, got ${JSON.stringify(issue.input)}` : '';
    switch (issue.code) {
      case 'unrecognized_keys':
        for (const line of issue.message.split('\n')) {
          const [key, rest] = line.split('\u0000') as [string, string];
          lines.push(`${path === 'scenario' ? key : `${path}.${key}`} ${rest}`);
        }
        break;
      case 'invalid_type':
        lines.push(
          `${path} must be ${article(issue.expected)}${issue.input === undefined ? ' (missing)' : got}`,
        );
        break;
      case 'invalid_union': {
        const options = (issue as { options?: unknown[] }).options;
        if (options !== undefined) {
          // A fault whose type is unknown: its other fields cannot be checked until it is known.
          const input = record(issue.input).type;
          const near = typeof input === 'string' ? closestName(input, options.map(String)) : undefined;
          lines.push(
            `${path} must be one of ${options.join(', ')}, got ${JSON.stringify(input)}${near ? `; did you mean "${near}"?` : ''}`,
          );
        } else lines.push(`${path} ${issue.message}${got}`);
        break;
      }
      case 'invalid_value': {
        const values = issue.values.map(String);
        const near = typeof issue.input === 'string' ? closestName(issue.input, values) : undefined;
        lines.push(
          `${path} must be ${values.length === 1 ? JSON.stringify(issue.values[0]) : `one of ${values.map((v) => JSON.stringify(v)).join(', ')}`}${got}${near ? `; did you mean "${near}"?` : ''}`,
        );
        break;
      }
      case 'too_small':
        lines.push(
          `${path} must be ${issue.origin === 'array' ? `a list of at least ${issue.minimum}` : `${issue.inclusive ? '>=' : '>'} ${issue.minimum}`}${got}`,
        );
        break;
      case 'too_big':
        lines.push(
          `${path} must be ${issue.origin === 'array' ? `a list of at most ${issue.maximum}` : `${issue.inclusive ? '<=' : '<'} ${issue.maximum}`}${got}`,
        );
        break;
      case 'invalid_format':
        lines.push(`${path} ${issue.message}${got}`);
        break;
      case 'not_multiple_of':
        lines.push(
          `${path} must be ${issue.divisor === 1 ? 'an integer' : `a multiple of ${issue.divisor}`}${got}`,
        );
        break;
      default:
        lines.push(`${path} ${issue.message}${got}`);
    }
  }
  return lines;
}

function article(expected: string): string {
  if (expected === 'int') return 'an integer';
  return /^[aeiou]/.test(expected) ? `an ${expected}` : `a ${expected}`;
}

/**
 * The swarm draws its faults within the faults phase and every one heals at the heal phase, so in the
 * worst draw the store is down for the whole window (seed 97193650380004: four disk faults back to back,
 * 16 s). The virtual client keeps retrying a send for `sendPatienceMs` (simulator/client/limits.ts,
 * 30 s; a test keeps the two in step): the window plus a margin for the store's recovery must fit in it,
 * so that a failed send in a swarm run is a defect, never the calibration.
 */
export const swarmFaultsMsMax = 20_000;
/** Time the store may take to come back (recovery, a retry wait) after the last fault heals. */
export const swarmRecoveryMarginMs = 10_000;

/**
 * Rules that span fields, checked on the raw value so they are reported with the rest (a schema
 * refinement would run only once every field is valid).
 */
function crossFieldProblems(value: unknown): string[] {
  const problems: string[] = [];
  const root = record(value);
  const topology = record(root.topology);
  const nodes = typeof topology.nodes === 'number' ? topology.nodes : 1;
  if (topology.store === 'embedded' && nodes !== 1)
    problems.push(`topology.store "embedded" needs exactly 1 node, got ${nodes}; use "shared"`);
  const shared = topology.store === 'shared' || (topology.store === undefined && nodes > 1);
  const swarmTypes = record(root.swarm).types;
  const named = [
    ...(Array.isArray(root.faults) ? root.faults.map((fault) => record(fault).type) : []),
    ...(Array.isArray(swarmTypes) ? swarmTypes : []),
  ];
  if (!shared && named.includes('redis-latency'))
    problems.push(
      'redis-latency slows the nodes\' path to a shared store and bus (Redis): it needs topology.store "shared"',
    );
  if (!shared && named.includes('store-flaky'))
    problems.push(
      'store-flaky loses requests on a node\'s path to a shared store (Redis): it needs topology.store "shared"',
    );
  if (topology.engine === 'memory') {
    if (nodes !== 1 || topology.store === 'shared')
      problems.push(
        `topology.engine "memory" is the memory of one node's process (serve --store memory): it needs exactly 1 node and the embedded store, got ${nodes} node(s)${topology.store === 'shared' ? ' and "shared"' : ''}`,
      );
  }
  if (topology.engine === 'model' || topology.engine === 'memory') {
    const swarmTypes = record(root.swarm).types;
    const types = [
      ...(Array.isArray(root.faults) ? root.faults.map((fault) => record(fault).type) : []),
      ...(Array.isArray(swarmTypes) ? swarmTypes : []),
    ].filter((type) => (diskFaultTypes as readonly unknown[]).includes(type));
    if (types.length > 0)
      problems.push(
        `disk faults (${[...new Set(types)].join(', ')}) need the real log store: drop topology.engine "${topology.engine}"`,
      );
  }
  const skip = record(root.checks).skip;
  if (Array.isArray(skip) && checkProperties.every((property) => skip.includes(property)))
    problems.push(
      'checks.skip names every property: the run would judge nothing (a gate must never be green by accident)',
    );
  const workload = record(root.workload);
  const ramping = workload.executor === 'ramping-arrival-rate';
  if (ramping && (!Array.isArray(workload.stages) || workload.stages.length === 0))
    problems.push('workload.stages must be a non-empty list for ramping-arrival-rate');
  if (!ramping && workload.stages !== undefined)
    problems.push('workload.stages applies to ramping-arrival-rate only; set workload.executor or remove it');
  const phases = record(root.phases);
  const faultsMs = typeof phases.faultsMs === 'number' ? phases.faultsMs : 16_000;
  if (root.swarm !== undefined && faultsMs > swarmFaultsMsMax)
    problems.push(
      `phases.faultsMs must be at most ${swarmFaultsMsMax} in a swarm scenario, got ${faultsMs}: the faults a seed draws may keep the store down for the whole window, and the virtual client keeps a send only ${swarmFaultsMsMax + swarmRecoveryMarginMs} ms, so a longer window would fail sends by design and the failedSends SLO would go red on calibration, not on a defect`,
    );
  if (Array.isArray(root.faults))
    problems.push(...faultProblems(root.faults, nodes, faultsMs, topology.busLossOnDisconnect === true));
  for (const key of ['thresholds', 'liveThresholds'] as const) {
    const thresholds = record(root[key]);
    for (const metric of thresholdMetricNames) {
      const expressions = thresholds[metric];
      if (!Array.isArray(expressions)) continue;
      for (const [i, expression] of expressions.entries()) {
        if (typeof expression !== 'string') continue;
        const parsed = parseThreshold(metric, expression);
        if (typeof parsed === 'string') problems.push(`${key}.${metric}[${i}] ${parsed}`);
      }
    }
  }
  return problems;
}

function faultProblems(
  faults: readonly unknown[],
  nodes: number,
  faultsMs: number,
  busLoss: boolean,
): string[] {
  const problems: string[] = [];
  for (const [i, raw] of faults.entries()) {
    const fault = record(raw);
    const path = `faults[${i}]`;
    if (typeof fault.node === 'number' && fault.node >= nodes)
      problems.push(`${path}.node must be a node index below topology.nodes (${nodes}), got ${fault.node}`);
    if (typeof fault.atMs === 'number' && fault.atMs >= faultsMs)
      problems.push(
        `${path}.atMs must be within the faults phase (below phases.faultsMs = ${faultsMs}), got ${fault.atMs}: a fault starting later would be healed at once`,
      );
    if (fault.type === 'partition') {
      const target = fault.target ?? 'clients';
      if (target === 'clients' && fault.node !== undefined)
        problems.push(`${path}.node applies to partitions with target "node", "store" or "bus"`);
      if (target === 'bus' && !busLoss)
        problems.push(
          `${path}: a partition with target "bus" needs topology.busLossOnDisconnect (the bus is Redis pub/sub, which keeps nothing for a node cut from it); without it the cut would do nothing`,
        );
      if (target !== 'clients' && fault.fraction !== undefined)
        problems.push(`${path}.fraction applies to partitions with target "clients"`);
    }
  }
  return problems;
}

function record(value: unknown): Record<string, unknown> {
  return typeof value === 'object' && value !== null && !Array.isArray(value)
    ? (value as Record<string, unknown>)
    : {};
}

/** A fault timeline from a file (`chatsim live --faults`): an array of faults, or `{faults: [...]}`. */
export function validateFaults(value: unknown, source: string, nodes: number): FaultSpec[] {
  const list = Array.isArray(value) ? value : (value as { faults?: unknown } | null)?.faults;
  if (!Array.isArray(list))
    throw new ScenarioError(source, ['must be an array of faults or {"faults": [...]}']);
  const parsed = z.array(faultSchema).safeParse(list, { reportInput: true });
  const problems = parsed.success
    ? []
    : formatIssues(parsed.error.issues.map((issue) => ({ ...issue, path: ['faults', ...issue.path] })));
  // A live target's bus is what it is: live-faults.ts refuses a cut it cannot make.
  problems.push(...faultProblems(list, nodes, Number.POSITIVE_INFINITY, true));
  if (!parsed.success || problems.length > 0) throw new ScenarioError(source, problems);
  return deepFreeze(parsed.data);
}

function deepFreeze<T>(value: T): T {
  if (typeof value === 'object' && value !== null) {
    for (const inner of Object.values(value)) deepFreeze(inner);
    Object.freeze(value);
  }
  return value;
}
