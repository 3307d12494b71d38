// The Grafana dashboards as code: this file writes dashboards/grafana/dashboards/*.json, and a test
// checks the committed JSON is what it writes, that every panel's PromQL parses (promtool) and names
// only series chatsim exports. Stable uids; the datasource is referenced by its uid, which the
// provisioning file gives the Prometheus datasource. Run: npx tsx dashboards/grafana/build-dashboards.ts

import { writeFileSync } from 'node:fs';
import { fileURLToPath } from 'node:url';

export const datasource = { type: 'prometheus', uid: 'chatsim-prometheus' } as const;

type Target = { expr: string; legend: string };
type PanelSpec = {
  title: string;
  description: string;
  unit: string;
  targets: Target[];
  kind?: 'timeseries' | 'stat' | 'heatmap';
  width?: number;
  /** Stack the series (parts of one whole, e.g. frames by type). */
  stack?: boolean;
};

export type Dashboard = {
  uid: string;
  title: string;
  panels: { targets: { expr: string }[] }[];
} & Record<string, unknown>;

const q = (quantile: number, metric: string, selector: string, by = ''): string =>
  `histogram_quantile(${quantile}, sum by (le${by}) (rate(${metric}_bucket{${selector}}[$__rate_interval])))`;
const rate = (metric: string, selector: string, by = ''): string =>
  `sum${by ? ` by (${by})` : ''} (rate(${metric}{${selector}}[$__rate_interval]))`;

function panels(specs: PanelSpec[]): Dashboard['panels'] {
  let x = 0;
  let y = 0;
  return specs.map((spec, i) => {
    const width = spec.width ?? 12;
    const height = spec.kind === 'stat' ? 5 : 8;
    if (x + width > 24) {
      x = 0;
      y += 8;
    }
    const gridPos = { h: height, w: width, x, y };
    x += width;
    const kind = spec.kind ?? 'timeseries';
    return {
      id: i + 1,
      type: kind,
      title: spec.title,
      description: spec.description,
      datasource,
      gridPos,
      fieldConfig: {
        defaults: {
          unit: spec.unit,
          ...(kind === 'timeseries'
            ? {
                custom: {
                  lineWidth: 2,
                  fillOpacity: spec.stack ? 30 : 8,
                  showPoints: 'never',
                  ...(spec.stack ? { stacking: { mode: 'normal', group: 'A' } } : {}),
                },
              }
            : {}),
          ...(kind === 'stat'
            ? {
                thresholds: {
                  mode: 'absolute',
                  steps: [
                    { color: 'green', value: null },
                    { color: 'red', value: 1 },
                  ],
                },
              }
            : {}),
        },
        overrides: [],
      },
      options:
        kind === 'timeseries'
          ? {
              legend: { displayMode: 'table', placement: 'bottom', calcs: ['mean', 'max', 'lastNotNull'] },
              tooltip: { mode: 'multi', sort: 'desc' },
            }
          : kind === 'stat'
            ? {
                reduceOptions: { calcs: ['lastNotNull'], fields: '', values: false },
                colorMode: 'background',
              }
            : {
                calculate: false,
                yAxis: { unit: spec.unit },
                cellGap: 1,
                color: { scheme: 'Oranges', mode: 'scheme' },
              },
      targets: spec.targets.map((t, n) => ({
        refId: String.fromCharCode(65 + n),
        datasource,
        expr: t.expr,
        legendFormat: t.legend,
        ...(kind === 'heatmap' ? { format: 'heatmap' } : {}),
        ...(kind === 'stat' ? { instant: true } : {}),
      })),
    };
  });
}

function variable(name: string, label: string, query: string, multi: boolean): Record<string, unknown> {
  return {
    name,
    label,
    type: 'query',
    datasource,
    definition: query,
    query: { query, refId: name },
    refresh: 2,
    sort: 2,
    multi,
    includeAll: multi,
    ...(multi ? { allValue: '.*' } : {}),
    current: {},
  };
}

function dashboard(
  uid: string,
  title: string,
  description: string,
  variables: Record<string, unknown>[],
  specs: PanelSpec[],
  annotations: Record<string, unknown>[] = [],
): Dashboard {
  return {
    uid,
    title,
    description,
    tags: ['chatsim'],
    schemaVersion: 39,
    version: 1,
    editable: true,
    graphTooltip: 1,
    time: { from: 'now-30m', to: 'now' },
    refresh: '10s',
    timezone: 'browser',
    templating: { list: variables },
    annotations: { list: annotations },
    panels: panels(specs),
  };
}

const run = 'run_id="$run_id"';

export function runDashboard(): Dashboard {
  return dashboard(
    'chatsim-run',
    'chatsim: run',
    'One run, simulated (imported OpenMetrics) or live: latency from the scheduled send, fan-out lag, throughput, connections; fault windows shaded.',
    [variable('run_id', 'Run', 'label_values(chatsim_harness_sends_total, run_id)', false)],
    [
      {
        title: 'Delivery latency (scheduled send to display)',
        description: 'Per recipient device, measured from the scheduled send time (no coordinated omission).',
        unit: 's',
        targets: [0.5, 0.95, 0.99].map((quantile) => ({
          expr: q(quantile, 'chatsim_harness_delivery_latency_seconds', run),
          legend: `p${Math.round(quantile * 100)}`,
        })),
      },
      {
        title: 'Ack latency (scheduled send to ack)',
        description: 'From the scheduled send to the durable ack the sender sees.',
        unit: 's',
        targets: [0.5, 0.99].map((quantile) => ({
          expr: q(quantile, 'chatsim_harness_ack_latency_seconds', run),
          legend: `p${Math.round(quantile * 100)}`,
        })),
      },
      {
        title: 'Fan-out lag',
        description:
          "Per message: first to last recipient display. Per recipient: from the sender's ack to the display.",
        unit: 's',
        targets: [
          { expr: q(0.5, 'chatsim_harness_fanout_lag_seconds', run), legend: 'per message p50' },
          { expr: q(0.99, 'chatsim_harness_fanout_lag_seconds', run), legend: 'per message p99' },
          { expr: q(0.99, 'chatsim_harness_fanout_from_ack_seconds', run), legend: 'from ack p99' },
        ],
      },
      {
        title: 'Throughput',
        description: 'Messages sent, acked and displayed per second (displays by how they came).',
        unit: 'ops',
        targets: [
          { expr: rate('chatsim_harness_sends_total', run), legend: 'sent' },
          { expr: rate('chatsim_harness_acks_total', run), legend: 'acked' },
          { expr: rate('chatsim_harness_displays_total', run, 'via'), legend: 'displayed ({{via}})' },
          { expr: rate('chatsim_harness_failed_sends_total', run), legend: 'failed' },
        ],
      },
      {
        title: 'Connections',
        description: 'Devices with an open session; reconnects and lost sessions per second.',
        unit: 'short',
        targets: [
          { expr: `sum (chatsim_harness_connected_clients{${run}})`, legend: 'connected' },
          { expr: rate('chatsim_harness_reconnects_total', run), legend: 'reconnects/s' },
          { expr: rate('chatsim_harness_sessions_lost_total', run), legend: 'sessions lost/s' },
          { expr: rate('chatsim_harness_resyncs_total', run), legend: 'resyncs/s' },
        ],
      },
      {
        title: 'Connect latency',
        description: 'From a connection attempt to its welcome.',
        unit: 's',
        targets: [0.5, 0.99].map((quantile) => ({
          expr: q(quantile, 'chatsim_harness_connect_latency_seconds', run),
          legend: `p${Math.round(quantile * 100)}`,
        })),
      },
      {
        title: 'Fan-out lag distribution',
        description: 'Messages per fan-out lag bucket over the dashboard range.',
        unit: 's',
        kind: 'heatmap',
        targets: [
          {
            expr: `sum by (le) (increase(chatsim_harness_fanout_lag_seconds_bucket{${run}}[$__rate_interval]))`,
            legend: '{{le}}',
          },
        ],
      },
      {
        title: 'Harness: CPU and simulator events',
        description: "The generator's (or simulator's) CPU in cores, and simulated events per second.",
        unit: 'short',
        targets: [
          { expr: rate('chatsim_harness_cpu_seconds_total', run), legend: 'CPU cores' },
          { expr: rate('chatsim_harness_sim_events_total', run), legend: 'sim events/s' },
        ],
      },
      {
        title: 'Violations by property',
        description: 'Any non-zero value is a correctness failure: the report has the witness.',
        unit: 'short',
        kind: 'stat',
        width: 24,
        targets: [
          {
            expr: `sum by (property) (chatsim_harness_violations_total{${run}})`,
            legend: '{{property}}',
          },
        ],
      },
    ],
    [
      {
        name: 'Faults',
        datasource,
        enable: true,
        iconColor: 'rgba(242, 73, 92, 0.25)',
        expr: `max by (fault) (chatsim_harness_fault_active{${run}}) == 1`,
        step: '1s',
        titleFormat: '{{fault}}',
        tagKeys: 'fault',
        useValueForTime: false,
      },
    ],
  );
}

const node = 'instance=~"$instance"';

export function fleetDashboard(): Dashboard {
  return dashboard(
    'chatsim-fleet',
    'chatsim: reference-server fleet',
    'The reference servers (chatsim serve) a run drives: connections, frames, acks, fsync, shedding, process health.',
    [variable('instance', 'Node', 'label_values(chatsim_connections, instance)', true)],
    [
      {
        title: 'Connections per node',
        description: 'Open WebSocket connections.',
        unit: 'short',
        targets: [{ expr: `sum by (instance) (chatsim_connections{${node}})`, legend: '{{instance}}' }],
      },
      {
        title: 'Server ack latency p99',
        description: 'From a send frame received to its ack sent, per node.',
        unit: 's',
        targets: [
          { expr: q(0.99, 'chatsim_ack_latency_seconds', node, ', instance'), legend: '{{instance}}' },
        ],
      },
      {
        title: 'Frames in by type',
        description: 'Client frames per second.',
        unit: 'ops',
        stack: true,
        targets: [{ expr: rate('chatsim_frames_in_total', node, 'type'), legend: '{{type}}' }],
      },
      {
        title: 'Frames out by type',
        description: 'Server frames per second (one per recipient).',
        unit: 'ops',
        stack: true,
        targets: [{ expr: rate('chatsim_frames_out_total', node, 'type'), legend: '{{type}}' }],
      },
      {
        title: 'Acks and fan-out deliveries',
        description: 'Messages made durable, and pushes to member connections, per second.',
        unit: 'ops',
        targets: [
          { expr: rate('chatsim_acks_total', node, 'instance'), legend: 'acks {{instance}}' },
          { expr: rate('chatsim_fanout_deliveries_total', node, 'instance'), legend: 'pushes {{instance}}' },
        ],
      },
      {
        title: 'Store: fsync p99 and records per fsync',
        description: 'Group commit at work: how long an fsync takes and how many records it carries.',
        unit: 's',
        targets: [
          {
            expr: q(0.99, 'chatsim_store_fsync_seconds', node, ', instance'),
            legend: 'fsync p99 {{instance}}',
          },
        ],
      },
      {
        title: 'Shedding and errors',
        description:
          'Rate-limited sends, bad frames, slow-consumer closes (4509), store failures, per second.',
        unit: 'ops',
        targets: [
          { expr: rate('chatsim_rate_limited_sends_total', node), legend: 'rate limited' },
          { expr: rate('chatsim_bad_frames_total', node), legend: 'bad frames' },
          { expr: rate('chatsim_slow_consumer_closes_total', node), legend: 'slow consumers' },
          { expr: rate('chatsim_store_unavailable_total', node), legend: 'store unavailable' },
        ],
      },
      {
        title: 'Process: CPU, event loop lag',
        description: 'CPU in cores and the event loop lag p99 per node.',
        unit: 'short',
        targets: [
          { expr: rate('chatsim_process_cpu_seconds_total', node, 'instance'), legend: 'CPU {{instance}}' },
          {
            expr: `max by (instance) (chatsim_nodejs_eventloop_lag_p99_seconds{${node}})`,
            legend: 'loop lag p99 (s) {{instance}}',
          },
        ],
      },
      {
        title: 'Process: memory',
        description: 'Resident memory per node.',
        unit: 'bytes',
        targets: [
          {
            expr: `sum by (instance) (chatsim_process_resident_memory_bytes{${node}})`,
            legend: '{{instance}}',
          },
        ],
      },
    ],
  );
}

const runs = 'run_id=~"$run_id"';

export function capacityDashboard(): Dashboard {
  return dashboard(
    'chatsim-capacity',
    'chatsim: capacity runs',
    'Runs side by side for capacity planning: where latency bends as load grows, and what the servers spend.',
    [variable('run_id', 'Runs', 'label_values(chatsim_harness_sends_total, run_id)', true)],
    [
      {
        title: 'Delivered messages per second, by run',
        description: 'Recipient displays per second.',
        unit: 'ops',
        targets: [{ expr: rate('chatsim_harness_displays_total', runs, 'run_id'), legend: '{{run_id}}' }],
      },
      {
        title: 'Ack p99, by run',
        description: 'The knee shows as the load where this bends upward.',
        unit: 's',
        targets: [
          {
            expr: `scenario_run:chatsim_harness_ack_latency_seconds:p99_rate1m{${runs}}`,
            legend: '{{run_id}}',
          },
        ],
      },
      {
        title: 'Delivery p99, by run',
        description: 'Scheduled send to display, p99.',
        unit: 's',
        targets: [
          {
            expr: `scenario_run:chatsim_harness_delivery_latency_seconds:p99_rate1m{${runs}}`,
            legend: '{{run_id}}',
          },
        ],
      },
      {
        title: 'Connected devices, by run',
        description: 'Devices with an open session.',
        unit: 'short',
        targets: [
          { expr: `sum by (run_id) (chatsim_harness_connected_clients{${runs}})`, legend: '{{run_id}}' },
        ],
      },
      {
        title: 'Messages per server CPU-second',
        description: 'Delivered messages per second divided by the fleet CPU in cores.',
        unit: 'short',
        targets: [
          {
            expr: `sum (rate(chatsim_harness_displays_total{${runs}}[$__rate_interval])) / sum (rate(chatsim_process_cpu_seconds_total{job="chatsim-server"}[$__rate_interval]))`,
            legend: 'msgs per CPU-second',
          },
        ],
      },
      {
        title: 'Generator CPU, by run',
        description: 'A generator near a full core measures itself as much as the server.',
        unit: 'short',
        targets: [{ expr: rate('chatsim_harness_cpu_seconds_total', runs, 'run_id'), legend: '{{run_id}}' }],
      },
      {
        title: 'Failed sends ratio, by run',
        description: 'Share of sends the clients gave up on.',
        unit: 'percentunit',
        targets: [
          {
            expr: `scenario_run:chatsim_harness_failed_sends:ratio_rate1m{${runs}}`,
            legend: '{{run_id}}',
          },
        ],
      },
    ],
  );
}

export const dashboards = {
  'chatsim-run.json': runDashboard,
  'chatsim-fleet.json': fleetDashboard,
  'chatsim-capacity.json': capacityDashboard,
};

export function dashboardJson(build: () => Dashboard): string {
  return `${JSON.stringify(build(), null, 2)}\n`;
}

if (process.argv[1] === fileURLToPath(import.meta.url)) {
  for (const [file, build] of Object.entries(dashboards))
    writeFileSync(new URL(`dashboards/${file}`, import.meta.url), dashboardJson(build));
}
