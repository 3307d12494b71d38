/// <reference lib="dom" />
// report.html opened in headless Chromium with no network: every chart draws (its canvas has ink),
// nothing is fetched, no console error; a failing run shows its verdict, witness and repro command.
// Beside it: summary.md, summary.json and junit.xml.

import { mkdtempSync, readFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { jsonSummary } from '../cli/sim.ts';
import { scenarioRecorder } from '../metrics/scenario-recorder.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { openOffline } from '../test-support/headless-chromium.ts';
import { reproCommand } from './verdict-table.ts';
import { writeRunReport } from './write-run-report.ts';

const chartIds = ['chart-latency', 'chart-throughput', 'chart-connections', 'chart-fanout'];

async function simulatedReport(scenarioName: string, seed: number, bugs: string[] = []): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'chatsim-report-'));
  const scenario = loadScenario(scenarioName);
  const recorder = scenarioRecorder(scenario, `report-${seed}`);
  const summary = await runScenario(scenario, { seed, clients: 300, recorder, bugs: bugs as never[] });
  recorder.finish(summary.verdicts, summary.virtualMs, summary.events);
  const repro = reproCommand(scenarioName, seed, 300, bugs);
  writeRunReport(dir, { summary, scenario, recorder, repro, mode: 'sim', json: jsonSummary(summary, repro) });
  return dir;
}

/**
 * Coloured pixels inside a chart's plotting area: series strokes and bars are saturated colours, while
 * grid, axes and the pale fault shading are greys and tints, so a chart that plotted nothing has none.
 */
async function plottedPixels(page: import('playwright-core').Page, id: string): Promise<number> {
  return page.evaluate((chartId) => {
    const charts = (window as unknown as { chatsimCharts: { id: string; bbox: Record<string, number> }[] })
      .chatsimCharts;
    const box = charts.find((c) => c.id === chartId)!.bbox;
    const canvas = document.querySelector(`#${chartId} canvas`) as HTMLCanvasElement | null;
    if (!canvas || !box) return -1;
    const { data } = canvas.getContext('2d')!.getImageData(box.left!, box.top!, box.width!, box.height!);
    let coloured = 0;
    for (let i = 0; i < data.length; i += 4) {
      const [r, g, b, a] = [data[i]!, data[i + 1]!, data[i + 2]!, data[i + 3]!];
      if (a > 128 && Math.abs(r - g) + Math.abs(g - b) > 60) coloured++;
    }
    return coloured;
  }, id);
}

describe('report.html', () => {
  it('draws every chart offline with no console error', async () => {
    const dir = await simulatedReport('partition', 21);
    const opened = await openOffline(join(dir, 'report.html'));
    try {
      await opened.page.waitForFunction(
        () => (window as { chatsimCharts?: unknown[] }).chatsimCharts?.length === 4,
      );
      const drawn = await opened.page.evaluate(
        () => (window as unknown as { chatsimCharts: { id: string; points: number }[] }).chatsimCharts,
      );
      expect(drawn.map((c) => c.id)).toEqual(chartIds);
      for (const chart of drawn) expect(chart.points, chart.id).toBeGreaterThan(5);
      for (const id of chartIds) expect(await plottedPixels(opened.page, id), id).toBeGreaterThan(300);
      expect(opened.errors).toEqual([]);
      expect(opened.requests).toEqual([]);
      const text = await opened.page.locator('body').innerText();
      expect(text).toContain('npx chatsim sim partition --seed 21 --clients 300');
      expect(text).toMatch(/partition\(20% of clients\): 6\.0 s to 11\.0 s/);
      for (const property of ['no-loss', 'per-conversation-order', 'durable-ack', 'liveness'])
        expect(text).toContain(property);
    } finally {
      await opened.close();
    }
  }, 120_000);

  it('shows a failing run: the verdict, the witness, the command that replays it', async () => {
    const dir = await simulatedReport('steady', 4, ['key-without-sender']);
    const opened = await openOffline(join(dir, 'report.html'));
    try {
      await opened.page.waitForFunction(
        () => (window as { chatsimCharts?: unknown[] }).chatsimCharts?.length === 4,
      );
      expect(opened.errors).toEqual([]);
      expect(await opened.page.locator('header').getAttribute('class')).toBe('fail');
      const failed = opened.page.locator('tr.fail');
      expect(await failed.count()).toBeGreaterThan(0);
      expect(await failed.first().locator('details summary').innerText()).toMatch(/witness \(\d+\)/);
      expect(await opened.page.locator('pre.repro').innerText()).toBe(
        'npx chatsim sim steady --seed 4 --clients 300 --bug key-without-sender',
      );
    } finally {
      await opened.close();
    }
    const md = readFileSync(join(dir, 'summary.md'), 'utf8');
    expect(md).toMatch(/^# chatsim sim steady, seed 4: FAIL/);
    expect(md).toContain('| FAIL | idempotency |');
    // The latency table is the metrics' (bucketed, warm-up included) and says so beside the thresholds.
    expect(md).toContain("## Latency\n\nThe whole run, warm-up included, from the run's metrics (bucketed");
    const junit = readFileSync(join(dir, 'junit.xml'), 'utf8');
    expect(junit).toMatch(/<failure message="idempotency failed">/);
    const json = JSON.parse(readFileSync(join(dir, 'summary.json'), 'utf8'));
    expect(json.exitCode).toBe(1);
    expect(json.latencyMs.delivery.count).toBeGreaterThan(0);
    const ackSlo = json.slo.find((s: { name: string }) => s.name.startsWith('ackLatency p(99)'));
    expect(json.ackLatencyMsP99).toBe(ackSlo.actual);
  }, 120_000);
});
