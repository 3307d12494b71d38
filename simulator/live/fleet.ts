// The servers a live run drives, behind one interface: a fleet of processes the driver owns (reference
// nodes, or any protocol server started from a `--server-cmd` template), or servers already running
// at URLs it can only reach. Process faults need a fleet it owns; `canSignal` says which.

import { mkdirSync, mkdtempSync, rmSync } from 'node:fs';
import { createServer } from 'node:net';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { loopbackHost } from './file-budget.ts';
import { NodeProcess } from './node-process.ts';
import type { ProcessRef } from './process-sampler.ts';

export interface LiveFleet {
  /** http://host:port of each node, in node order. */
  readonly urls: readonly string[];
  /** Whether the driver owns the processes (SIGKILL, SIGSTOP/SIGCONT, restart on the same data dir). */
  readonly canSignal: boolean;
  /** How a repro command names this target (`--nodes 1`, `--server-cmd '...'`, `--url ...`). */
  readonly reproFlags: string;
  start(): Promise<void>;
  crash(node: number): Promise<void>;
  restart(node: number): Promise<void>;
  pause(node: number): void;
  resume(node: number): void;
  /** SIGTERM (drain), wait for the exit and `restartDelayMs`, start again on the same data dir (ready once /readyz is 200). */
  drainRestart(node: number, restartDelayMs?: number): Promise<void>;
  stop(): Promise<void>;
  /** Present when the nodes share a Redis the driver reaches (redis-fleet.ts): Redis faults. */
  readonly redis?: RedisFaults;
  /** Nodes the driver runs on this machine (their client sockets count against its file limit). */
  readonly localNodes: number;
  /** How many nodes the target has, known before it starts: a fault naming node `nodeCount` or above is refused. */
  readonly nodeCount: number;
  /** The node processes running now, for the driver to sample (none for servers it does not own). */
  processes(): ProcessRef[];
}

/** What a fleet over Redis lets a run do to Redis; each returns its heal. */
export interface RedisFaults {
  /** Whether the run started Redis itself (only then may it kill it). */
  readonly owned: boolean;
  /** A Redis Cluster: `outage` is a master failover; `cut` and `slow` are refused before the run. */
  readonly cluster?: boolean;
  /** Redis SIGKILLed; the heal restarts it on its AOF. */
  outage(): Promise<() => Promise<void>>;
  /** One node cut from Redis; the heal reconnects it. */
  cut(node: number): Promise<() => Promise<void>>;
  /** Latency ± jitter both ways between Redis and one node (or every node); the heal removes it. */
  slow(node: number | undefined, latencyMs: number, jitterMs: number): Promise<() => Promise<void>>;
}

export class FleetError extends Error {
  readonly code = 'CHATSIM_ERR_TARGET';
}

/** A free TCP port on 127.0.0.1, or a check that `port` is free. */
export async function freePort(port = 0, host = '127.0.0.1'): Promise<number> {
  return new Promise((resolve, reject) => {
    const server = createServer();
    server.once('error', (error: NodeJS.ErrnoException) => {
      if (error.code === 'EADDRINUSE')
        reject(new FleetError(`port ${port} on ${host} is in use: pick another --port (or leave it out)`));
      else reject(new FleetError(`cannot listen on ${host}:${port} (${error.code}): pick another --port`));
    });
    server.listen(port, host, () => {
      const address = server.address();
      const chosen = typeof address === 'object' && address !== null ? address.port : port;
      server.close(() => resolve(chosen));
    });
  });
}

export type ProcessFleetOptions = {
  nodes: number;
  /**
   * Command template with `{port}`, `{dataDir}` and optionally `{node}` (1-based) and `{host}`. With
   * `{host}`, node i listens on 127.0.0.(i+1), so clients spread over loopback addresses (the ports
   * still differ); without it, every node is reached at 127.0.0.1.
   */
  template: string;
  env?: NodeJS.ProcessEnv;
  /** First node's port (the others follow); default: free ports. */
  basePort?: number;
  /** Kept after the run (default: removed). */
  keepData?: boolean;
  reproFlags: string;
  /** Per node, more `{name}` placeholders of the template (e.g. each node's own Redis address). */
  nodeVars?: Record<string, string>[];
  /** Placeholders of every node's command worked out when the fleet starts (reference nodes: `{entry}`). */
  prepare?: () => Promise<Record<string, string>>;
};

/** Processes the driver starts, owns, kills and restarts, each on its own port and data dir. */
export class ProcessFleet implements LiveFleet {
  readonly canSignal = true;
  readonly reproFlags: string;
  private nodeProcesses: NodeProcess[] = [];
  private readonly turns = new Map<number, Promise<void>>();
  private root = '';
  private readonly onExit = () => {
    for (const p of this.nodeProcesses) p.killNow();
  };

  constructor(private readonly options: ProcessFleetOptions) {
    this.reproFlags = options.reproFlags;
  }

  get urls(): string[] {
    return this.nodeProcesses.map((p) => p.url);
  }

  get localNodes(): number {
    return this.options.nodes;
  }

  get nodeCount(): number {
    return this.options.nodes;
  }

  processes(): ProcessRef[] {
    return this.nodeProcesses.map((p, i) => ({
      name: `n${i + 1}`,
      kind: 'node',
      pid: p.running ? p.pid : undefined,
    }));
  }

  /** Each node's last output (its log's tail), to explain a failed run. */
  outputs(): string[] {
    return this.nodeProcesses.map((p) => p.output());
  }

  get dataRoot(): string {
    return this.root;
  }

  async start(): Promise<void> {
    const { nodes, template, basePort } = this.options;
    const spread = template.includes('{host}');
    const hosts = Array.from({ length: nodes }, (_, i) => (spread ? loopbackHost(i) : '127.0.0.1'));
    const ports: number[] = [];
    for (let i = 0; i < nodes; i++)
      ports.push(await freePort(basePort === undefined ? 0 : basePort + i, hosts[i]));
    const shared = (await this.options.prepare?.()) ?? {};
    this.root = mkdtempSync(join(tmpdir(), 'chatsim-live-'));
    process.on('exit', this.onExit);
    this.nodeProcesses = ports.map((port, i) => {
      const dataDir = join(this.root, `node-${i + 1}`);
      mkdirSync(dataDir, { recursive: true });
      let command = template;
      for (const [name, value] of Object.entries({ ...shared, ...this.options.nodeVars?.[i] }))
        command = command.replaceAll(`{${name}}`, shellQuote(value));
      command = command
        .replaceAll('{port}', String(port))
        .replaceAll('{host}', hosts[i]!)
        .replaceAll('{dataDir}', shellQuote(dataDir))
        .replaceAll('{node}', String(i + 1));
      return new NodeProcess({
        index: i,
        command,
        url: `http://${hosts[i]}:${port}`,
        ...(this.options.env ? { env: this.options.env } : {}),
      });
    });
    try {
      await Promise.all(this.nodeProcesses.map((p) => p.start()));
    } catch (error) {
      await this.stop();
      throw new FleetError((error as Error).message);
    }
  }

  crash(node: number): Promise<void> {
    return this.inTurn(node, (p) => p.kill());
  }

  restart(node: number): Promise<void> {
    return this.inTurn(node, async (p) => {
      if (!p.running && !p.isStopped) await p.start();
    });
  }

  pause(node: number): void {
    this.at(node).pause();
  }

  resume(node: number): void {
    this.at(node).resume();
  }

  drainRestart(node: number, restartDelayMs = 0): Promise<void> {
    return this.inTurn(node, async (p) => {
      await p.terminate();
      if (restartDelayMs > 0) await new Promise((resolve) => setTimeout(resolve, restartDelayMs));
      if (!p.isStopped) await p.start();
    });
  }

  /**
   * Operations on one node run one after another, in the order the timeline asked for them: a crash
   * that falls while the node is still restarting waits for the restart to finish, then kills it.
   */
  private inTurn(node: number, operation: (p: NodeProcess) => Promise<void>): Promise<void> {
    const previous = this.turns.get(node) ?? Promise.resolve();
    const next = previous.catch(() => {}).then(() => operation(this.at(node)));
    this.turns.set(node, next);
    return next;
  }

  async stop(): Promise<void> {
    await Promise.all(this.nodeProcesses.map((p) => p.stop()));
    process.off('exit', this.onExit);
    if (this.root !== '' && !this.options.keepData) rmSync(this.root, { recursive: true, force: true });
  }

  /** Node `node` itself: a fault on a node this fleet lacks is an error, never carried out on another node. */
  private at(node: number): NodeProcess {
    const p = this.nodeProcesses[node];
    if (p === undefined)
      throw new FleetError(
        `no node ${node}: this fleet has ${this.nodeProcesses.length} (nodes 0-${this.nodeProcesses.length - 1})`,
      );
    return p;
  }
}

/** Servers already running: the driver reaches them and nothing else. */
export class UrlFleet implements LiveFleet {
  readonly canSignal = false;
  readonly reproFlags: string;
  readonly localNodes = 0;

  constructor(readonly urls: readonly string[]) {
    this.reproFlags = urls.map((u) => `--url ${u}`).join(' ');
  }

  get nodeCount(): number {
    return this.urls.length;
  }

  async start(): Promise<void> {
    for (const url of this.urls) {
      const status = await fetch(`${url}/healthz`, { signal: AbortSignal.timeout(5000) }).then(
        (r) => r.status,
        (error: Error) =>
          `unreachable (${(error.cause as { code?: string } | undefined)?.code ?? error.message})`,
      );
      if (status !== 200)
        throw new FleetError(
          `${url} is ${typeof status === 'number' ? `answering GET /healthz with ${status}` : status}: is the server running there?`,
        );
    }
  }

  crash(): Promise<void> {
    return Promise.reject(new Error('a --url target cannot be crashed'));
  }
  restart(): Promise<void> {
    return Promise.reject(new Error('a --url target cannot be restarted'));
  }
  pause(): void {
    throw new Error('a --url target cannot be paused');
  }
  resume(): void {
    throw new Error('a --url target cannot be resumed');
  }
  drainRestart(): Promise<void> {
    return Promise.reject(new Error('a --url target cannot be restarted'));
  }
  processes(): ProcessRef[] {
    return [];
  }
  async stop(): Promise<void> {}
}

function shellQuote(text: string): string {
  return /^[A-Za-z0-9_./:-]+$/.test(text) ? text : `'${text.replaceAll("'", "'\\''")}'`;
}

/**
 * A fleet of reference nodes beside a dependency it owns (a Redis, a Redis Cluster): process faults go
 * to the nodes; subclasses start and stop the dependency and set `nodes`.
 */
export abstract class NodesBeside {
  protected nodes: ProcessFleet | null = null;

  constructor(readonly localNodes: number) {}

  get nodeCount(): number {
    return this.localNodes;
  }

  get urls(): string[] {
    return this.nodes?.urls ?? [];
  }

  processes(): ProcessRef[] {
    return this.nodes?.processes() ?? [];
  }

  /** Each node's last output (its log's tail), to explain a failed run; kept once the nodes stop. */
  outputs(): string[] {
    return this.nodes?.outputs() ?? this.stoppedOutputs;
  }

  private stoppedOutputs: string[] = [];

  /** Stops the nodes (keeping what they said last); the subclass then stops its dependency. */
  protected async stopNodes(): Promise<void> {
    await this.nodes?.stop();
    this.stoppedOutputs = this.nodes?.outputs() ?? this.stoppedOutputs;
    this.nodes = null;
  }

  crash(node: number): Promise<void> {
    return this.fleet().crash(node);
  }

  restart(node: number): Promise<void> {
    return this.fleet().restart(node);
  }

  pause(node: number): void {
    this.fleet().pause(node);
  }

  resume(node: number): void {
    this.fleet().resume(node);
  }

  drainRestart(node: number, restartDelayMs?: number): Promise<void> {
    return this.fleet().drainRestart(node, restartDelayMs);
  }

  private fleet(): ProcessFleet {
    if (this.nodes === null) throw new Error('the fleet is not started');
    return this.nodes;
  }
}
