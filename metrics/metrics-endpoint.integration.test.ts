// A real Prometheus scrapes the harness's /metrics endpoint while a live run (reference server, real
// sockets) feeds it, and its histogram_quantile(0.99, ...) agrees with the harness's own p99 within
// bucket resolution; a real Pushgateway receives the run's push.

import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { referenceFleet } from '../simulator/live/reference-fleet.ts';
import { runLive } from '../simulator/live/run-live.ts';
import { shortenScenario } from '../simulator/live/shorten.ts';
import { eventually } from '../test-support/eventually.ts';
import { PrometheusProcess } from '../test-support/prometheus-process.ts';
import { PushgatewayProcess } from '../test-support/pushgateway-process.ts';
import { type MetricsEndpoint, PushError, pushToGateway, startMetricsEndpoint } from './metrics-endpoint.ts';
import { quantileBucket, type RunRecorder } from './run-recorder.ts';
import { scenarioRecorder } from './scenario-recorder.ts';

describe('metrics endpoint and Pushgateway', () => {
  let recorder: RunRecorder;
  let endpoint: MetricsEndpoint;
  let prometheus: PrometheusProcess | undefined;
  let gateway: PushgatewayProcess | undefined;

  let scrapedDuringRun = 0;

  beforeAll(async () => {
    const scenario = shortenScenario(loadScenario('steady'), {
      warmupMs: 2000,
      faultsMs: 6000,
      healMs: 1000,
      clients: 80,
    });
    recorder = scenarioRecorder(scenario, 'scrape-test');
    endpoint = await startMetricsEndpoint({ recorder });
    const target = new URL(endpoint.url).host;
    prometheus = await PrometheusProcess.start(
      `global:\n  scrape_interval: 1s\nscrape_configs:\n  - job_name: chatsim\n    static_configs:\n      - targets: ['${target}']\n`,
    );
    const secret = 'metrics-scrape-test-secret-0123456789abcdef';
    const summary = await runLive(scenario, {
      seed: 5,
      fleet: referenceFleet({ nodes: 1, secret, limits: scenario.limits, bugs: [] }),
      secret,
      recorder,
    });
    // 2 (an SLO breached) happens on a busy shared machine; what matters here is what was measured.
    expect([0, 2]).toContain(summary.exitCode);
    // Scrapes taken while the run went on, before the recorder's last word.
    scrapedDuringRun = (
      await prometheus.query(
        'count_over_time(chatsim_harness_sends_total{run_id="scrape-test",phase="faults"}[5m])',
      )
    ).reduce((n, s) => n + Number(s.value[1]), 0);
    recorder.finish(summary.verdicts, summary.virtualMs);
  }, 180_000);

  afterAll(async () => {
    await prometheus?.stop();
    await gateway?.stop();
    await endpoint?.close();
  });

  it('serves Prometheus text with the run labels, and 404 elsewhere', async () => {
    const body = await (await fetch(endpoint.url)).text();
    expect(body).toContain('# TYPE chatsim_harness_sends_total counter');
    expect(body).toMatch(
      /chatsim_harness_sends_total\{scenario="steady",phase="faults",run_id="scrape-test"\} \d+/,
    );
    expect(body).toContain('chatsim_harness_delivery_latency_seconds_bucket{');
    expect((await fetch(endpoint.url.replace('/metrics', '/nope'))).status).toBe(404);
  });

  it("is scraped by Prometheus during a live run, whose p99 agrees with the harness's within bucket resolution", async () => {
    expect(scrapedDuringRun).toBeGreaterThan(2);
    const delivered = recorder.histogramTotals('delivery').count;
    expect(delivered).toBeGreaterThan(100);
    // Wait for a scrape of the final numbers.
    await eventually(
      async () => {
        const seen = await prometheus!.scalar(
          'sum(chatsim_harness_delivery_latency_seconds_count{run_id="scrape-test"})',
        );
        if (seen !== delivered) throw new Error(`scraped ${seen} of ${delivered}`);
      },
      200,
      100,
    );
    const expr =
      'histogram_quantile(0.99, sum by (le) (chatsim_harness_delivery_latency_seconds_bucket{run_id="scrape-test"}))';
    const p99 = await prometheus!.scalar(expr);
    const own = quantileBucket(recorder.histogramTotals('delivery'), 0.99)!;
    expect(p99 * 1000).toBeGreaterThanOrEqual(own.lowerMs);
    expect(p99 * 1000).toBeLessThanOrEqual(own.upperMs);
    const ackP99 = await prometheus!.scalar(
      'histogram_quantile(0.99, sum by (le) (chatsim_harness_ack_latency_seconds_bucket{run_id="scrape-test"}))',
    );
    const ownAck = quantileBucket(recorder.histogramTotals('ack'), 0.99)!;
    expect(ackP99 * 1000).toBeGreaterThanOrEqual(ownAck.lowerMs);
    expect(ackP99 * 1000).toBeLessThanOrEqual(ownAck.upperMs);
  });

  it('pushes to a Pushgateway, grouped by run id', async () => {
    gateway = await PushgatewayProcess.start();
    await pushToGateway(gateway.url, recorder);
    const body = await gateway.metrics();
    const line = body
      .split('\n')
      .find((l) => l.startsWith('chatsim_harness_sends_total{') && l.includes('phase="faults"'));
    expect(line).toContain('job="chatsim"');
    expect(line).toContain('run_id="scrape-test"');
    expect(Number(line!.split(' ').at(-1))).toBeGreaterThan(0);
  });

  it('says what to check when the Pushgateway is unreachable', async () => {
    await expect(pushToGateway('http://127.0.0.1:1', recorder)).rejects.toThrow(PushError);
    await expect(pushToGateway('http://127.0.0.1:1', recorder)).rejects.toThrow(/is it running/);
  });
});
