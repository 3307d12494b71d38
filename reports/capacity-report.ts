// What `chatsim capacity --report DIR` writes: capacity.json (the whole sweep), capacity.md (the
// curve as a table, the knee and what broke) and capacity.html (the same table and a uPlot chart
// of offered and achieved msgs/s against p99 ack and delivery per step, inlined, offline).

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { CapacityReport } from '../capacity/capacity-sweep.ts';
import type { RepeatResult, StepResult } from '../capacity/knee.ts';
import { asset, escapeHtml } from './report-html.ts';

/** Per step, the figure across repeats: worst for tails and resources, mean for rates. */
export type CurvePoint = {
  step: number;
  phase: StepResult['phase'];
  clients: number;
  offeredMsgsPerSec: number;
  achievedMsgsPerSec: number;
  displayedPerSec: number;
  ackP99Ms: number;
  /** The best repeat's ack p99: with ackP99Ms, the spread that repeating the step bounds. */
  ackP99MsBest: number;
  deliveryP99Ms: number;
  serverCpuShare: number | null;
  serverBytesPerConnection: number | null;
  generatorCpuShareMax: number;
  generatorLimited: boolean;
  held: boolean;
  broke: string[];
};

export function capacityCurve(report: CapacityReport): CurvePoint[] {
  return report.steps.map((s, i) => {
    const reps = s.repeats;
    const worst = (pick: (r: RepeatResult) => number) => Math.max(...reps.map(pick));
    const worstOrNull = (pick: (r: RepeatResult) => number | null) => {
      const values = reps.map(pick);
      return values.every((v) => v !== null) ? Math.max(...(values as number[])) : null;
    };
    return {
      step: i + 1,
      phase: s.phase,
      clients: s.clients,
      offeredMsgsPerSec: s.offeredMsgsPerSec,
      achievedMsgsPerSec: reps.reduce((a, r) => a + r.ackedPerSec, 0) / reps.length,
      displayedPerSec: reps.reduce((a, r) => a + r.displayedPerSec, 0) / reps.length,
      ackP99Ms: worst((r) => r.ackP99Ms),
      ackP99MsBest: Math.min(...reps.map((r) => r.ackP99Ms)),
      deliveryP99Ms: worst((r) => r.deliveryP99Ms),
      serverCpuShare: worstOrNull((r) => r.serverCpuShare),
      serverBytesPerConnection: worstOrNull((r) => r.serverBytesPerConnection),
      generatorCpuShareMax: worst((r) => r.generatorCpuShareMax),
      generatorLimited: reps.some((r) => r.generatorLimited),
      held: s.held,
      broke: [...new Set(reps.flatMap((r) => r.broke))],
    };
  });
}

const fixed = (n: number, digits = 1) => n.toFixed(digits);
const percent = (n: number | null) => (n === null ? 'n/m' : `${Math.round(n * 100)}%`);
const kib = (n: number | null) => (n === null ? 'n/m' : `${fixed(n / 1024)} KiB`);

/** Best to worst ack p99 over the step's repeats, and their ratio: the noise the repeats bound. */
function spread(p: CurvePoint): string {
  if (p.ackP99MsBest === p.ackP99Ms) return `${fixed(p.ackP99Ms)} (x1.0)`;
  const ratio = p.ackP99MsBest > 0 ? ` (x${fixed(p.ackP99Ms / p.ackP99MsBest)})` : '';
  return `${fixed(p.ackP99MsBest)}–${fixed(p.ackP99Ms)}${ratio}`;
}

export function capacityMarkdown(report: CapacityReport): string {
  const rows = capacityCurve(report).map(
    (p) =>
      `| ${p.step} | ${p.phase} | ${p.clients} | ${fixed(p.offeredMsgsPerSec)} | ${fixed(p.achievedMsgsPerSec)} | ${fixed(p.ackP99Ms)} | ${spread(p)} | ${fixed(p.deliveryP99Ms)} | ${percent(p.serverCpuShare)} | ${kib(p.serverBytesPerConnection)} | ${percent(p.generatorCpuShareMax)}${p.generatorLimited ? ' (load-limited)' : ''} | ${p.held ? 'held' : `BROKE: ${p.broke.join('; ')}`} |`,
  );
  return [
    `# Capacity of ${report.target || 'the target'}: scenario ${report.scenario}`,
    '',
    `**${report.knee.describe}**`,
    '',
    `Seed ${report.seed}; ${report.repeats} repeat(s) per step, ${report.stepMs / 1000} s of load each; a step holds only if every repeat held every threshold and check. Thresholds: ${Object.entries(
      report.thresholds,
    )
      .filter(([, list]) => list.length > 0)
      .map(([metric, list]) => `${metric} ${list.join(', ')}`)
      .join('; ')}.`,
    '',
    'Rates are the mean over repeats; p99s, CPU and memory the worst repeat; the ack p99 spread runs from the best repeat to the worst (with their ratio), the noise the repeats bound. CPU is the share of one core (server: mean per node while connected; generators: the busiest). n/m: not measurable (the server exposes no process metrics).',
    '',
    '| step | phase | connections | offered msgs/s | achieved (acked) msgs/s | ack p99 ms | ack p99 spread over repeats ms | delivery p99 ms | server CPU | server memory / connection | generator CPU | verdict |',
    '|---:|---|---:|---:|---:|---:|---:|---:|---:|---:|---:|---|',
    ...rows,
    '',
  ].join('\n');
}

export function capacityHtml(report: CapacityReport): string {
  const curve = capacityCurve(report);
  const data = JSON.stringify({ curve, knee: report.knee.describe }).replace(/</g, '\\u003c');
  const table = capacityMarkdown(report)
    .split('\n')
    .filter((line) => line.startsWith('|') && !line.startsWith('|---'))
    .map((line, i) => {
      const cells = line
        .slice(1, -1)
        .split('|')
        .map((c) => escapeHtml(c.trim()));
      const tag = i === 0 ? 'th' : 'td';
      return `<tr>${cells.map((c) => `<${tag}>${c}</${tag}>`).join('')}</tr>`;
    })
    .join('\n');
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>chatsim capacity: ${escapeHtml(report.scenario)}</title>
<style>${asset('uplot/dist/uPlot.min.css')}
body { font: 14px/1.45 system-ui, sans-serif; margin: 24px; color: #1f2328; }
table { border-collapse: collapse; margin-top: 16px; } th, td { border: 1px solid #d0d7de; padding: 4px 8px; text-align: right; }
.knee { font-weight: 600; }</style></head>
<body>
<h1>Capacity: ${escapeHtml(report.scenario)} against ${escapeHtml(report.target)}</h1>
<p class="knee" id="knee">${escapeHtml(report.knee.describe)}</p>
<div id="chart-capacity"></div>
<table>${table}</table>
<script id="capacity-data" type="application/json">${data}</script>
<script>${asset('uplot/dist/uPlot.iife.min.js')}</script>
<script>
(function () {
  var d = JSON.parse(document.getElementById('capacity-data').textContent);
  var c = d.curve;
  var x = c.map(function (p) { return p.step; });
  var el = document.getElementById('chart-capacity');
  var opts = {
    title: 'capacity curve: msgs/s (left) and p99 latency (right) per step',
    width: Math.max(480, el.clientWidth || 900), height: 340,
    scales: { x: { time: false }, ms: {} },
    series: [
      { label: 'step', value: function (u, v) { var p = c[v - 1]; return p ? v + ' (' + p.clients + ' conns, ' + (p.held ? 'held' : 'broke') + ')' : ''; } },
      { label: 'offered msgs/s', stroke: '#57606a', width: 2, dash: [6, 4] },
      { label: 'achieved msgs/s', stroke: '#0969da', width: 2 },
      { label: 'ack p99 ms', stroke: '#cf222e', width: 2, scale: 'ms' },
      { label: 'delivery p99 ms', stroke: '#8250df', width: 2, scale: 'ms' },
    ],
    axes: [{ label: 'step', incrs: [1] }, { label: 'msgs/s' }, { label: 'ms', side: 1, scale: 'ms', grid: { show: false } }],
  };
  var u = new uPlot(opts, [x, c.map(function (p) { return p.offeredMsgsPerSec; }), c.map(function (p) { return p.achievedMsgsPerSec; }), c.map(function (p) { return p.ackP99Ms; }), c.map(function (p) { return p.deliveryP99Ms; })], el);
  window.chatsimCharts = [{ id: 'chart-capacity', series: 4, points: x.length, bbox: u.bbox }];
})();
</script>
</body></html>
`;
}

export function writeCapacityReport(dir: string, report: CapacityReport): string[] {
  mkdirSync(dir, { recursive: true });
  const files = {
    'capacity.json': `${JSON.stringify({ ...report, curve: capacityCurve(report) }, null, 2)}\n`,
    'capacity.md': capacityMarkdown(report),
    'capacity.html': capacityHtml(report),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((name) => join(dir, name));
}
