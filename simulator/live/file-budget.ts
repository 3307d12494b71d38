// How a live run fits the per-process open-file limit: every client socket is a file in a generator
// process and another in the node it reaches (proxies cost their own, chaos/live-network.ts sizes
// those). Before anything starts, the run is planned so that no generator and no node this machine
// runs would need more files than the limit leaves after the process's own (its log, listening
// sockets, Redis connections, stdio, epoll): more generators when there are many clients, and a clear
// refusal when the nodes are too few, since the driver cannot add nodes on its own.

import { readFileSync } from 'node:fs';
import type { FaultSpec } from '../../scenarios/scenario.ts';
import { liveLimits } from './limits.ts';

export class FileBudgetError extends Error {
  readonly code = 'CHATSIM_ERR_FILE_BUDGET';
}

/** The soft open-file limit this process (and so every child it starts) runs under; null if unknown. */
export function openFilesLimit(
  read: () => string = () => readFileSync('/proc/self/limits', 'utf8'),
): number | null {
  let text: string;
  try {
    text = read();
  } catch {
    return null;
  }
  const match = /^Max open files\s+(\d+|unlimited)\s/m.exec(text);
  if (!match) return null;
  return match[1] === 'unlimited' ? Number.POSITIVE_INFINITY : Number(match[1]);
}

export type SocketPlanInput = {
  /** Virtual clients (devices) in the run, adversaries included: one socket each. */
  devices: number;
  /** Nodes the run starts on this machine (their sockets count against the limit); 0 for servers elsewhere. */
  localNodes: number;
  /** At least this many generator processes. */
  generatorsMin: number;
  /** The per-process open-file limit (openFilesLimit()). */
  filesMax: number;
  /** Files a process keeps for itself (default liveLimits.ownFilesReserve). */
  reserve?: number;
};

export type SocketPlan = {
  generators: number;
  /** Most client sockets one generator holds. */
  socketsPerGenerator: number;
  /** Most client sockets one node holds when every client is on its home node; 0 without local nodes. */
  socketsPerNode: number;
  /** Client sockets one node may hold: the limit less the reserve. */
  socketsMax: number;
};

/** Generators and per-process socket counts for a run, or a FileBudgetError saying what to change. */
export function planSockets(input: SocketPlanInput): SocketPlan {
  const reserve = input.reserve ?? liveLimits.ownFilesReserve;
  const socketsMax = input.filesMax - reserve;
  const limitText = `${fmt(input.filesMax)} open files per process here, ${fmt(reserve)} kept for the process's own`;
  if (socketsMax < 1)
    throw new FileBudgetError(
      `a live run needs more open files than this machine allows (${limitText}): raise 'ulimit -n'`,
    );
  // A generator also stays at a size one core drives well, even where files are unlimited.
  const perGeneratorMax = Math.min(liveLimits.socketsPerGeneratorMax, socketsMax);
  const generators = Math.max(input.generatorsMin, Math.ceil(input.devices / perGeneratorMax));
  const socketsPerGenerator = Math.ceil(input.devices / generators);
  // Clients are spread over the nodes by device index (live-shard.ts: home = index), so the busiest
  // node holds the ceiling of the even share.
  const socketsPerNode = input.localNodes === 0 ? 0 : Math.ceil(input.devices / input.localNodes);
  if (socketsPerNode > socketsMax) {
    const nodesNeeded = Math.ceil(input.devices / socketsMax);
    throw new FileBudgetError(
      `${fmt(input.devices)} clients on ${input.localNodes} node${input.localNodes === 1 ? '' : 's'} would put ${fmt(socketsPerNode)} sockets on one node, above the ${fmt(socketsMax)} a process may hold (${limitText}): use --nodes ${nodesNeeded} or more, or --clients ${fmt(socketsMax * input.localNodes)} or fewer`,
    );
  }
  return { generators, socketsPerGenerator, socketsPerNode, socketsMax };
}

/**
 * Faults that send a node's clients to another node (a client whose connect fails tries the next node,
 * live-shard.ts): a crashed, paused, cut off or draining node's share lands on its neighbour.
 */
const movesClients = (spec: FaultSpec): boolean =>
  spec.type === 'node-crash' ||
  spec.type === 'node-pause' ||
  spec.type === 'rolling-restart' ||
  (spec.type === 'partition' && spec.target === 'node');

/**
 * One line saying that a node fault may push a node past the limit (its clients fail over to the next
 * node), or null. A warning, not a refusal: how many clients move depends on the timing.
 */
export function failoverWarning(
  plan: SocketPlan,
  localNodes: number,
  faults: readonly FaultSpec[],
): string | null {
  if (localNodes < 2 || !faults.some(movesClients)) return null;
  const doubled = plan.socketsPerNode * 2;
  if (doubled <= plan.socketsMax) return null;
  return `a node fault moves that node's clients to the next node: up to ${fmt(doubled)} sockets there, above the ${fmt(plan.socketsMax)} a process may hold; use --nodes ${Math.ceil((localNodes * doubled) / plan.socketsMax)} or more to be safe`;
}

/** Node i's listening address: nodes are spread over 127.0.0.1, 127.0.0.2, ... (loopback answers all of 127/8). */
export function loopbackHost(node: number): string {
  if (!Number.isInteger(node) || node < 0 || node > 253)
    throw new RangeError(`no loopback host for node ${node}`);
  return `127.0.0.${node + 1}`;
}

function fmt(n: number): string {
  return Number.isFinite(n) ? n.toLocaleString('en-US') : 'unlimited';
}
