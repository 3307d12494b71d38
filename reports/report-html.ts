// report.html: one self-contained file that opens with no network. uPlot (its minified script and
// stylesheet, read from node_modules when the report is written) and the run's data are inlined; a
// small script draws the charts: latency percentiles over time with fault windows shaded, throughput,
// connections, and the fan-out lag distribution.

import { readFileSync } from 'node:fs';
import { createRequire } from 'node:module';
import { metricsLatencyNote, type ReportData } from './report-data.ts';

const require = createRequire(import.meta.url);

export function asset(path: string): string {
  return readFileSync(require.resolve(path), 'utf8');
}

/** 0.42 ms, 7.3 ms, 1,234 ms: the digits that matter at each scale. */
export function formatMs(ms: number | null): string {
  if (ms === null) return '–';
  const digits = ms < 10 ? 2 : ms < 100 ? 1 : 0;
  return `${ms.toLocaleString('en-US', { maximumFractionDigits: digits })} ms`;
}

/** Text safe inside an HTML element. */
export function escapeHtml(text: string): string {
  return text.replace(/&/g, '&amp;').replace(/</g, '&lt;').replace(/>/g, '&gt;').replace(/"/g, '&quot;');
}

/** JSON safe inside a <script> element (no "</script>", no HTML comment openers). */
function scriptJson(value: unknown): string {
  return JSON.stringify(value)
    .replace(/</g, '\\u003c')
    .replace(/\u2028/g, '\\u2028')
    .replace(/\u2029/g, '\\u2029');
}

export function reportHtml(data: ReportData): string {
  const pass = data.exitCode === 0;
  const verdictRows = data.verdicts
    .map((v) => {
      const witness =
        v.witness.length === 0
          ? ''
          : `<details><summary>witness (${v.witness.length})</summary>${v.witness.map((w) => `<pre>${escapeHtml(w)}</pre>`).join('')}</details>`;
      return `<tr class="${v.verdict}"><td><span class="badge ${v.verdict}">${v.verdict.toUpperCase()}</span></td><td>${escapeHtml(v.property)}</td><td>${escapeHtml(v.details)}${witness}</td></tr>`;
    })
    .join('\n');
  const thresholdRows = data.thresholds
    .map(
      (t) =>
        `<tr class="${t.pass ? 'pass' : 'fail'}"><td><span class="badge ${t.pass ? 'pass' : 'fail'}">${t.pass ? 'PASS' : 'FAIL'}</span></td><td>${escapeHtml(t.name)}</td><td><code>${escapeHtml(t.expression)}</code></td><td>${t.actualText}</td><td>${t.pass ? '' : t.brokeAtS === null ? 'at the end' : `at ${t.brokeAtS.toFixed(1)} s`}</td></tr>`,
    )
    .join('\n');
  const facts = data.facts
    .map(
      ([k, v]) =>
        `<div class="fact"><div class="k">${escapeHtml(k)}</div><div class="v">${escapeHtml(v)}</div></div>`,
    )
    .join('');
  const faults =
    data.faults.length === 0
      ? '<p class="muted">No faults in this run.</p>'
      : `<ul class="faults">${data.faults
          .map(
            (f) =>
              `<li><span class="swatch"></span>${escapeHtml(f.describe)}: ${f.startS.toFixed(1)} s to ${f.endS === null ? 'the end' : `${f.endS.toFixed(1)} s`}</li>`,
          )
          .join('')}</ul>`;
  const l = data.latencyMs;
  const latencyRows = (
    [
      ['delivery (scheduled send to display)', l.delivery],
      ['ack (scheduled send to ack)', l.ack],
      ['fan-out lag (first to last display)', l.fanout],
      ['connect (attempt to welcome)', l.connect],
    ] as const
  )
    .map(
      ([name, q]) =>
        `<tr><td>${name}</td><td>${q.count.toLocaleString('en-US')}</td><td>${formatMs(q.p50)}</td><td>${formatMs(q.p95)}</td><td>${formatMs(q.p99)}</td></tr>`,
    )
    .join('');
  return `<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>chatsim ${escapeHtml(data.mode)} ${escapeHtml(data.scenario.name)} seed ${data.seed}: ${pass ? 'PASS' : 'FAIL'}</title>
<style>${asset('uplot/dist/uPlot.min.css')}</style>
<style>${css}</style>
</head>
<body>
<header class="${pass ? 'pass' : 'fail'}">
  <div class="title">
    <h1>chatsim ${escapeHtml(data.mode)} · ${escapeHtml(data.scenario.name)} · seed ${data.seed}</h1>
    <p>${escapeHtml(data.scenario.description)}</p>
  </div>
  <div class="verdict">${escapeHtml(data.verdictLine.replace(/^verdict: /, ''))}</div>
</header>
<main>
<section class="facts">${facts}</section>
<section>
  <h2>Reproduce</h2>
  <pre class="repro">${escapeHtml(data.repro)}</pre>
</section>
<section>
  <h2>Properties</h2>
  <table class="data verdicts"><thead><tr><th></th><th>property</th><th>details</th></tr></thead><tbody>${verdictRows}</tbody></table>
</section>
<section>
  <h2>SLO thresholds</h2>
  ${data.thresholds.length === 0 ? '<p class="muted">This scenario sets no thresholds.</p>' : `<table class="data thresholds"><thead><tr><th></th><th>threshold</th><th>rule</th><th>actual</th><th>broke</th></tr></thead><tbody>${thresholdRows}</tbody></table>`}
</section>
<section>
  <h2>Latency</h2>
  <p class="muted">The whole run, warm-up included, from the run's metrics (${escapeHtml(metricsLatencyNote)}).</p>
  <table class="data latency"><thead><tr><th></th><th>count</th><th>p50</th><th>p95</th><th>p99</th></tr></thead><tbody>${latencyRows}</tbody></table>
  <div class="chart" id="chart-latency" data-title="Latency percentiles over time (ms, log scale)"></div>
  ${faults}
</section>
<section class="two">
  <div class="chart" id="chart-throughput" data-title="Throughput (per second)"></div>
  <div class="chart" id="chart-connections" data-title="Connections"></div>
</section>
<section>
  <div class="chart" id="chart-fanout" data-title="Fan-out lag distribution (messages per bucket)"></div>
</section>
<section>
  <h2>Scenario</h2>
  <details><summary>${escapeHtml(data.scenario.name)} as run</summary><pre>${escapeHtml(JSON.stringify(data.scenario, null, 2))}</pre></details>
</section>
<footer>Written by chatsim at ${escapeHtml(data.generatedAt)} · run ${escapeHtml(data.runId)}</footer>
</main>
<script id="report-data" type="application/json">${scriptJson(data)}</script>
<script>${asset('uplot/dist/uPlot.iife.min.js')}</script>
<script>${clientScript}</script>
</body>
</html>
`;
}

const css = `
:root { --fg: #1f2328; --muted: #656d76; --line: #d0d7de; --bg: #f6f8fa; --pass: #1a7f37; --fail: #cf222e; --unknown: #9a6700; }
* { box-sizing: border-box; }
body { margin: 0; font: 14px/1.5 -apple-system, "Segoe UI", "Noto Sans", Helvetica, Arial, sans-serif; color: var(--fg); background: #fff; }
header { display: flex; align-items: center; justify-content: space-between; gap: 24px; padding: 20px 32px; color: #fff; }
header.pass { background: linear-gradient(90deg, #1a7f37, #2da44e); }
header.fail { background: linear-gradient(90deg, #a40e26, #cf222e); }
header h1 { margin: 0; font-size: 22px; font-weight: 600; }
header p { margin: 4px 0 0; opacity: .9; max-width: 820px; }
header .verdict { font-size: 18px; font-weight: 700; padding: 8px 16px; border: 2px solid rgba(255,255,255,.8); border-radius: 8px; white-space: nowrap; }
main { max-width: 1180px; margin: 0 auto; padding: 8px 32px 40px; }
h2 { font-size: 17px; margin: 28px 0 10px; padding-bottom: 6px; border-bottom: 1px solid var(--line); }
.facts { display: grid; grid-template-columns: repeat(auto-fill, minmax(210px, 1fr)); gap: 10px; margin-top: 20px; }
.fact { background: var(--bg); border: 1px solid var(--line); border-radius: 8px; padding: 8px 12px; }
.fact .k { color: var(--muted); font-size: 12px; text-transform: uppercase; letter-spacing: .04em; }
.fact .v { font-weight: 600; overflow-wrap: anywhere; }
pre { background: var(--bg); border: 1px solid var(--line); border-radius: 6px; padding: 10px 12px; overflow-x: auto; font: 12.5px/1.45 ui-monospace, SFMono-Regular, Menlo, Consolas, monospace; white-space: pre-wrap; word-break: break-all; }
pre.repro { font-size: 13.5px; }
table.data { width: 100%; border-collapse: collapse; }
table.data th, table.data td { text-align: left; padding: 7px 10px; border-bottom: 1px solid var(--line); vertical-align: top; }
table.data th { font-size: 12px; color: var(--muted); text-transform: uppercase; letter-spacing: .04em; }
table.data td:first-child { width: 1%; white-space: nowrap; }
table.data tr.fail td { background: #ffebe9; }
table.data tr.unknown td { background: #fff8c5; }
.u-legend { font-size: 12.5px; }
.badge { display: inline-block; min-width: 64px; text-align: center; font-weight: 700; font-size: 12px; padding: 2px 8px; border-radius: 12px; color: #fff; }
.badge.pass { background: var(--pass); } .badge.fail { background: var(--fail); } .badge.unknown { background: var(--unknown); } .badge.skipped { background: #8c959f; }
table.latency td:not(:first-child), table.latency th:not(:first-child) { text-align: right; font-variant-numeric: tabular-nums; }
details summary { cursor: pointer; color: #0969da; margin-top: 4px; }
.chart { margin: 18px 0 6px; min-height: 300px; }
.chart .u-title { font-size: 14px; font-weight: 600; text-align: left; padding-left: 8px; }
.two { display: grid; grid-template-columns: 1fr 1fr; gap: 24px; }
@media (max-width: 900px) { .two { grid-template-columns: 1fr; } }
.faults { list-style: none; padding: 0; margin: 6px 0; color: var(--muted); }
.faults .swatch { display: inline-block; width: 14px; height: 10px; margin-right: 8px; background: rgba(207, 34, 46, .18); border: 1px solid rgba(207, 34, 46, .5); }
.muted { color: var(--muted); }
footer { margin-top: 36px; color: var(--muted); font-size: 12px; }
`;

/** Runs in the browser: reads the inlined data, draws four uPlot charts, records what it drew. */
const clientScript = `
(function () {
  var data = JSON.parse(document.getElementById('report-data').textContent);
  var drawn = [];
  window.chatsimCharts = drawn;
  var tl = data.timeline;
  var palette = ['#0969da', '#8250df', '#cf222e', '#1a7f37', '#bc4c00', '#57606a'];
  function width(el) { return Math.max(320, el.clientWidth || 600); }
  function shade(u) {
    var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
    ctx.save();
    data.faults.forEach(function (f) {
      var end = f.endS === null ? u.scales.x.max : Math.max(f.endS, f.startS + 0.25);
      var x0 = u.valToPos(f.startS, 'x', true), x1 = u.valToPos(end, 'x', true);
      ctx.fillStyle = 'rgba(207, 34, 46, 0.12)';
      ctx.fillRect(x0, top, Math.max(2, x1 - x0), height);
    });
    ctx.restore();
  }
  function phases(u) {
    var ctx = u.ctx, top = u.bbox.top, height = u.bbox.height;
    ctx.save();
    ctx.strokeStyle = 'rgba(87, 96, 106, 0.55)';
    ctx.setLineDash([4, 4]);
    ctx.fillStyle = '#57606a';
    ctx.font = (11 * devicePixelRatio) + 'px sans-serif';
    data.phases.forEach(function (p) {
      if (p.startS <= 0) return;
      var x = u.valToPos(p.startS, 'x', true);
      ctx.beginPath(); ctx.moveTo(x, top); ctx.lineTo(x, top + height); ctx.stroke();
      ctx.fillText(p.phase, x + 4 * devicePixelRatio, top + 12 * devicePixelRatio);
    });
    ctx.restore();
  }
  var timeX = {
    series: { label: 'time', value: function (u, v) { return v == null ? '' : v.toFixed(1) + ' s'; } },
    axis: { label: (data.mode === 'sim' ? 'virtual ' : '') + 'seconds into the run', values: function (u, vals) { return vals.map(function (v) { return v + ' s'; }); } },
  };
  function chart(id, series, values, axes, extra, x) {
    var el = document.getElementById(id);
    x = x || timeX;
    var opts = Object.assign({
      title: el.getAttribute('data-title'),
      width: width(el),
      height: 300,
      series: [x.series].concat(series),
      axes: [x.axis].concat(axes),
      hooks: { drawClear: [shade], draw: [phases] },
      scales: { x: { time: false } },
      legend: { live: true },
    }, extra || {});
    var u = new uPlot(opts, values, el);
    drawn.push({ id: id, series: values.length - 1, points: values[0].length, bbox: u.bbox });
    window.addEventListener('resize', function () { u.setSize({ width: width(el), height: 300 }); });
    return u;
  }
  function line(label, i, extra) {
    return Object.assign({ label: label, stroke: palette[i % palette.length], width: 2, spanGaps: false, points: { show: false } }, extra || {});
  }
  chart('chart-latency',
    [line('delivery p50', 0, { value: ms }), line('delivery p95', 1, { value: ms }), line('delivery p99', 2, { value: ms }), line('ack p99', 3, { value: ms, dash: [6, 4] }), line('fan-out lag p99', 4, { value: ms, dash: [2, 3] })],
    [tl.t, positive(tl.deliveryP50Ms), positive(tl.deliveryP95Ms), positive(tl.deliveryP99Ms), positive(tl.ackP99Ms), positive(tl.fanoutP99Ms)],
    [{ label: 'ms', size: 60, values: function (u, vals) { return vals.map(function (v) { return v == null ? '' : fmt(v); }); } }],
    { scales: { x: { time: false }, y: { distr: 3, log: 10 } } });
  chart('chart-throughput',
    [line('sent/s', 0), line('displayed/s', 3), line('failed/s', 2)],
    [tl.t, tl.sendsPerS, tl.displaysPerS, tl.failedPerS],
    [{ label: 'per second', size: 60 }]);
  chart('chart-connections',
    [line('connected devices', 0, { scale: 'n' }), line('reconnects/s', 2, { scale: 'r' }), line('resyncs/s', 4, { scale: 'r', dash: [4, 3] })],
    [tl.t, tl.connected, tl.reconnectsPerS, tl.resyncsPerS],
    [{ scale: 'n', label: 'devices', size: 60 }, { scale: 'r', side: 1, label: 'per second', size: 60, grid: { show: false } }],
    { scales: { x: { time: false }, n: {}, r: {} } });
  var bounds = data.fanout.boundsMs;
  var labels = bounds.map(function (b) { return fmt(b) + ' ms'; }).concat(['> ' + fmt(bounds[bounds.length - 1]) + ' ms']);
  var idx = labels.map(function (_, i) { return i; });
  chart('chart-fanout',
    [{ label: 'messages (per message: first to last display)', stroke: '#8250df', fill: 'rgba(130, 80, 223, 0.35)', width: 1, paths: uPlot.paths.bars({ size: [0.8, 60] }), points: { show: false } },
     { label: 'recipients (from the ack)', stroke: '#0969da', fill: 'rgba(9, 105, 218, 0.25)', width: 1, paths: uPlot.paths.bars({ size: [0.45, 30] }), points: { show: false } }],
    [idx, data.fanout.counts, data.fanoutFromAck.counts],
    [{ label: 'count', size: 70 }],
    { hooks: {}, scales: { x: { time: false, range: [-0.6, labels.length - 0.4] } } },
    {
      series: { label: 'bucket', value: function (u, v) { return v == null ? '' : labels[v]; } },
      axis: { label: 'fan-out lag (upper bound of the bucket)', values: function (u, vals) { return vals.map(function (v) { return Number.isInteger(v) && labels[v] ? labels[v] : ''; }); }, incrs: [1, 2, 3, 4], space: 18, rotate: -45, size: 90, font: '11px sans-serif' },
    });
  function positive(values) { return values.map(function (v) { return v == null || v <= 0 ? null : v; }); }
  function ms(u, v) { return v == null ? '–' : fmt(v) + ' ms'; }
  function fmt(v) { return v >= 1000 ? (v / 1000).toFixed(v % 1000 === 0 ? 0 : 1) + 'k' : v >= 10 ? Math.round(v) + '' : (+v.toFixed(2)) + ''; }
})();
`;
