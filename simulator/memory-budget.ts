// Whether a run fits the memory it may use, asked before it starts: a run too big for the machine
// otherwise grows for minutes and ends by the kernel's out-of-memory killer (SIGKILL, exit 137: no
// verdict, no report, no reason). The estimate is linear in what a run holds until its end, with
// slopes measured on `million` (docs/benchmarks.md, mem18): its clients (each one's state in the
// world, its rows in the checkers' per-device tables) and the messages its workload sends (the store,
// the checkers' message tables, the pushes of groups of ten). What it does not see (bigger groups,
// bigger bodies, a fault that holds more) the watch during the run (memory-watch.ts) catches.

import type { Scenario } from '../scenarios/scenario.ts';

/**
 * Measured peak RSS (`/usr/bin/time -v`) as a line in clients and sends. Refitted in session 25 on the
 * code after mem24's allocator cut (docs/benchmarks.md, "Session 25"): `million` at 100,000 clients peaked
 * at 758,440 KB, and at 1,000,000 at 4,311,564 KB (the mean of mem24's three runs with the cut: 4,264,552,
 * 4,360,880, 4,309,260), 3,948 bytes a client between them with its 1.2 sends; 300,000 (1,565,900-1,569,712 KB)
 * lies on the line. The send slope is mem18's: at 100,000 clients twice the messages (240,797 sends, not
 * 120,375) added 138,828 KB, 1.15 KiB a send; the rest of a client's bytes is the client's own.
 */
export const memoryEstimateSlopes = {
  /** What the line gives no clients: Node, the code, both threads' young generations. */
  fixedBytes: 355 * 2 ** 20,
  /** A client (its state in the world, its rows in the checkers' tables), beside what it sends. */
  clientBytes: 2622,
  /** A message the workload sends (in the store and the checkers' tables; its pushes to a group of ten). */
  sendBytes: 1180,
  /**
   * How far a run's peak may lie above the line: a million peaked at 4.75 GiB on 993d226 and at 5.51
   * (+16%) on a23092c in the same hour, most of it the world's committed heap (2.31 against 2.90 GiB),
   * which swings by as much between runs of the same code (docs/benchmarks.md, mem17; cause not found).
   */
  swingShare: 0.17,
} as const;

/**
 * The share of the memory a run may use at which the watch stops it (memory-watch.ts): the rest is room
 * for the machine's other processes and for the run to stop and say why.
 */
export const memoryCeilingShare = 0.9;

export type MemoryLimit = {
  bytes: number;
  /** Where it comes from, for the message: the machine's RAM, the cgroup's limit, or `--memory-limit`. */
  source: string;
};

/** `peakBytes` on the measured line; `highBytes` that with the swing seen between runs of the same code. */
export type MemoryEstimate = { peakBytes: number; highBytes: number; clients: number; sends: number };

/** cgroup v2's `memory.max`, then v1's `memory.limit_in_bytes`: where a container's limit is read. */
export const cgroupLimitFiles = [
  '/sys/fs/cgroup/memory.max',
  '/sys/fs/cgroup/memory/memory.limit_in_bytes',
] as const;

/** A cgroup limit file's text as bytes, or null when it sets none (`max`, or v1's "unlimited" near 2^63). */
export function cgroupLimitBytes(text: string): number | null {
  const value = text.trim();
  if (!/^\d+$/.test(value)) return null;
  const bytes = Number(value);
  return bytes >= 2 ** 60 ? null : bytes;
}

/**
 * The memory a run may use: `overrideMiB` when given, else the machine's RAM, or the cgroup's limit
 * when one is set and lower. `cgroupFiles` are the limit files that exist, with their text.
 */
export function memoryLimit(
  totalBytes: number,
  cgroupFiles: readonly { path: string; text: string }[],
  overrideMiB?: number,
): MemoryLimit {
  if (overrideMiB !== undefined) return { bytes: overrideMiB * 2 ** 20, source: '--memory-limit' };
  let limit: MemoryLimit = { bytes: totalBytes, source: "the machine's RAM" };
  for (const file of cgroupFiles) {
    const bytes = cgroupLimitBytes(file.text);
    if (bytes !== null && bytes < limit.bytes) limit = { bytes, source: `the cgroup's limit (${file.path})` };
  }
  return limit;
}

/** The messages a scenario's workload sends over its load phases with `clients` clients, at its peak rate. */
export function expectedSends(scenario: Scenario, clients: number): number {
  const { ratePer1kClients, stages } = scenario.workload;
  const peak = Math.max(1, ...(stages ?? []).map((stage) => stage.target));
  const { warmupMs, faultsMs, healMs } = scenario.phases;
  return Math.round(((ratePer1kClients * clients) / 1000) * peak * ((warmupMs + faultsMs + healMs) / 1000));
}

export function estimatePeak(clients: number, sends: number): MemoryEstimate {
  const { fixedBytes, clientBytes, sendBytes, swingShare } = memoryEstimateSlopes;
  const peakBytes = fixedBytes + clients * clientBytes + sends * sendBytes;
  return { peakBytes, highBytes: Math.round(peakBytes * (1 + swingShare)), clients, sends };
}

/** Where the watch stops a run: `memoryCeilingShare` of its limit. */
export function ceilingBytes(limit: MemoryLimit): number {
  return limit.bytes * memoryCeilingShare;
}

/**
 * Null when the run fits; else the one line that refuses it: its estimate is past where the watch would
 * stop it, so it could only end unjudged. With the estimate, the limit and what to do.
 */
export function refusal(estimate: MemoryEstimate, limit: MemoryLimit): string | null {
  if (estimate.peakBytes <= ceilingBytes(limit)) return null;
  const fit = clientsThatFit(estimate, limit);
  return (
    `${estimate.clients} clients sending about ${estimate.sends} messages would need about ` +
    `${gib(estimate.peakBytes)} of memory at their peak, more than the ${gib(ceilingBytes(limit))} a run may ` +
    `reach of the ${gib(limit.bytes)} it may use (${limit.source}), where it is stopped unjudged. ` +
    `${fit >= 2 ? `Run at most --clients ${fit}, or` : 'Run'} on a machine with more memory, or pass ` +
    '--skip-memory-estimate to run anyway'
  );
}

/** Null, or a line that says a run that fits on the measured line may not fit with the swing between runs. */
export function memoryWarning(estimate: MemoryEstimate, limit: MemoryLimit): string | null {
  if (estimate.highBytes <= ceilingBytes(limit) || estimate.peakBytes > ceilingBytes(limit)) return null;
  return (
    `${estimate.clients} clients may not fit: their peak is estimated at ${gib(estimate.peakBytes)} to ` +
    `${gib(estimate.highBytes)}, and a run is stopped unjudged at ${gib(ceilingBytes(limit))} ` +
    `(${memoryCeilingShare * 100}% of ${gib(limit.bytes)}, ${limit.source})`
  );
}

/** The most clients whose estimate stays under the ceiling, at the estimate's messages per client. */
export function clientsThatFit(estimate: MemoryEstimate, limit: MemoryLimit): number {
  const { fixedBytes, clientBytes, sendBytes } = memoryEstimateSlopes;
  const perClient = clientBytes + (estimate.sends / estimate.clients) * sendBytes;
  return Math.max(0, Math.floor((ceilingBytes(limit) - fixedBytes) / perClient));
}

/** `1.5 GiB`, or `300 MiB` below a GiB. */
export function gib(bytes: number): string {
  return bytes >= 2 ** 30 ? `${(bytes / 2 ** 30).toFixed(1)} GiB` : `${Math.round(bytes / 2 ** 20)} MiB`;
}
