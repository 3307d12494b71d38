// The cores a simulated fleet shares with what ran beside it when its cost model was measured (the
// model's `host`: the box's cores, and what the other processes there, Redis, the load generators and
// the driver, spent whatever the load and per message). Three nodes, a Redis, a generator and a driver
// on 2 cores do not each get a core: the live three-node knee here was the box's (docs/benchmarks.md).
// A step of a node starts at the speed the host can give it then: what the cores leave after the
// others' CPU at the recent message rate and every node's fixed share, split among the nodes busy at
// that moment, at most a whole core less the node's own fixed share. The speed is fixed for the step
// (not re-shared when another node starts mid-step): an approximation of processor sharing that is
// exact when the nodes are all busy or all idle, which is where a knee is decided.

import type { CostModel, HostShare } from './cost-model.ts';

/** The message rate that sets the others' CPU is counted over this window of virtual time. */
export const rateWindowMs = 1000;
const bucketMs = 100;
const buckets = rateWindowMs / bucketMs;

/** A speed below this (a host with no CPU left for nodes) is held at it: the queue grows, time moves. */
export const speedMin = 0.01;

export class HostCpu {
  private readonly busyUntil: number[];
  private readonly counts = new Array<number>(buckets).fill(0);
  private bucketAt = 0;
  private readonly nodeFixed: number;
  private readonly nodeShareMax: number;

  constructor(
    private readonly host: HostShare,
    model: CostModel,
    nodes: number,
  ) {
    this.busyUntil = new Array<number>(nodes).fill(0);
    this.nodeFixed = model.fixedCpuShare ?? 0;
    this.nodeShareMax = (model.cpuShare ?? 1) - this.nodeFixed;
  }

  /** A message was sent (a send step served): the others' CPU follows the rate of these. */
  message(now: number): void {
    this.advance(now);
    this.counts[Math.floor(now / bucketMs) % buckets]! += 1;
  }

  /** Messages per second over the last window (the current, partial bucket included). */
  messageRate(now: number): number {
    this.advance(now);
    let sum = 0;
    for (const count of this.counts) sum += count;
    return (sum * 1000) / rateWindowMs;
  }

  /** Cores the nodes' steps may use now: the host less the others and every node's fixed share. */
  coresForSteps(now: number): number {
    const others = this.host.othersFixedCores + (this.host.othersUsPerMessage * this.messageRate(now)) / 1e6;
    return this.host.cores - others - this.nodeFixed * this.busyUntil.length;
  }

  /**
   * The share of a core node `index` gets for a step starting now (which it then holds until
   * `busyUntil`, set by `served`): an even split among the nodes busy now, this one included.
   */
  speed(index: number, now: number): number {
    let busy = 1;
    for (let i = 0; i < this.busyUntil.length; i++) if (i !== index && this.busyUntil[i]! > now) busy++;
    const share = Math.min(this.nodeShareMax, this.coresForSteps(now) / busy);
    return Math.max(speedMin, share);
  }

  served(index: number, until: number): void {
    this.busyUntil[index] = until;
  }

  reset(index: number): void {
    this.busyUntil[index] = 0;
  }

  /** Empties the buckets that the clock has passed since the last call. */
  private advance(now: number): void {
    const bucket = Math.floor(now / bucketMs);
    if (bucket === this.bucketAt) return;
    const stale = Math.min(buckets, bucket - this.bucketAt);
    for (let i = 1; i <= stale; i++) this.counts[(this.bucketAt + i) % buckets] = 0;
    this.bucketAt = bucket;
  }
}
