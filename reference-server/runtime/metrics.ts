// The Prometheus exposition of one server. The core keeps plain counters (core/stats.ts); this file
// reads them at scrape time, so the hot path pays nothing for metrics. Every name starts with
// `chatsim_`, latencies are in seconds (`_seconds`), counters end in `_total`.

import { Counter, collectDefaultMetrics, Gauge, Histogram, type Metric, Registry } from 'prom-client';
import { type Histogram as CoreHistogram, latencyBucketsMs, type NodeStats } from '../core/stats.ts';

/** What the metrics read from a running node; ChatNode satisfies it. */
export type MetricsSource = {
  readonly stats: NodeStats;
  readonly connectionCount: number;
  readonly pendingStoreOps: number;
};

const msPerSecond = 1000;

export class ServerMetrics {
  readonly registry = new Registry();
  private readonly fsyncSeconds: Histogram;
  private readonly fsyncRecords: Counter;

  constructor(source: MetricsSource) {
    const registers = [this.registry];
    const { registry } = this;
    new Gauge({
      name: 'chatsim_connections',
      help: 'Open WebSocket connections',
      registers,
      collect() {
        this.set(source.connectionCount);
      },
    });
    new Gauge({
      name: 'chatsim_store_pending_ops',
      help: 'Store operations started and not yet answered',
      registers,
      collect() {
        this.set(source.pendingStoreOps);
      },
    });
    countersByType(
      registers,
      'chatsim_frames_in_total',
      'Frames received, by type',
      () => source.stats.framesIn,
    );
    countersByType(registers, 'chatsim_frames_out_total', 'Frames sent, by type (one per recipient)', () => {
      return source.stats.framesOut;
    });
    counterOf(registers, 'chatsim_acks_total', 'Messages acknowledged as durable', () => source.stats.acks);
    counterOf(registers, 'chatsim_fanout_deliveries_total', 'Messages pushed to member connections', () => {
      return source.stats.fanoutDeliveries;
    });
    counterOf(registers, 'chatsim_rate_limited_sends_total', 'Sends refused with rate_limited', () => {
      return source.stats.rateLimitedSends;
    });
    counterOf(registers, 'chatsim_bad_frames_total', 'Frames answered with bad_request', () => {
      return source.stats.badFrames;
    });
    counterOf(
      registers,
      'chatsim_slow_consumer_closes_total',
      'Connections closed 4509 (send buffer full)',
      () => {
        return source.stats.slowConsumerCloses;
      },
    );
    counterOf(
      registers,
      'chatsim_store_unavailable_total',
      'Store operations that failed (answered unavailable)',
      () => {
        return source.stats.storeUnavailable;
      },
    );
    registry.registerMetric(
      histogramOf(
        'chatsim_ack_latency_seconds',
        'From a send frame received to its ack sent',
        () => source.stats.ackLatencyMs,
      ),
    );
    this.fsyncSeconds = new Histogram({
      name: 'chatsim_store_fsync_seconds',
      help: 'Duration of one fsync of the message log',
      buckets: latencyBucketsMs.map((ms) => ms / msPerSecond),
      registers,
    });
    this.fsyncRecords = new Counter({
      name: 'chatsim_store_fsync_records_total',
      help: 'Records made durable by fsyncs of the message log',
      registers,
    });
  }

  /** Wire to LogStore's `onFsync`. */
  observeFsync(durationMs: number, records: number): void {
    this.fsyncSeconds.observe(durationMs / msPerSecond);
    this.fsyncRecords.inc(records);
  }

  /** The body of GET /metrics: this server's metrics, then the process's. */
  async exposition(): Promise<{ contentType: string; body: string }> {
    const own = await this.registry.metrics();
    const processWide = await processRegistry().metrics();
    return { contentType: this.registry.contentType, body: own + processWide };
  }
}

let sharedProcessRegistry: Registry | undefined;

/**
 * Process metrics (CPU, memory, event loop lag, GC) describe the process, not a server, and prom-client
 * starts observers for them that are never stopped: one registry per process, however many servers
 * a test process starts.
 */
function processRegistry(): Registry {
  if (!sharedProcessRegistry) {
    sharedProcessRegistry = new Registry();
    collectDefaultMetrics({ register: sharedProcessRegistry, prefix: 'chatsim_' });
  }
  return sharedProcessRegistry;
}

function counterOf(registers: Registry[], name: string, help: string, read: () => number): void {
  new Counter({
    name,
    help,
    registers,
    collect() {
      this.reset();
      this.inc(read());
    },
  });
}

function countersByType(
  registers: Registry[],
  name: string,
  help: string,
  read: () => ReadonlyMap<string, number>,
): void {
  new Counter({
    name,
    help,
    labelNames: ['type'],
    registers,
    collect() {
      this.reset();
      for (const [type, count] of read()) this.inc({ type }, count);
    },
  });
}

/**
 * A Prometheus histogram over the core's own per-bucket counts. prom-client's Histogram can only be
 * fed observations, so this is a custom metric object the registry duck-types: buckets are made
 * cumulative here, and the +Inf bucket equals the count.
 */
function histogramOf(name: string, help: string, read: () => CoreHistogram): Metric {
  const metric = {
    name,
    help,
    type: 'histogram',
    aggregator: 'sum',
    reset() {},
    async get() {
      const histogram = read();
      const values: { metricName: string; labels: Record<string, string | number>; value: number }[] = [];
      let cumulative = 0;
      histogram.bounds.forEach((boundMs, i) => {
        cumulative += histogram.counts[i] ?? 0;
        values.push({
          metricName: `${name}_bucket`,
          labels: { le: boundMs / msPerSecond },
          value: cumulative,
        });
      });
      values.push({ metricName: `${name}_bucket`, labels: { le: '+Inf' }, value: histogram.count });
      values.push({ metricName: `${name}_sum`, labels: {}, value: histogram.sum / msPerSecond });
      values.push({ metricName: `${name}_count`, labels: {}, value: histogram.count });
      return { name, help, type: 'histogram', aggregator: 'sum', values };
    },
  };
  return metric as unknown as Metric;
}
