// `chatsim capacity --plan`: fleet sizing from a measured sweep (capacity.json of `chatsim capacity
// --report`). Every figure it did not measure is a flag with its default said in --help and in the
// output, so an assumption is never hidden in the arithmetic.

import { readFileSync } from 'node:fs';
import { type Command, InvalidArgumentError } from 'commander';
import type { CapacityReport } from '../capacity/capacity-sweep.ts';
import { PlanError, parseGroupSizeMix, planFleet } from '../capacity/fleet-plan.ts';
import { CliError, type CliIo } from './cli-error.ts';

export type PlanFlags = {
  plan?: boolean;
  targetOnline?: number;
  msgsPerUserHour?: number;
  devicesPerUser: number;
  groupSizeMix: string;
  from?: string;
  fleetFrom?: string;
  fleetNodes?: number;
  headroom: number;
  scalingEfficiency: number;
  nodeMemoryGib: number;
  redisCpuUsPerMsg: number;
  storeWritesPerSec: number;
  storeReplication: number;
  bodyBytes: number;
  storeOverheadBytes: number;
  retentionDays: number;
  json?: boolean;
};

const positive = (value: string): number => {
  const n = Number(value);
  if (!Number.isFinite(n) || n <= 0) throw new InvalidArgumentError('takes a positive number');
  return n;
};

export function addPlanFlags(command: Command): Command {
  return command
    .option('--plan', 'size a fleet from a measured sweep instead of running one (with --from)')
    .option('--from <file>', 'capacity.json of a one-node sweep (chatsim capacity --nodes 1 --report DIR)')
    .option('--target-online <n>', 'users online at once', positive)
    .option('--msgs-per-user-hour <n>', 'messages each online user sends per hour', positive)
    .option('--devices-per-user <n>', 'connected devices per online user', positive, 1)
    .option(
      '--group-size-mix <mix>',
      'share of messages per conversation size, SIZE:SHARE,... (2 = 1:1)',
      '2:1',
    )
    .option(
      '--fleet-from <file>',
      'capacity.json of a fleet sweep (--nodes N) for the measured scaling efficiency',
    )
    .option('--fleet-nodes <n>', 'nodes of the --fleet-from sweep', positive)
    .option('--headroom <share>', 'share of the held capacity each node is planned to use', positive, 0.5)
    .option(
      '--scaling-efficiency <share>',
      'ASSUMED 1->N throughput efficiency when no --fleet-from is given',
      positive,
      0.7,
    )
    .option('--node-memory-gib <n>', 'memory per node for connections', positive, 16)
    .option(
      '--redis-cpu-us-per-msg <n>',
      'Redis CPU per message (default: 21.7 us, measured on 3 nodes over Redis, docs/benchmarks.md)',
      positive,
      21.7,
    )
    .option(
      '--store-writes-per-sec <n>',
      'ASSUMED durable writes/s per store (Cassandra) node',
      positive,
      10_000,
    )
    .option('--store-replication <n>', 'store replication factor', positive, 3)
    .option('--body-bytes <n>', 'mean message body', positive, 64)
    .option('--store-overhead-bytes <n>', 'ASSUMED stored bytes per message beyond the body', positive, 100)
    .option('--retention-days <n>', 'days of messages the store keeps', positive, 30);
}

function readSweep(path: string, flag: string): CapacityReport {
  try {
    const value = JSON.parse(readFileSync(path, 'utf8')) as CapacityReport;
    if (!Array.isArray(value.steps) || typeof value.knee !== 'object')
      throw new Error('not a capacity.json (no steps, no knee)');
    return value;
  } catch (error) {
    throw new CliError('CHATSIM_ERR_USAGE', `${flag} ${path}: ${(error as Error).message}`);
  }
}

export async function planCommand(flags: PlanFlags, io: CliIo): Promise<number> {
  const missing = (['from', 'targetOnline', 'msgsPerUserHour'] as const).filter(
    (k) => flags[k] === undefined,
  );
  if (missing.length > 0)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      `--plan needs ${missing.map((k) => `--${k.replace(/[A-Z]/g, (c) => `-${c.toLowerCase()}`)}`).join(', ')}`,
    );
  if ((flags.fleetFrom === undefined) !== (flags.fleetNodes === undefined))
    throw new CliError('CHATSIM_ERR_USAGE', '--fleet-from and --fleet-nodes go together');
  try {
    const plan = planFleet({
      targetOnline: flags.targetOnline!,
      msgsPerUserHour: flags.msgsPerUserHour!,
      devicesPerUser: flags.devicesPerUser,
      groupSizeMix: parseGroupSizeMix(flags.groupSizeMix),
      headroom: flags.headroom,
      node: readSweep(flags.from!, '--from'),
      ...(flags.fleetFrom === undefined
        ? {}
        : { fleet: { report: readSweep(flags.fleetFrom, '--fleet-from'), nodes: flags.fleetNodes! } }),
      assumedScalingEfficiency: flags.scalingEfficiency,
      nodeMemoryBytes: flags.nodeMemoryGib * 2 ** 30,
      redisCpuUsPerMsg: flags.redisCpuUsPerMsg,
      storeWritesPerSecPerNode: flags.storeWritesPerSec,
      storeReplication: flags.storeReplication,
      bodyBytes: flags.bodyBytes,
      storeOverheadBytes: flags.storeOverheadBytes,
      retentionDays: flags.retentionDays,
    });
    if (flags.json) io.out(JSON.stringify(plan));
    else
      io.out(
        [
          ...plan.lines,
          `Summary: ${plan.nodes} chat nodes (bound by ${plan.boundBy}), ${plan.redisShards} Redis shard(s), ${plan.storeNodes} store nodes.`,
          `Assumed, not measured here: store writes/s per node ${flags.storeWritesPerSec}, ${flags.storeOverheadBytes} B stored per message beyond the body${plan.scalingMeasured ? '' : `, scaling efficiency ${flags.scalingEfficiency}`}.`,
        ].join('\n'),
      );
    return 0;
  } catch (error) {
    if (error instanceof PlanError) throw new CliError('CHATSIM_ERR_USAGE', error.message);
    throw error;
  }
}
