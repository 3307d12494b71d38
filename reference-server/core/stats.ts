// Counters and histograms the core keeps about itself. Plain numbers, so the core stays sans-I/O:
// the live runtime exposes them through prom-client at scrape time, the simulator reads them directly.

/** Upper bounds (ms) shared by every latency histogram, so Prometheus and simulator reports agree. */
export const latencyBucketsMs = [0.5, 1, 2, 5, 10, 20, 50, 100, 200, 500, 1000, 2000, 5000] as const;

export class Histogram {
  /** counts[i] holds observations <= bounds[i]; the last slot holds the rest (+Inf). */
  readonly counts: number[];
  sum = 0;
  count = 0;

  constructor(readonly bounds: readonly number[] = latencyBucketsMs) {
    this.counts = new Array(bounds.length + 1).fill(0);
  }

  observe(value: number): void {
    let i = 0;
    while (i < this.bounds.length && value > this.bounds[i]!) i++;
    this.counts[i]!++;
    this.sum += value;
    this.count++;
  }

  /**
   * Upper bound of the bucket that holds quantile q (0..1), by nearest rank: the bucket of the smallest
   * observation with at least q of them at or below it (quantile 0 is the smallest observation's).
   * Infinity when it falls past the last bound; 0 for an empty histogram.
   */
  quantile(q: number): number {
    if (this.count === 0) return 0;
    // toPrecision drops floating-point noise: 0.07 * 100 is 7.000000000000001, rank 7, not 8.
    const rank = Math.max(1, Math.ceil(Number((q * this.count).toPrecision(12))));
    let seen = 0;
    for (let i = 0; i < this.counts.length; i++) {
      seen += this.counts[i]!;
      if (seen >= rank) return i < this.bounds.length ? this.bounds[i]! : Number.POSITIVE_INFINITY;
    }
    return Number.POSITIVE_INFINITY;
  }
}

export class NodeStats {
  connections = 0;
  framesIn = new Map<string, number>();
  framesOut = new Map<string, number>();
  acks = 0;
  readonly ackLatencyMs = new Histogram();
  fanoutDeliveries = 0;
  rateLimitedSends = 0;
  badFrames = 0;
  slowConsumerCloses = 0;
  storeUnavailable = 0;
  /** Catch-ups after a lost bus (every conversation re-read). */
  catchUps = 0;
  /** Messages this node missed on the bus and pushed after reading them from the store. */
  gapFillPushes = 0;

  countIn(type: string): void {
    this.framesIn.set(type, (this.framesIn.get(type) ?? 0) + 1);
  }

  countOut(type: string, n: number): void {
    this.framesOut.set(type, (this.framesOut.get(type) ?? 0) + n);
  }
}
