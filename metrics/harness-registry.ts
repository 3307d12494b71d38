// The recorder as a prom-client registry: every family is a custom metric that reads the recorder's
// numbers when scraped or pushed, so a live run pays nothing per event for its exposition.

import { type Metric, Registry } from 'prom-client';
import { familySeries, faultFamily, faultSeries, type RunLabels } from './harness-samples.ts';
import type { RunRecorder } from './run-recorder.ts';

type Value = { metricName: string; labels: Record<string, string>; value: number };

export function harnessRegistry(recorder: RunRecorder): Registry {
  const registry = new Registry();
  const run: RunLabels = { scenario: recorder.options.scenario, run_id: recorder.options.runId };
  for (const family of recorder.layout.families) {
    const name = family.kind === 'counter' ? `${family.name}_total` : family.name;
    registry.registerMetric(
      customMetric(name, family.help, family.kind, () =>
        familySeries(family, recorder.values, recorder.phase, run).flatMap((series) =>
          series.samples.map((s) => ({
            metricName: family.name + s.suffix,
            labels: s.labels,
            value: s.value,
          })),
        ),
      ),
    );
  }
  registry.registerMetric(
    customMetric(faultFamily.name, faultFamily.help, 'gauge', () =>
      faultSeries(recorder.faults, recorder.nowMs, recorder.phase, run).flatMap((series) =>
        series.samples.map((s) => ({ metricName: faultFamily.name, labels: s.labels, value: s.value })),
      ),
    ),
  );
  return registry;
}

/** A metric prom-client's registry duck-types: it only calls get() (and reset() on registry reset). */
function customMetric(name: string, help: string, type: string, values: () => Value[]): Metric {
  const metric = {
    name,
    help,
    type,
    aggregator: 'sum',
    reset() {},
    async get() {
      return { name, help, type, aggregator: 'sum', values: values() };
    },
  };
  return metric as unknown as Metric;
}
