// Fleet sizing from a measured capacity sweep: how many nodes, how much Redis and how much store a
// target population needs, with every step of the arithmetic written out so a reader can check it
// (and change an assumption). Pure: the CLI reads the sweep and prints `plan.lines`.
//
// Per node, the sweep gives the most connections, acked msgs/s and displayed deliveries/s any held
// step reached (knee.lastHeld and everything before it). A sweep whose connection steps never broke
// gives a lower bound for connections, and the plan says so. Nodes run at `headroom` of what held
// (0.5: plan for half the measured capacity); throughput across N nodes is N x per node x the 1->N
// scaling efficiency, measured from a fleet sweep when given, otherwise an assumed value, said.

import type { CapacityReport } from './capacity-sweep.ts';

export type GroupShare = { size: number; share: number };

export type PlanInput = {
  targetOnline: number;
  msgsPerUserHour: number;
  devicesPerUser: number;
  /** Share of messages sent to conversations of each size (members, sender included); shares sum to 1. */
  groupSizeMix: GroupShare[];
  /** Share of the held capacity a node is planned to use (0 < headroom <= 1). */
  headroom: number;
  /** A sweep of one node. */
  node: CapacityReport;
  /** A sweep of a fleet of `fleetNodes` nodes over Redis, for the scaling efficiency. */
  fleet?: { report: CapacityReport; nodes: number };
  /** Used when no fleet sweep is given. */
  assumedScalingEfficiency: number;
  /** Node memory planned for connections (bytes), a bound alongside the measured connections. */
  nodeMemoryBytes: number;
  /** Redis CPU per message (µs): one Redis shard is one core. */
  redisCpuUsPerMsg: number;
  /** Durable writes per second one store node sustains (Cassandra), and the replication factor. */
  storeWritesPerSecPerNode: number;
  storeReplication: number;
  bodyBytes: number;
  storeOverheadBytes: number;
  retentionDays: number;
};

export type PerNodeCapacity = {
  connections: number;
  /** true: every connections step held, so `connections` is only a lower bound. */
  connectionsLowerBound: boolean;
  msgsPerSec: number;
  deliveriesPerSec: number;
  bytesPerConnection: number | null;
};

export type FleetPlan = {
  perNode: PerNodeCapacity;
  scalingEfficiency: number;
  scalingMeasured: boolean;
  nodes: number;
  /** Which bound set the node count. */
  boundBy: 'connections' | 'memory' | 'msgs/s' | 'deliveries/s';
  redisShards: number;
  storeNodes: number;
  storeBytes: number;
  lines: string[];
};

export class PlanError extends Error {
  readonly code = 'CHATSIM_ERR_PLAN';
}

/** The most a held step of the sweep reached, per dimension. */
export function perNodeCapacity(report: CapacityReport): PerNodeCapacity {
  const held = report.steps.filter((s) => s.held);
  if (held.length === 0)
    throw new PlanError(
      `the sweep of ${report.scenario} has no step that held (${report.knee.describe}): run it from a lower load`,
    );
  const mean = (values: number[]) => values.reduce((a, b) => a + b, 0) / values.length;
  const connectionSteps = report.steps.filter((s) => s.phase === 'connections');
  const bytes = held
    .flatMap((s) => s.repeats.map((r) => r.serverBytesPerConnection))
    .filter((b) => b !== null);
  return {
    connections: Math.max(...held.map((s) => s.clients)),
    connectionsLowerBound: connectionSteps.every((s) => s.held),
    msgsPerSec: Math.max(...held.map((s) => mean(s.repeats.map((r) => r.ackedPerSec)))),
    deliveriesPerSec: Math.max(...held.map((s) => mean(s.repeats.map((r) => r.displayedPerSec)))),
    bytesPerConnection: bytes.length === 0 ? null : Math.max(...(bytes as number[])),
  };
}

export function parseGroupSizeMix(text: string): GroupShare[] {
  const mix = text.split(',').map((part) => {
    const [size, share] = part.split(':').map((v) => Number(v.trim()));
    if (!Number.isInteger(size) || size! < 2 || !Number.isFinite(share) || share! <= 0 || share! > 1)
      throw new PlanError(
        `--group-size-mix "${part}": each entry is SIZE:SHARE, SIZE the members (2 for 1:1), SHARE of messages, e.g. 2:0.8,8:0.15,150:0.05`,
      );
    return { size: size!, share: share! };
  });
  const total = mix.reduce((a, g) => a + g.share, 0);
  if (Math.abs(total - 1) > 0.001) throw new PlanError(`--group-size-mix shares add up to ${total}, not 1`);
  return mix;
}

const int = (n: number) => Math.round(n).toLocaleString('en-US');
const num = (n: number, digits = 2) => n.toLocaleString('en-US', { maximumFractionDigits: digits });
const gib = (bytes: number) => `${num(bytes / 2 ** 30, 1)} GiB`;

export function planFleet(input: PlanInput): FleetPlan {
  if (!(input.headroom > 0 && input.headroom <= 1)) throw new PlanError('--headroom takes a share in (0, 1]');
  const perNode = perNodeCapacity(input.node);
  const lines: string[] = [];
  const say = (line: string) => lines.push(line);

  // ---- demand --------------------------------------------------------------------------------
  const connections = input.targetOnline * input.devicesPerUser;
  const msgsPerSec = (input.targetOnline * input.msgsPerUserHour) / 3600;
  const recipientsPerMsg = input.groupSizeMix.reduce((a, g) => a + g.share * (g.size - 1), 0);
  // Every device of every other member online gets the message (the sender's other devices too).
  const devicesPerMsg = recipientsPerMsg * input.devicesPerUser + (input.devicesPerUser - 1);
  const deliveriesPerSec = msgsPerSec * devicesPerMsg;
  say('Demand');
  say(
    `  connections      = ${int(input.targetOnline)} users online x ${num(input.devicesPerUser)} devices = ${int(connections)}`,
  );
  say(
    `  messages/s       = ${int(input.targetOnline)} x ${num(input.msgsPerUserHour)} msgs/user/h / 3600 = ${num(msgsPerSec, 1)}`,
  );
  say(
    `  deliveries/s     = ${num(msgsPerSec, 1)} x (${input.groupSizeMix.map((g) => `${g.share}x${g.size - 1}`).join(' + ')} = ${num(recipientsPerMsg)} other members x ${num(input.devicesPerUser)} devices + ${num(input.devicesPerUser - 1)} own) = ${num(deliveriesPerSec, 1)}`,
  );

  // ---- per node ------------------------------------------------------------------------------
  say(
    `Per node (measured: ${input.node.scenario} against ${input.node.target}, ${input.node.knee.describe})`,
  );
  say(
    `  connections held  ${int(perNode.connections)}${perNode.connectionsLowerBound ? ' (every connections step held: a LOWER BOUND, step further to find the limit)' : ''}`,
  );
  say(`  msgs/s held       ${num(perNode.msgsPerSec, 1)} acked`);
  say(`  deliveries/s held ${num(perNode.deliveriesPerSec, 1)} displayed`);
  say(
    `  memory/connection ${perNode.bytesPerConnection === null ? 'not measured (memory bound left out)' : `${num(perNode.bytesPerConnection / 1024, 1)} KiB`}`,
  );

  // ---- scaling -------------------------------------------------------------------------------
  let scalingEfficiency = input.assumedScalingEfficiency;
  const scalingMeasured = input.fleet !== undefined;
  if (input.fleet) {
    const fleetNode = perNodeCapacity(input.fleet.report);
    scalingEfficiency = fleetNode.msgsPerSec / (input.fleet.nodes * perNode.msgsPerSec);
    say(
      `Scaling 1->${input.fleet.nodes} nodes (measured) = ${num(fleetNode.msgsPerSec, 1)} msgs/s held by ${input.fleet.nodes} nodes / (${input.fleet.nodes} x ${num(perNode.msgsPerSec, 1)}) = ${num(scalingEfficiency)}`,
    );
  } else
    say(
      `Scaling 1->N nodes: ASSUMED ${num(scalingEfficiency)} (no fleet sweep given: --fleet-from capacity.json --fleet-nodes 3)`,
    );
  if (!(scalingEfficiency > 0)) throw new PlanError('the scaling efficiency must be above 0');

  // ---- nodes ---------------------------------------------------------------------------------
  const h = input.headroom;
  say(
    `Nodes (each planned at ${num(h * 100, 0)}% of what held; throughput per node x scaling ${num(scalingEfficiency)})`,
  );
  const bounds: { name: FleetPlan['boundBy']; nodes: number }[] = [];
  const bound = (name: FleetPlan['boundBy'], need: number, perNodeUsable: number, text: string) => {
    const nodes = Math.ceil(need / perNodeUsable);
    bounds.push({ name, nodes });
    say(`  by ${name.padEnd(13)} ${text} = ${int(nodes)}`);
  };
  bound(
    'connections',
    connections,
    perNode.connections * h,
    `ceil(${int(connections)} / (${int(perNode.connections)} x ${h}))`,
  );
  if (perNode.bytesPerConnection !== null) {
    const perNodeByMemory = input.nodeMemoryBytes / perNode.bytesPerConnection;
    bound(
      'memory',
      connections,
      perNodeByMemory * h,
      `ceil(${int(connections)} / (${gib(input.nodeMemoryBytes)} / ${num(perNode.bytesPerConnection / 1024, 1)} KiB x ${h}))`,
    );
  }
  bound(
    'msgs/s',
    msgsPerSec,
    perNode.msgsPerSec * h * scalingEfficiency,
    `ceil(${num(msgsPerSec, 1)} / (${num(perNode.msgsPerSec, 1)} x ${h} x ${num(scalingEfficiency)}))`,
  );
  if (perNode.deliveriesPerSec > 0)
    bound(
      'deliveries/s',
      deliveriesPerSec,
      perNode.deliveriesPerSec * h * scalingEfficiency,
      `ceil(${num(deliveriesPerSec, 1)} / (${num(perNode.deliveriesPerSec, 1)} x ${h} x ${num(scalingEfficiency)}))`,
    );
  const top = bounds.reduce((a, b) => (b.nodes > a.nodes ? b : a));
  say(`  => ${int(top.nodes)} nodes, bound by ${top.name}`);

  // ---- Redis ---------------------------------------------------------------------------------
  const redisCoreShare = (msgsPerSec * input.redisCpuUsPerMsg) / 1e6;
  const redisShards = Math.max(1, Math.ceil(redisCoreShare / h));
  say('Redis (bus + presence; one shard = one core)');
  say(
    `  CPU = ${num(msgsPerSec, 1)} msgs/s x ${num(input.redisCpuUsPerMsg, 1)} us/msg = ${num(redisCoreShare)} cores; shards = ceil(${num(redisCoreShare)} / ${h}) = ${int(redisShards)}`,
  );

  // ---- store ---------------------------------------------------------------------------------
  const writes = msgsPerSec * input.storeReplication;
  const storeNodes = Math.max(
    input.storeReplication,
    Math.ceil(writes / (input.storeWritesPerSecPerNode * h)),
  );
  const storeBytes =
    msgsPerSec *
    86_400 *
    input.retentionDays *
    (input.bodyBytes + input.storeOverheadBytes) *
    input.storeReplication;
  say('Store (Cassandra)');
  say(
    `  writes/s = ${num(msgsPerSec, 1)} x RF ${input.storeReplication} = ${num(writes, 1)}; nodes = max(RF, ceil(${num(writes, 1)} / (${int(input.storeWritesPerSecPerNode)} x ${h}))) = ${int(storeNodes)}`,
  );
  say(
    `  disk = ${num(msgsPerSec, 1)} x 86,400 s x ${input.retentionDays} d x (${input.bodyBytes} + ${input.storeOverheadBytes} B) x RF ${input.storeReplication} = ${gib(storeBytes)}`,
  );

  return {
    perNode,
    scalingEfficiency,
    scalingMeasured,
    nodes: top.nodes,
    boundBy: top.name,
    redisShards,
    storeNodes,
    storeBytes,
    lines,
  };
}
