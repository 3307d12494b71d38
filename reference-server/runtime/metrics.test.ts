import { describe, expect, it } from 'vitest';
import { NodeStats } from '../core/stats.ts';
import { type MetricsSource, ServerMetrics } from './metrics.ts';

function source(): MetricsSource & { stats: NodeStats; connectionCount: number; pendingStoreOps: number } {
  return { stats: new NodeStats(), connectionCount: 0, pendingStoreOps: 0 };
}

/** The value of the sample line `name{labels}` exactly as exposed, or undefined. */
function sample(body: string, series: string): number | undefined {
  const line = body.split('\n').find((l) => l.startsWith(`${series} `));
  return line === undefined ? undefined : Number(line.slice(series.length + 1));
}

describe('ServerMetrics', () => {
  it('exposes every listed metric with chatsim_ names, counters ending in _total', async () => {
    const metrics = new ServerMetrics(source());
    const { contentType, body } = await metrics.exposition();
    expect(contentType).toMatch(/^text\/plain/);
    for (const name of [
      'chatsim_connections',
      'chatsim_store_pending_ops',
      'chatsim_frames_in_total',
      'chatsim_frames_out_total',
      'chatsim_acks_total',
      'chatsim_ack_latency_seconds',
      'chatsim_store_fsync_seconds',
      'chatsim_fanout_deliveries_total',
      'chatsim_rate_limited_sends_total',
      'chatsim_bad_frames_total',
      'chatsim_slow_consumer_closes_total',
      'chatsim_process_cpu_seconds_total',
      'chatsim_nodejs_eventloop_lag_seconds',
    ]) {
      expect(body).toContain(`# TYPE ${name} `);
    }
    const names = [...body.matchAll(/^# TYPE (\S+) counter$/gm)].map((m) => m[1]);
    expect(names.length).toBeGreaterThan(5);
    for (const name of names) expect(name).toMatch(/^chatsim_.*_total$/);
  });

  it('reads the core counters at scrape time', async () => {
    const src = source();
    const metrics = new ServerMetrics(src);
    src.connectionCount = 3;
    src.pendingStoreOps = 2;
    src.stats.countIn('send');
    src.stats.countIn('send');
    src.stats.countOut('msg', 5);
    src.stats.acks = 7;
    src.stats.fanoutDeliveries = 11;
    src.stats.rateLimitedSends = 1;
    src.stats.badFrames = 4;
    src.stats.slowConsumerCloses = 2;
    let { body } = await metrics.exposition();
    expect(sample(body, 'chatsim_connections')).toBe(3);
    expect(sample(body, 'chatsim_store_pending_ops')).toBe(2);
    expect(sample(body, 'chatsim_frames_in_total{type="send"}')).toBe(2);
    expect(sample(body, 'chatsim_frames_out_total{type="msg"}')).toBe(5);
    expect(sample(body, 'chatsim_acks_total')).toBe(7);
    expect(sample(body, 'chatsim_fanout_deliveries_total')).toBe(11);
    expect(sample(body, 'chatsim_rate_limited_sends_total')).toBe(1);
    expect(sample(body, 'chatsim_bad_frames_total')).toBe(4);
    expect(sample(body, 'chatsim_slow_consumer_closes_total')).toBe(2);

    src.stats.acks = 9;
    src.stats.countIn('send');
    ({ body } = await metrics.exposition());
    expect(sample(body, 'chatsim_acks_total')).toBe(9);
    expect(sample(body, 'chatsim_frames_in_total{type="send"}')).toBe(3);
  });

  it('exposes ack latency as cumulative buckets in seconds, +Inf equal to the count', async () => {
    const src = source();
    const metrics = new ServerMetrics(src);
    for (const ms of [0.2, 0.7, 3, 3, 40, 9000]) src.stats.ackLatencyMs.observe(ms);
    const { body } = await metrics.exposition();
    const bucket = (le: string) => sample(body, `chatsim_ack_latency_seconds_bucket{le="${le}"}`);
    expect(bucket('0.0005')).toBe(1);
    expect(bucket('0.001')).toBe(2);
    expect(bucket('0.002')).toBe(2);
    expect(bucket('0.005')).toBe(4);
    expect(bucket('0.05')).toBe(5);
    expect(bucket('5')).toBe(5);
    expect(bucket('+Inf')).toBe(6);
    expect(sample(body, 'chatsim_ack_latency_seconds_count')).toBe(6);
    expect(sample(body, 'chatsim_ack_latency_seconds_sum')).toBeCloseTo(9.0469, 6);
  });

  it('records fsync durations in seconds', async () => {
    const metrics = new ServerMetrics(source());
    metrics.observeFsync(1.5, 10);
    metrics.observeFsync(30, 2);
    const { body } = await metrics.exposition();
    expect(sample(body, 'chatsim_store_fsync_seconds_bucket{le="0.002"}')).toBe(1);
    expect(sample(body, 'chatsim_store_fsync_seconds_bucket{le="0.05"}')).toBe(2);
    expect(sample(body, 'chatsim_store_fsync_seconds_count')).toBe(2);
    expect(sample(body, 'chatsim_store_fsync_records_total')).toBe(12);
  });

  it('lets two servers in one process keep separate registries', async () => {
    const a = source();
    const b = source();
    const metricsA = new ServerMetrics(a);
    const metricsB = new ServerMetrics(b);
    a.stats.acks = 1;
    b.stats.acks = 2;
    expect(sample((await metricsA.exposition()).body, 'chatsim_acks_total')).toBe(1);
    expect(sample((await metricsB.exposition()).body, 'chatsim_acks_total')).toBe(2);
  });
});
