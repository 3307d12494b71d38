// The network between live clients and the nodes, with faults. One Toxiproxy proxy stands between each
// client group and each node, so a fault that touches "40% of the clients" touches whole groups: a
// fault's fraction is rounded to groups (at least one when it is above 0) and the fault says the
// fraction it really hit. Faults become toxics, driven only through toxiproxy-node-client, so a real
// Toxiproxy (TOXIPROXY_URL) serves as well as the embedded one.

import { type Toxic, Toxiproxy, type Proxy as ToxiproxyProxy } from 'toxiproxy-node-client';
import type { FaultSpec, FaultType } from '../scenarios/scenario.ts';
import { SeedStreams } from '../simulator/kernel/prng.ts';
import { chaosLimits } from './limits.ts';
import { type NetworkFaultPlan, planNetworkFault } from './network-fault-plan.ts';
import { spawnToxiproxy } from './toxiproxy-process.ts';
import { startToxiproxyServer } from './toxiproxy-server.ts';

export { liveNetworkMeaning } from './network-fault-plan.ts';

export type LiveNetworkOptions = {
  /** Each node's client-facing host:port, by node index. */
  nodes: readonly string[];
  /** Client groups; one proxy per (group, node). */
  groups: number;
  /** Which groups a fault touches derives from (seed, fault index). */
  seed: number;
  /** Sizes the embedded proxies: each proxied client costs two sockets, a process may open 20,000 files. */
  expectedClients?: number;
  /** A running Toxiproxy's API; default TOXIPROXY_URL, unset = embedded servers started here. */
  toxiproxyUrl?: string;
  env?: Record<string, string | undefined>;
  /** Host the proxies listen on (default 127.0.0.1). */
  listenHost?: string;
};

export type ActiveFault = {
  spec: FaultSpec;
  /** Client groups touched (all of them for a node partition). */
  groups: number[];
  /** Share of clients touched: groups.length / groups, or 1 for a node partition. */
  fraction: number;
  /** How long the fault should last before `heal` (ms); 0 for faults that act once. */
  durationMs: number;
  /** One line for the run's fault timeline. */
  describe: string;
  /** Removes what the fault added; safe to call twice. */
  heal(): Promise<void>;
};

export class LiveNetworkError extends Error {
  constructor(
    readonly code: 'CHATSIM_ERR_NOT_NETWORK' | 'CHATSIM_ERR_TOXIPROXY',
    message: string,
  ) {
    super(message);
  }
}

/** Clients per embedded proxy process: two sockets each, under the 20,000-file limit with room to spare. */
export const clientsPerProxyProcessMax = 8_000;
/** Up to this many clients the embedded server runs in this process; above it, in child processes. */
export const inProcessClientsMax = 2_000;

type Server = { client: Toxiproxy; stop(): Promise<void> };

export class LiveNetwork {
  private readonly active = new Set<ActiveFault>();
  /** Numbers each apply, so toxic names stay unique if a fault index is applied twice. */
  private applied = 0;

  private constructor(
    private readonly options: LiveNetworkOptions,
    private readonly servers: Server[],
    /** proxies[group][node] */
    private readonly proxies: ToxiproxyProxy[][],
    private readonly addressTable: string[][],
  ) {}

  static async start(options: LiveNetworkOptions): Promise<LiveNetwork> {
    if (!Number.isInteger(options.groups) || options.groups < 1)
      throw new RangeError(`groups must be a positive integer, got ${options.groups}`);
    if (options.nodes.length === 0) throw new RangeError('nodes must list at least one node address');
    const servers = await startServers(options);
    try {
      const listenHost = options.listenHost ?? '127.0.0.1';
      const proxies: ToxiproxyProxy[][] = [];
      const addresses: string[][] = [];
      for (let group = 0; group < options.groups; group++) {
        const server = servers[group % servers.length]!;
        const row = await Promise.all(
          options.nodes.map((upstream, node) =>
            createProxy(server.client, proxyName(group, node), listenHost, upstream),
          ),
        );
        proxies.push(row);
        addresses.push(row.map((proxy) => dialable(proxy.listen, server.client.host)));
      }
      return new LiveNetwork(options, servers, proxies, addresses);
    } catch (error) {
      await Promise.all(servers.map((server) => server.stop()));
      throw error;
    }
  }

  get groups(): number {
    return this.options.groups;
  }

  groupOf(client: number): number {
    return client % this.options.groups;
  }

  /** host:port a client of `group` dials to reach `node`. */
  address(group: number, node: number): string {
    return this.addressTable[group]![node]!;
  }

  addresses(): string[][] {
    return this.addressTable.map((row) => [...row]);
  }

  /** Starts a network fault. Refuses, by name, faults with no network meaning. */
  async apply(spec: FaultSpec, faultIndex: number): Promise<ActiveFault> {
    const plan = planNetworkFault(spec, this.options.nodes.length);
    if (plan.kind === 'none')
      throw new LiveNetworkError(
        'CHATSIM_ERR_NOT_NETWORK',
        `fault ${describeType(spec.type)} has no network meaning: ${plan.reason}`,
      );
    const groups = plan.allGroups ? range(this.options.groups) : this.pickGroups(plan.fraction, faultIndex);
    const touched = groups.flatMap((group) => plan.nodes.map((node) => this.proxies[group]![node]!));
    const added: Toxic<unknown>[] = [];
    const tag = `chatsim_f${faultIndex}_a${this.applied++}`;
    // A heal removes every toxic it added. A removal the API could not answer in time (a proxy process
    // starved of CPU: the 19,000-client run's partition heal got 408 at load 15 and the partition stayed
    // for the rest of the run) is tried again; the fault stays active until every toxic is gone.
    let healing: Promise<void> | null = null;
    const heal = (): Promise<void> => {
      healing ??= Promise.all(
        added.map((toxic) => retryTransient(() => toxic.remove().catch(ignoreNotFound))),
      ).then(
        () => {
          this.active.delete(fault);
        },
        (error: unknown) => {
          healing = null;
          throw error;
        },
      );
      return healing;
    };
    const fault: ActiveFault = {
      spec,
      groups,
      fraction: plan.allGroups ? 1 : groups.length / this.options.groups,
      durationMs: plan.durationMs,
      describe: describeFault(spec, plan, groups, this.options.groups),
      heal,
    };
    this.active.add(fault);
    try {
      if (plan.kind === 'bounce') await Promise.all(touched.map(bounce));
      else {
        // All at once: one request after another took 8-12 s for ten proxies on a loaded box (each
        // round trip waits on a starved API process), so the fault began seconds after its time.
        const adds = touched.flatMap((proxy) =>
          plan.toxics.map((toxic, i) =>
            proxy
              .addToxic({ ...toxic, name: `${tag}_${i}_${toxic.type}_${toxic.stream}` })
              .then((toxicAdded) => {
                added.push(toxicAdded);
              }),
          ),
        );
        // Every add settles before a failure is thrown, so the heal below removes all that were added.
        const refused = (await Promise.allSettled(adds)).find((result) => result.status === 'rejected');
        if (refused !== undefined) throw refused.reason;
      }
    } catch (error) {
      await heal();
      throw new LiveNetworkError(
        'CHATSIM_ERR_TOXIPROXY',
        `fault ${spec.type}: Toxiproxy refused: ${(error as Error).message}`,
      );
    }
    return fault;
  }

  async healAll(): Promise<void> {
    await Promise.all([...this.active].map((fault) => fault.heal()));
  }

  /** Heals every fault, deletes the proxies, stops embedded servers. */
  async stop(): Promise<void> {
    await this.healAll();
    await Promise.all(this.proxies.flat().map((proxy) => proxy.remove().catch(ignoreNotFound)));
    await Promise.all(this.servers.map((server) => server.stop()));
  }

  private pickGroups(fraction: number, faultIndex: number): number[] {
    const count =
      fraction <= 0
        ? 0
        : Math.min(this.options.groups, Math.max(1, Math.round(fraction * this.options.groups)));
    const rng = new SeedStreams(this.options.seed).stream('live-network-fault', faultIndex);
    const order = range(this.options.groups);
    for (let i = order.length - 1; i > 0; i--) {
      const j = rng.int(i + 1);
      [order[i], order[j]] = [order[j]!, order[i]!];
    }
    return order.slice(0, count).sort((a, b) => a - b);
  }
}

async function startServers(options: LiveNetworkOptions): Promise<Server[]> {
  const url = options.toxiproxyUrl ?? (options.env ?? process.env).TOXIPROXY_URL;
  if (url) {
    const client = new Toxiproxy(url.replace(/\/$/, ''));
    try {
      await client.getVersion();
    } catch (error) {
      throw new LiveNetworkError(
        'CHATSIM_ERR_TOXIPROXY',
        `no Toxiproxy answers at ${url}: ${(error as Error).message}`,
      );
    }
    return [{ client, stop: async () => {} }];
  }
  const clients = options.expectedClients ?? 0;
  if (clients <= inProcessClientsMax) {
    const server = await startToxiproxyServer({ port: 0 });
    return [{ client: new Toxiproxy(server.url), stop: () => server.close() }];
  }
  const count = Math.ceil(clients / clientsPerProxyProcessMax);
  const started = await Promise.allSettled(range(count).map(() => spawnToxiproxy()));
  const running = started.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failed = started.find((result) => result.status === 'rejected');
  if (failed) {
    await Promise.all(running.map((process) => process.stop()));
    throw failed.reason;
  }
  return running.map((process) => ({ client: new Toxiproxy(process.url), stop: () => process.stop() }));
}

function proxyName(group: number, node: number): string {
  return `chatsim_g${group}_n${node}`;
}

/** Creates the proxy, replacing a stale one of the same name (a game-day Toxiproxy outlives runs). */
async function createProxy(
  client: Toxiproxy,
  name: string,
  host: string,
  upstream: string,
): Promise<ToxiproxyProxy> {
  await client.get(name).then((stale) => stale.remove(), ignoreNotFound);
  try {
    return await client.createProxy({
      name,
      listen: `${host.includes(':') ? `[${host}]` : host}:0`,
      upstream,
    });
  } catch (error) {
    throw new LiveNetworkError(
      'CHATSIM_ERR_TOXIPROXY',
      `cannot create proxy ${name} to ${upstream}: ${(error as Error).message}`,
    );
  }
}

/** A proxy bound to every interface is dialled at the Toxiproxy API's host. */
function dialable(listen: string, apiUrl: string): string {
  const wildcard = /^(\[::\]|0\.0\.0\.0|):(\d+)$/.exec(listen);
  if (!wildcard) return listen;
  return `${new URL(apiUrl).hostname}:${wildcard[2]}`;
}

/** Disable then enable: every open connection through the proxy closes at once; new ones get through. */
async function bounce(proxy: ToxiproxyProxy): Promise<void> {
  const body = { listen: proxy.listen, upstream: proxy.upstream };
  await proxy.update({ ...body, enabled: false });
  await proxy.update({ ...body, enabled: true });
}

function ignoreNotFound(error: unknown): void {
  if (!/status code 404/.test((error as Error).message)) throw error;
}

/**
 * Runs `attempt` again while it fails for a reason that may pass (the API did not answer in time: 408,
 * 503, or the connection failed), `chaosLimits.apiRetryDelaysMs` apart; any other error, or the last
 * one, is thrown.
 */
export async function retryTransient(
  attempt: () => Promise<void>,
  delaysMs: readonly number[] = chaosLimits.apiRetryDelaysMs,
  sleep: (ms: number) => Promise<void> = (ms) => new Promise((resolve) => setTimeout(resolve, ms)),
): Promise<void> {
  for (let tries = 0; ; tries++) {
    try {
      return await attempt();
    } catch (error) {
      const delay = delaysMs[tries];
      if (delay === undefined || !transient(error)) throw error;
      await sleep(delay);
    }
  }
}

function transient(error: unknown): boolean {
  const message = (error as Error).message ?? '';
  const code = (error as { code?: string }).code ?? '';
  return (
    /status code (408|429|5\d\d)/.test(message) ||
    /^E(CONNRESET|CONNREFUSED|PIPE|TIMEDOUT)$|^ECONNABORTED$/.test(code)
  );
}

function range(n: number): number[] {
  return Array.from({ length: n }, (_, i) => i);
}

function describeType(type: FaultType): string {
  return `'${type}'`;
}

function describeFault(
  spec: FaultSpec,
  plan: NetworkFaultPlan & { kind: 'toxics' | 'bounce' },
  groups: number[],
  all: number,
): string {
  const who = plan.allGroups
    ? `every client to node ${plan.nodes.join(', ')}`
    : `${groups.length} of ${all} client groups (${Math.round((groups.length / all) * 100)}% of clients)`;
  return `${spec.type}: ${plan.summary} on ${who}`;
}
