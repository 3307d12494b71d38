// The flags of `npm run bench:server`, validated at the boundary: every problem is reported at once,
// as one error with a stable code, and every value is held inside the bounds of limits.ts.

import { parseArgs } from 'node:util';
import { benchLimits } from './limits.ts';

export const phaseNames = ['raw-echo', 'raw-broadcast', 'chat-direct', 'chat-group'] as const;
export type PhaseName = (typeof phaseNames)[number];

export type BenchOptions = {
  seconds: number;
  connections: number;
  groupConnections: number;
  window: number;
  /** Sends per second per connection (open model); null sends whenever the window has room. */
  ratePerConn: number | null;
  loadProcesses: number;
  phases: PhaseName[];
  /** Chat phases: this many nodes over a redis-server of the bench's own (1: one node, embedded log). */
  nodes: number;
  json: boolean;
  help: boolean;
};

export class BenchOptionsError extends Error {
  readonly code = 'CHATSIM_ERR_BENCH_OPTIONS';
}

export const benchUsage = `usage: npm run bench:server -- [options]

  --seconds N          seconds measured per phase (default ${benchLimits.secondsDefault}, max ${benchLimits.secondsMax})
  --connections N      connections of the raw-echo and chat-direct phases (default ${benchLimits.connectionsDefault}, max ${benchLimits.connectionsMax})
  --group-connections N  connections of the raw-broadcast and chat-group phases (default ${benchLimits.groupConnectionsDefault},
                       max ${benchLimits.connectionsMax}), rounded down to whole groups of ${benchLimits.groupSize} (at least one)
  --window N           unacked sends per connection (default ${benchLimits.windowDefault}, max ${benchLimits.windowMax})
  --rate-per-conn N    open model: N sends/s per connection, latency from the scheduled time
                       (default: closed model, a send whenever the window has room)
  --load-processes N   load-generator processes per phase (default ${benchLimits.loadProcessesDefault}, max ${benchLimits.loadProcessesMax})
  --nodes N            chat phases on N nodes sharing a redis-server the bench starts (default 1: the log store)
  --phases a,b         subset of ${phaseNames.join(',')} (default: all)
  --json               print the results as JSON instead of a table
  --help               print this and exit`;

function integer(
  name: string,
  raw: string | undefined,
  fallback: number,
  max: number,
  problems: string[],
): number {
  if (raw === undefined) return fallback;
  const value = Number(raw);
  if (!Number.isSafeInteger(value) || value < 1 || value > max) {
    problems.push(`--${name} must be an integer from 1 to ${max}, got "${raw}"`);
    return fallback;
  }
  return value;
}

export function parseBenchOptions(argv: readonly string[]): BenchOptions {
  let parsed: ReturnType<typeof parse>;
  try {
    parsed = parse(argv);
  } catch (error) {
    throw new BenchOptionsError(`${(error as Error).message}\n\n${benchUsage}`);
  }
  const { values } = parsed;
  const problems: string[] = [];
  const seconds = integer(
    'seconds',
    values.seconds,
    benchLimits.secondsDefault,
    benchLimits.secondsMax,
    problems,
  );
  const connections = integer(
    'connections',
    values.connections,
    benchLimits.connectionsDefault,
    benchLimits.connectionsMax,
    problems,
  );
  const groupConnections = integer(
    'group-connections',
    values['group-connections'],
    benchLimits.groupConnectionsDefault,
    benchLimits.connectionsMax,
    problems,
  );
  const window = integer('window', values.window, benchLimits.windowDefault, benchLimits.windowMax, problems);
  const loadProcesses = integer(
    'load-processes',
    values['load-processes'],
    benchLimits.loadProcessesDefault,
    benchLimits.loadProcessesMax,
    problems,
  );
  let ratePerConn: number | null = null;
  if (values['rate-per-conn'] !== undefined) {
    const rate = Number(values['rate-per-conn']);
    if (!(rate > 0 && rate <= 1000 / benchLimits.tickMs)) {
      problems.push(`--rate-per-conn must be a number above 0 and at most ${1000 / benchLimits.tickMs}`);
    } else ratePerConn = rate;
  }
  let phases: PhaseName[] = [...phaseNames];
  if (values.phases !== undefined) {
    const asked = values.phases.split(',').map((p) => p.trim());
    const unknown = asked.filter((p) => !(phaseNames as readonly string[]).includes(p));
    if (unknown.length > 0 || asked.length === 0) {
      problems.push(
        `--phases takes a comma-separated subset of ${phaseNames.join(',')}; unknown: ${unknown}`,
      );
    } else phases = phaseNames.filter((p) => asked.includes(p));
  }
  let nodes = 1;
  if (values.nodes !== undefined) {
    nodes = Number(values.nodes);
    if (!Number.isInteger(nodes) || nodes < 1 || nodes > benchLimits.nodesMax) {
      problems.push(`--nodes must be an integer from 1 to ${benchLimits.nodesMax}`);
      nodes = 1;
    }
  }
  if (problems.length > 0) throw new BenchOptionsError(`${problems.join('\n')}\n\n${benchUsage}`);
  return {
    seconds,
    connections,
    groupConnections,
    window,
    ratePerConn,
    loadProcesses,
    phases,
    nodes,
    json: values.json ?? false,
    help: values.help ?? false,
  };
}

function parse(argv: readonly string[]) {
  return parseArgs({
    args: [...argv],
    strict: true,
    allowPositionals: false,
    options: {
      seconds: { type: 'string' },
      connections: { type: 'string' },
      'group-connections': { type: 'string' },
      window: { type: 'string' },
      'rate-per-conn': { type: 'string' },
      'load-processes': { type: 'string' },
      phases: { type: 'string' },
      nodes: { type: 'string' },
      json: { type: 'boolean' },
      help: { type: 'boolean' },
    },
  });
}
