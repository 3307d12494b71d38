// dashboards/ checked with the real promtool: the Prometheus config and rules load, the alert unit
// tests pass, every Grafana panel's PromQL parses and names only series chatsim exports (or records),
// and the committed dashboard JSON is what build-dashboards.ts writes.

import { mkdtempSync, readdirSync, readFileSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';
import { faultFamily } from '../metrics/harness-samples.ts';
import { scenarioRecorder } from '../metrics/scenario-recorder.ts';
import { NodeStats } from '../reference-server/core/stats.ts';
import { ServerMetrics } from '../reference-server/runtime/metrics.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { promtool } from '../test-support/prometheus-process.ts';
import { type Dashboard, dashboardJson, dashboards, datasource } from './grafana/build-dashboards.ts';

const here = (path: string): string => fileURLToPath(new URL(path, import.meta.url));

/** Every expression of a dashboard: panel targets and annotation queries. */
function expressions(dashboard: Dashboard): string[] {
  const annotations = (dashboard.annotations as { list: { expr?: string }[] }).list;
  return [
    ...dashboard.panels.flatMap((panel) => panel.targets.map((t) => t.expr)),
    ...annotations.flatMap((a) => (a.expr ? [a.expr] : [])),
  ];
}

/** Grafana's variables as a concrete value, so promtool sees plain PromQL. */
function concrete(expr: string): string {
  return expr
    .replaceAll('$__rate_interval', '1m')
    .replaceAll('$__interval', '15s')
    .replaceAll('$__range', '1h')
    .replace(/\$\{?(\w+)\}?/g, 'x');
}

/** promtool check rules on the expressions as recording rules: parses each one. */
async function checkExpressions(exprs: string[]): Promise<string> {
  const dir = mkdtempSync(join(tmpdir(), 'chatsim-panels-'));
  const file = join(dir, 'panels.yml');
  const rules = exprs
    .map(
      (expr, i) =>
        `      - record: chatsim_panel_check:${i}\n        expr: ${JSON.stringify(concrete(expr))}`,
    )
    .join('\n');
  writeFileSync(file, `groups:\n  - name: panels\n    rules:\n${rules}\n`);
  return promtool(['check', 'rules', file]);
}

async function exportedNames(): Promise<Set<string>> {
  const names = new Set<string>([faultFamily.name]);
  const recorder = scenarioRecorder(loadScenario('steady'), 'x');
  for (const family of recorder.layout.families) {
    if (family.kind === 'counter') names.add(`${family.name}_total`);
    else if (family.kind === 'histogram')
      for (const suffix of ['_bucket', '_sum', '_count']) names.add(family.name + suffix);
    else names.add(family.name);
  }
  const server = new ServerMetrics({ stats: new NodeStats(), connectionCount: 0, pendingStoreOps: 0 });
  for (const line of (await server.exposition()).body.split('\n')) {
    const [, name, type] = /^# TYPE (chatsim_\w+) (\w+)/.exec(line) ?? [];
    if (name === undefined) continue;
    if (type === 'histogram') for (const suffix of ['_bucket', '_sum', '_count']) names.add(name + suffix);
    else names.add(name);
  }
  const recording = readFileSync(here('prometheus/rules/recording.yml'), 'utf8');
  for (const match of recording.matchAll(/record: (\S+)/g)) names.add(match[1]!);
  return names;
}

describe('Prometheus config and rules', () => {
  it('promtool check config accepts prometheus.yml (and the rule files it loads)', async () => {
    expect(await promtool(['check', 'config', here('prometheus/prometheus.yml')])).toMatch(/SUCCESS/);
  });

  it('promtool check rules accepts the recording and alert rules', async () => {
    const out = await promtool([
      'check',
      'rules',
      here('prometheus/rules/recording.yml'),
      here('prometheus/rules/alerts.yml'),
    ]);
    expect(out).not.toMatch(/FAILED/);
  });

  it('promtool test rules: every alert fires where it should and not elsewhere', async () => {
    expect(await promtool(['test', 'rules', here('prometheus/tests/rules.test.yml')])).toMatch(/SUCCESS/);
  });
});

describe('Grafana dashboards', () => {
  const built = Object.entries(dashboards).map(([file, build]) => ({ file, dashboard: build(), build }));

  it('are committed as build-dashboards.ts writes them', () => {
    const committed = readdirSync(here('grafana/dashboards')).sort();
    expect(committed).toEqual(Object.keys(dashboards).sort());
    for (const { file, build } of built)
      expect(readFileSync(here(`grafana/dashboards/${file}`), 'utf8'), file).toBe(dashboardJson(build));
  });

  it('have stable uids and read the provisioned datasource by uid', () => {
    expect(built.map((b) => b.dashboard.uid)).toEqual(['chatsim-run', 'chatsim-fleet', 'chatsim-capacity']);
    const provisioned = readFileSync(here('grafana/provisioning/datasources/chatsim.yml'), 'utf8');
    expect(provisioned).toContain(`uid: ${datasource.uid}`);
    for (const { dashboard } of built) {
      const panels = dashboard.panels as unknown as {
        id: number;
        datasource: { uid: string };
        targets: { datasource: { uid: string } }[];
      }[];
      expect(new Set(panels.map((p) => p.id)).size).toBe(panels.length);
      for (const panel of panels) {
        expect(panel.datasource.uid).toBe(datasource.uid);
        for (const target of panel.targets) expect(target.datasource.uid).toBe(datasource.uid);
      }
    }
  });

  it("parse: promtool accepts every panel's PromQL", async () => {
    const exprs = built.flatMap((b) => expressions(b.dashboard));
    expect(exprs.length).toBeGreaterThan(30);
    expect(await checkExpressions(exprs)).toMatch(new RegExp(`SUCCESS: ${exprs.length} rules found`));
  });

  it('the parse check is not vacuous: a broken expression fails it', async () => {
    await expect(checkExpressions(['sum(rate(chatsim_harness_sends_total[1m])'])).rejects.toThrow(/promtool/);
  });

  it('name only series chatsim exports or records', async () => {
    const names = await exportedNames();
    const unknown: string[] = [];
    for (const { file, dashboard } of built)
      for (const expr of expressions(dashboard))
        for (const match of expr.matchAll(/\b(?:chatsim_|scenario_run:|instance:)[\w:]*/g))
          if (!names.has(match[0])) unknown.push(`${file}: ${match[0]}`);
    expect(unknown).toEqual([]);
  });
});
