// `chatsim serve`: runs the reference chat server until SIGTERM or SIGINT, then drains (`drain` frame,
// close 1012) and exits 0. Everything an operator can get wrong (flags, secret, data dir, port) is
// refused before the server starts, with one line that says what to do and exit code 2.

import { resolve } from 'node:path';
import type { Tracer } from '@opentelemetry/api';
import { type Command, InvalidArgumentError, Option } from 'commander';
import { type BugName, bugNames } from '../reference-server/known-bugs/bugs.ts';
import { logBugPolicies, withWriteBehind } from '../reference-server/known-bugs/log-bugs.ts';
import { isId } from '../reference-server/protocol/limits.ts';
import { CostMeter } from '../reference-server/runtime/cost-meter.ts';
import { runtimeLimits } from '../reference-server/runtime/limits.ts';
import type { ServerMetrics } from '../reference-server/runtime/metrics.ts';
import { RedisBus } from '../reference-server/runtime/redis-bus.ts';
import { type RunningServer, startServer } from '../reference-server/runtime/server.ts';
import { cassandraLimits } from '../reference-server/store/cassandra-limits.ts';
import { LogStore } from '../reference-server/store/log-store.ts';
import { MemoryStore } from '../reference-server/store/memory-store.ts';
import type { MessageStore } from '../reference-server/store/message-store.ts';
import { redisLimits } from '../reference-server/store/redis-limits.ts';
import { RedisStore } from '../reference-server/store/redis-store.ts';
import { collectBug } from './bug-flag.ts';
import { CliError, type CliIo, commanderOutput, listenError } from './cli-error.ts';
import { addLimitFlags, limitsFrom, parsePositiveInteger } from './limit-flags.ts';
import type { CommandResult } from './main.ts';

export const secretEnv = 'CHAT_JWT_SECRET';

type ServeFlags = {
  port: number;
  host: string;
  dataDir?: string;
  store: 'log' | 'memory';
  nodeId?: string;
  closeTimeoutMs?: number;
  bug: BugName[];
  redis?: string;
  redisCluster?: { host: string; port: number }[];
  redisPrefix: string;
  redisAllowUnsafe?: boolean;
  redisPresenceTtlMs?: number;
  redisWaitReplicas?: number;
  redisWaitTimeoutMs: number;
  cassandra?: string[];
  keyspace?: string;
  cassandraDc: string;
  otlpEndpoint?: string;
  costMeter?: string;
} & Record<string, unknown>;

export function registerServe(program: Command, result: CommandResult, io: CliIo): void {
  const command = program
    .command('serve')
    .description('run the reference chat server (WebSocket at /v1/ws, HTTP API, /metrics)')
    .configureOutput(commanderOutput(io, 'chatsim serve --help'))
    .requiredOption('--port <port>', 'TCP port; 0 picks a free one and prints it', parsePort)
    .option('--host <host>', 'address to listen on', '127.0.0.1')
    .option('--data-dir <dir>', 'directory of the message log (required with --store log)')
    .addOption(new Option('--store <kind>', 'message store').choices(['log', 'memory']).default('log'))
    .option('--node-id <id>', 'node id announced in welcome frames (default: random)', parseNodeId)
    .option(
      '--close-timeout-ms <n>',
      `how long a peer has to answer a close frame (default ${runtimeLimits.closeTimeoutMsDefault})`,
      parsePositiveInteger,
    )
    .option(
      '--redis <url>',
      'join a fleet over Redis (redis://host:port): messages in Redis, bus and presence shared by the nodes',
      parseRedisUrl,
    )
    .option(
      '--redis-cluster <nodes>',
      'join a fleet over a Redis Cluster: comma-separated host:port seed nodes (instead of --redis)',
      parseClusterNodes,
    )
    .option('--redis-prefix <prefix>', 'key prefix (and bus channel) of the fleet in Redis', 'chatsim:')
    .option(
      '--redis-allow-unsafe',
      'start even if Redis does not fsync every write (appendfsync always): acks are then NOT durable',
    )
    .option(
      '--redis-presence-ttl-ms <n>',
      `a node silent this long is taken for dead and its users offline (default ${redisLimits.presenceTtlMsDefault})`,
      parsePositiveInteger,
    )
    .option(
      '--redis-wait-replicas <n>',
      'WAIT for n replicas after every write before acking (a write not replicated in time is answered unavailable)',
      parsePositiveInteger,
    )
    .option(
      '--redis-wait-timeout-ms <n>',
      'how long WAIT waits for the replicas',
      parsePositiveInteger,
      redisLimits.waitTimeoutMsDefault,
    )
    .option(
      '--cassandra <hosts>',
      'keep messages in Cassandra: comma-separated contact points host[:port] (with --redis for a fleet bus)',
      parseContactPoints,
    )
    .option('--keyspace <name>', 'Cassandra keyspace (created with its tables on start if missing)')
    .option(
      '--cassandra-dc <name>',
      'local data centre of the Cassandra driver',
      cassandraLimits.localDataCenterDefault,
    )
    .option(
      '--otlp-endpoint <url>',
      'trace sends carrying a traceparent (tp) and export the spans over OTLP/HTTP, e.g. http://localhost:4318/v1/traces',
      parseOtlpUrl,
    )
    .option(
      '--cost-meter <file>',
      'time every core step by kind and write the sums to FILE about once a second (what chatsim capacity --calibrate reads)',
    )
    .option(
      '--bug <name>',
      `break the protocol on purpose, to prove a harness catches it (repeatable): ${bugNames.join(', ')}`,
      collectBug,
      [],
    );
  addLimitFlags(command).action(async (flags: ServeFlags) => {
    result.exitCode = await serve(flags, io);
  });
}

async function serve(flags: ServeFlags, io: CliIo): Promise<number> {
  const secret = io.env[secretEnv];
  if (!secret)
    throw new CliError(
      'CHATSIM_ERR_NO_SECRET',
      `${secretEnv} is not set: export ${secretEnv}=<a random string of 32+ characters>, the secret that signs client tokens (HS256)`,
    );
  let metrics: ServerMetrics | undefined;
  const log = (line: string) => io.err(`chatsim: ${line}`);
  if (flags.redisCluster !== undefined) {
    if (flags.redis !== undefined)
      throw new CliError(
        'CHATSIM_ERR_USAGE',
        "use --redis or --redis-cluster, not both (see 'chatsim serve --help')",
      );
    flags.redis = `redis://${flags.redisCluster[0]!.host}:${flags.redisCluster[0]!.port}`;
  }
  const store = await storeFor(
    flags,
    (durationMs, records) => metrics?.observeFsync(durationMs, records),
    log,
  );
  const bus =
    flags.redis === undefined
      ? undefined
      : new RedisBus({
          url: flags.redis,
          ...(flags.redisCluster ? { cluster: flags.redisCluster } : {}),
          prefix: flags.redisPrefix,
          log,
          ...(flags.redisPresenceTtlMs !== undefined ? { presenceTtlMs: flags.redisPresenceTtlMs } : {}),
        });
  const tracing =
    flags.otlpEndpoint === undefined
      ? undefined
      : (await import('../reference-server/runtime/otlp-tracing.ts')).startOtlpTracing(flags.otlpEndpoint);
  const meter = flags.costMeter === undefined ? undefined : new CostMeter();
  const server = await start(flags, store, secret, log, bus, tracing?.tracer, meter);
  metrics = server.metrics;
  if (meter && flags.costMeter !== undefined) meter.writeTo(flags.costMeter);
  // A second signal while draining stops hard instead of waiting for slow clients.
  const signals = watchSignals((again) => {
    log(`${again} again: stopping without waiting for the drain`);
    void server.close();
  });
  io.out(`chatsim: listening on ${server.url}, ${server.wsUrl}`);
  try {
    const signal = await signals.first;
    log(`${signal}: draining`);
    await server.drain();
    meter?.stop();
    await tracing?.shutdown();
    log('stopped');
    return 0;
  } finally {
    signals.release();
  }
}

/** How far the 'ack-before-durable' server writes behind its acks (log-bugs.ts `withWriteBehind`). */
const liveWriteBehindMs = 50;

async function storeFor(
  flags: ServeFlags,
  onFsync: (durationMs: number, records: number) => void,
  log: (line: string) => void,
): Promise<MessageStore> {
  const ackBeforeDurable = flags.bug.includes('ack-before-durable');
  if (flags.cassandra !== undefined) return cassandraStore(flags, ackBeforeDurable);
  if (flags.keyspace !== undefined)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--keyspace needs --cassandra <hosts> (see 'chatsim serve --help')",
    );
  if (flags.redis !== undefined) {
    if (flags.dataDir !== undefined || flags.store !== 'log')
      throw new CliError(
        'CHATSIM_ERR_USAGE',
        "--redis keeps messages in Redis: drop --data-dir and --store (see 'chatsim serve --help')",
      );
    if (ackBeforeDurable)
      throw new CliError(
        'CHATSIM_ERR_USAGE',
        "--bug ack-before-durable needs --store log (Redis decides when it fsyncs) (see 'chatsim serve --help')",
      );
    return new RedisStore({
      url: flags.redis,
      ...(flags.redisCluster ? { cluster: flags.redisCluster } : {}),
      prefix: flags.redisPrefix,
      allowUnsafe: flags.redisAllowUnsafe === true,
      warn: log,
      ...(flags.redisWaitReplicas !== undefined
        ? { waitReplicas: { replicas: flags.redisWaitReplicas, timeoutMs: flags.redisWaitTimeoutMs } }
        : {}),
    });
  }
  if (flags.store === 'memory' && ackBeforeDurable)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--bug ack-before-durable needs --store log (the memory store has no fsync to answer before) (see 'chatsim serve --help')",
    );
  if (flags.store === 'memory') return new MemoryStore();
  if (flags.dataDir === undefined)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--data-dir <dir> is required with --store log (or pass --store memory to keep nothing) (see 'chatsim serve --help')",
    );
  // The store checks the dir itself when it opens (DataDirError), so a bad dir is reported once, by it.
  return new LogStore({
    dir: resolve(flags.dataDir),
    onFsync,
    ...(ackBeforeDurable ? { ackBeforeDurable } : {}),
    policies: ackBeforeDurable
      ? withWriteBehind(logBugPolicies(flags.bug), liveWriteBehindMs)
      : logBugPolicies(flags.bug),
  });
}

/** The Cassandra driver is loaded only for a Cassandra store: it costs every other start about a second. */
async function cassandraStore(flags: ServeFlags, ackBeforeDurable: boolean): Promise<MessageStore> {
  if (flags.dataDir !== undefined || flags.store !== 'log')
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--cassandra keeps messages in Cassandra: drop --data-dir and --store (see 'chatsim serve --help')",
    );
  if (flags.keyspace === undefined)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--cassandra needs --keyspace <name> (see 'chatsim serve --help')",
    );
  if (ackBeforeDurable)
    throw new CliError(
      'CHATSIM_ERR_USAGE',
      "--bug ack-before-durable needs --store log (Cassandra decides when a write is durable) (see 'chatsim serve --help')",
    );
  const { CassandraStore } = await import('../reference-server/store/cassandra-store.ts');
  try {
    return new CassandraStore({
      contactPoints: flags.cassandra!,
      keyspace: flags.keyspace,
      localDataCenter: flags.cassandraDc,
    });
  } catch (error) {
    throw new CliError('CHATSIM_ERR_USAGE', `--keyspace: ${(error as Error).message}`);
  }
}

async function start(
  flags: ServeFlags,
  store: MessageStore,
  secret: string,
  log: (line: string) => void,
  bus: RedisBus | undefined,
  tracer: Tracer | undefined,
  meter: CostMeter | undefined,
): Promise<RunningServer> {
  try {
    return await startServer({
      ...(meter ? { stepMeter: (step, effects, ms) => meter.step(step, effects, ms) } : {}),
      ...(bus ? { bus } : {}),
      ...(tracer ? { tracer } : {}),
      port: flags.port,
      host: flags.host,
      store,
      secret,
      limits: limitsFrom(flags),
      log,
      bugs: flags.bug,
      ...(flags.nodeId !== undefined ? { nodeId: flags.nodeId } : {}),
      ...(flags.closeTimeoutMs !== undefined ? { closeTimeoutMs: flags.closeTimeoutMs } : {}),
    });
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    const message = error instanceof Error ? error.message : String(error);
    if (code === 'CHATSIM_ERR_DATA_DIR') throw new CliError('CHATSIM_ERR_DATA_DIR', message);
    if (code === 'CHATSIM_ERR_REDIS_NOT_DURABLE') throw new CliError('CHATSIM_ERR_REDIS', message);
    if (flags.cassandra !== undefined && (error as Error).name === 'NoHostAvailableError')
      throw new CliError(
        'CHATSIM_ERR_CASSANDRA',
        `cannot reach Cassandra at ${flags.cassandra.join(',')} (${firstLine(message)}): start it or fix --cassandra`,
      );
    if (flags.redis !== undefined && isConnectionError(code, message))
      throw new CliError(
        'CHATSIM_ERR_REDIS',
        `cannot reach Redis at ${flags.redis} (${message}): start it or fix --redis`,
      );
    const cannotListen = listenError(code, `${flags.host}:${flags.port}`);
    if (cannotListen) throw cannotListen;
    throw new CliError('CHATSIM_ERR_START', `the server failed to start: ${message}`, 1);
  }
}

function parseOtlpUrl(value: string): string {
  if (!/^https?:\/\/[^/\s]+/.test(value))
    throw new InvalidArgumentError('takes a URL like http://localhost:4318/v1/traces');
  return value;
}

type SignalWatch = { first: Promise<NodeJS.Signals>; release(): void };

/** `first` resolves at the first SIGTERM or SIGINT; any later one calls `onAgain` until released. */
function watchSignals(onAgain: (signal: NodeJS.Signals) => void): SignalWatch {
  let received = false;
  let resolveFirst: (signal: NodeJS.Signals) => void = () => {};
  const first = new Promise<NodeJS.Signals>((resolveSignal) => {
    resolveFirst = resolveSignal;
  });
  const onSignal = (signal: NodeJS.Signals) => {
    if (received) return onAgain(signal);
    received = true;
    resolveFirst(signal);
  };
  process.on('SIGTERM', onSignal);
  process.on('SIGINT', onSignal);
  return {
    first,
    release() {
      process.off('SIGTERM', onSignal);
      process.off('SIGINT', onSignal);
    },
  };
}

export function parsePort(value: string): number {
  const n = Number(value);
  if (!/^\d+$/.test(value) || n > 65_535)
    throw new InvalidArgumentError('it must be an integer from 0 to 65535.');
  return n;
}

function parseRedisUrl(value: string): string {
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw new InvalidArgumentError('it must be a URL such as redis://127.0.0.1:6379.');
  }
  if (url.protocol !== 'redis:' && url.protocol !== 'rediss:')
    throw new InvalidArgumentError('it must start with redis:// or rediss://.');
  return value;
}

function parseContactPoints(value: string): string[] {
  return value.split(',').map((point) => {
    const match = /^([^:\s,]+)(?::(\d{1,5}))?$/.exec(point.trim());
    if (match === null || Number(match[2] ?? 0) > 65_535)
      throw new InvalidArgumentError('it must be host[:port][,host[:port]...], e.g. 10.0.0.1,10.0.0.2:9042.');
    return point.trim();
  });
}

function firstLine(message: string): string {
  return message.split('\n')[0]!.slice(0, 300);
}

function parseClusterNodes(value: string): { host: string; port: number }[] {
  return value.split(',').map((node) => {
    const match = /^([^:\s]+):(\d{1,5})$/.exec(node.trim());
    if (match === null || Number(match[2]) > 65_535)
      throw new InvalidArgumentError(
        'it must be host:port[,host:port...], e.g. 10.0.0.1:7000,10.0.0.2:7000.',
      );
    return { host: match[1]!, port: Number(match[2]) };
  });
}

function isConnectionError(code: unknown, message: string): boolean {
  return (
    code === 'ECONNREFUSED' ||
    code === 'ENOTFOUND' ||
    code === 'ETIMEDOUT' ||
    /connect|Connection is closed|ECONNREFUSED/i.test(message)
  );
}

function parseNodeId(value: string): string {
  if (!isId(value)) throw new InvalidArgumentError('it must be 1-64 characters of [A-Za-z0-9_.:-].');
  return value;
}
