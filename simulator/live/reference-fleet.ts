// Reference-server nodes as a live target: builds the `chatsim serve` command line of each node (its
// port, data dir, node id, the scenario's server limits, any deliberate bug) and runs them as a
// ProcessFleet. With `redis`, the nodes share Redis (redis-fleet.ts starts it) instead of data dirs.

import { flagOf } from '../../cli/limit-flags.ts';
import type { NodeLimits } from '../../reference-server/core/limits.ts';
import { ProcessFleet } from './fleet.ts';
import { serveEntry } from './serve-bundle.ts';

export type ReferenceFleetOptions = {
  nodes: number;
  secret: string;
  limits: Record<string, number>;
  bugs: readonly string[];
  basePort?: number;
  keepData?: boolean;
  /** Nodes over Redis instead of data dirs: node i connects to `urls[i]`; keys under `prefix`. */
  redis?: { urls: string[]; prefix: string; allowUnsafe?: boolean };
  /** More `serve` arguments for every node (`{node}` is the node's number), e.g. `--cost-meter`. */
  serveArgs?: readonly string[];
  /** Nodes over a Redis Cluster (`--redis-cluster` seeds), optionally WAITing for replicas on writes. */
  redisCluster?: { seeds: string; prefix: string; waitReplicas?: number };
};

/** The serve arguments of one node, with `{host}`, `{port}` and `{dataDir}` left for the fleet to fill. */
export function referenceServeArgs(options: ReferenceFleetOptions): string[] {
  const cluster = options.redisCluster;
  const store = cluster
    ? [
        '--redis-cluster',
        cluster.seeds,
        '--redis-prefix',
        cluster.prefix,
        ...(cluster.waitReplicas ? ['--redis-wait-replicas', String(cluster.waitReplicas)] : []),
      ]
    : options.redis
      ? [
          '--redis',
          '{redis}',
          '--redis-prefix',
          options.redis.prefix,
          ...(options.redis.allowUnsafe ? ['--redis-allow-unsafe'] : []),
        ]
      : ['--data-dir', '{dataDir}'];
  // Each node on a loopback address of its own (127.0.0.1, .2, ...): clients spread over addresses.
  const args = ['serve', '--host', '{host}', '--port', '{port}', ...store, '--node-id', 'n{node}'];
  for (const [field, value] of Object.entries(options.limits))
    args.push(flagOf(field as keyof NodeLimits), String(value));
  for (const bug of options.bugs) args.push('--bug', bug);
  args.push(...(options.serveArgs ?? []));
  return args;
}

/** `CHATSIM_NODE_CPU_PROF_DIR=dir` writes each node's V8 CPU profile there when it exits (as generators'). */
export function nodeExecArgv(env: Record<string, string | undefined>): string[] {
  const profileDir = env.CHATSIM_NODE_CPU_PROF_DIR;
  return profileDir ? ['--cpu-prof', `--cpu-prof-dir=${profileDir}`] : [];
}

export function referenceFleet(options: ReferenceFleetOptions): ProcessFleet {
  const node = [process.execPath, ...nodeExecArgv(process.env)];
  // `{entry}`: the bundled CLI (serve-bundle.ts), built when the fleet starts.
  const template = [...node, '{entry}', ...referenceServeArgs(options)].join(' ');
  const repro = [`--nodes ${options.nodes}`, ...options.bugs.map((b) => `--bug ${b}`)].join(' ');
  return new ProcessFleet({
    nodes: options.nodes,
    template,
    env: { ...process.env, CHAT_JWT_SECRET: options.secret },
    ...(options.basePort === undefined ? {} : { basePort: options.basePort }),
    ...(options.keepData === undefined ? {} : { keepData: options.keepData }),
    reproFlags: repro,
    prepare: async () => ({ entry: await serveEntry() }),
    ...(options.redis ? { nodeVars: options.redis.urls.map((redis) => ({ redis })) } : {}),
  });
}
