// A simulated run's OpenMetrics file, imported with promtool into a TSDB block and queried by a real
// Prometheus: the series a dashboard reads hold the numbers the harness counted itself.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { PrometheusProcess, promtool } from '../test-support/prometheus-process.ts';
import { writeOpenMetrics } from './openmetrics-file.ts';
import { quantileBucket, type RunRecorder } from './run-recorder.ts';
import { scenarioRecorder } from './scenario-recorder.ts';

describe('OpenMetrics file of a simulated run', () => {
  const dir = mkdtempSync(join(tmpdir(), 'chatsim-om-'));
  const file = join(dir, 'run.om');
  const startEpochMs = Math.floor(Date.now() / 1000) * 1000 - 3600_000;
  let recorder: RunRecorder;
  let endSeconds: number;
  let prometheus: PrometheusProcess;

  beforeAll(async () => {
    const scenario = loadScenario('partition');
    recorder = scenarioRecorder(scenario, 'om-test');
    const summary = await runScenario(scenario, { seed: 3, clients: 300, recorder });
    recorder.finish(summary.verdicts, summary.virtualMs, summary.events);
    writeOpenMetrics(file, recorder, { scenario: scenario.name, run_id: 'om-test' }, startEpochMs);
    endSeconds = (startEpochMs + summary.virtualMs) / 1000;
    await promtool(['tsdb', 'create-blocks-from', 'openmetrics', file, join(dir, 'data')]);
    prometheus = await PrometheusProcess.start('global:\n  scrape_interval: 15s\n', join(dir, 'data'));
  });

  afterAll(async () => {
    await prometheus?.stop();
  });

  it('ends with # EOF and stamps every sample', () => {
    const lines = readFileSync(file, 'utf8').trimEnd().split('\n');
    expect(lines.at(-1)).toBe('# EOF');
    const samples = lines.filter((line) => !line.startsWith('#'));
    expect(samples.length).toBeGreaterThan(1000);
    for (const line of samples) expect(line).toMatch(/ \d+\.\d{3}$/);
  });

  it('imports into Prometheus with the counts the harness kept', async () => {
    const sum = (expr: string) => prometheus.scalar(`sum(${expr}{run_id="om-test"})`, endSeconds);
    expect(recorder.total('sends')).toBeGreaterThan(100);
    expect(await sum('chatsim_harness_sends_total')).toBe(recorder.total('sends'));
    expect(await sum('chatsim_harness_displays_total')).toBe(recorder.total('displays'));
    expect(await sum('chatsim_harness_delivery_latency_seconds_count')).toBe(
      recorder.histogramTotals('delivery').count,
    );
    expect(await sum('chatsim_harness_fanout_lag_seconds_count')).toBe(
      recorder.histogramTotals('fanout').count,
    );
    expect(await sum('chatsim_harness_connected_clients')).toBe(recorder.connected);
  });

  it('shows the partition as a fault window', async () => {
    const active = await prometheus.query(
      `max_over_time(chatsim_harness_fault_active{run_id="om-test",fault="partition"}[1h])`,
      endSeconds,
    );
    expect(active.map((s) => Number(s.value[1]))).toContain(1);
  });

  it('answers histogram_quantile over the imported run within bucket resolution', async () => {
    const p99 = await prometheus.scalar(
      'histogram_quantile(0.99, sum by (le) (chatsim_harness_delivery_latency_seconds_bucket{run_id="om-test"}))',
      endSeconds,
    );
    const own = quantileBucket(recorder.histogramTotals('delivery'), 0.99)!;
    expect(p99 * 1000).toBeGreaterThanOrEqual(own.lowerMs);
    expect(p99 * 1000).toBeLessThanOrEqual(own.upperMs);
  });
});
