// A simulated run's metrics as OpenMetrics text with a timestamp on every sample, virtual time mapped
// onto the wall clock from `startEpochMs`, so `promtool tsdb create-blocks-from openmetrics` imports
// it and the same dashboards show a simulated run and a live one. OpenMetrics wants each family's
// samples together and each series' timestamps increasing: families, then series, then snapshots.

import { writeFileSync } from 'node:fs';
import {
  familySeries,
  faultFamily,
  faultSeries,
  formatLabels,
  formatValue,
  type RunLabels,
  type Sample,
} from './harness-samples.ts';
import type { RunRecorder } from './run-recorder.ts';

export function openMetricsText(recorder: RunRecorder, run: RunLabels, startEpochMs: number): string {
  const lines: string[] = [];
  const stamp = (atMs: number): string => ((startEpochMs + atMs) / 1000).toFixed(3);
  const snapshots = recorder.snapshots;
  for (const family of recorder.layout.families) {
    lines.push(`# TYPE ${family.name} ${family.kind}`, `# HELP ${family.name} ${family.help}`);
    // Series appear from the snapshot in which their phase was reached; the union keeps their order.
    const bySeries = new Map<string, { at: number; samples: Sample[] }[]>();
    for (const snapshot of snapshots)
      for (const series of familySeries(family, snapshot.values, snapshot.phase, run)) {
        const list = bySeries.get(series.key) ?? [];
        list.push({ at: snapshot.at, samples: series.samples });
        bySeries.set(series.key, list);
      }
    for (const points of bySeries.values())
      for (const point of points)
        for (const sample of point.samples)
          lines.push(
            `${family.name}${sample.suffix}${formatLabels(sample.labels)} ${formatValue(sample.value)} ${stamp(point.at)}`,
          );
  }
  if (recorder.faults.length > 0) {
    lines.push(`# TYPE ${faultFamily.name} gauge`, `# HELP ${faultFamily.name} ${faultFamily.help}`);
    const bySeries = new Map<string, string[]>();
    for (const snapshot of snapshots)
      for (const series of faultSeries(recorder.faults, snapshot.at, snapshot.phase, run)) {
        const list = bySeries.get(series.key) ?? [];
        const sample = series.samples[0]!;
        list.push(`${faultFamily.name}${formatLabels(sample.labels)} ${sample.value} ${stamp(snapshot.at)}`);
        bySeries.set(series.key, list);
      }
    for (const list of bySeries.values()) lines.push(...list);
  }
  lines.push('# EOF', '');
  return lines.join('\n');
}

export function writeOpenMetrics(
  path: string,
  recorder: RunRecorder,
  run: RunLabels,
  startEpochMs: number,
): void {
  writeFileSync(path, openMetricsText(recorder, run, startEpochMs));
}
