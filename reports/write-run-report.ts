// Every run with --report DIR writes the same four files: report.html (self-contained, offline),
// summary.md, summary.json and junit.xml. Simulated and live runs both come through here.

import { mkdirSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { RunRecorder } from '../metrics/run-recorder.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import type { RunSummary } from '../simulator/run-scenario.ts';
import { junitXml } from './junit.ts';
import { reportData } from './report-data.ts';
import { reportHtml } from './report-html.ts';
import { summaryMarkdown } from './summary-md.ts';

export type RunReportInput = {
  summary: RunSummary;
  scenario: Scenario;
  recorder: RunRecorder;
  repro: string;
  mode: 'sim' | 'live';
  /** The JSON summary the CLI prints with --json (summary.json holds the same). */
  json: unknown;
};

export function writeRunReport(dir: string, input: RunReportInput): string[] {
  mkdirSync(dir, { recursive: true });
  const data = reportData(input);
  const files = {
    'report.html': reportHtml(data),
    'summary.md': summaryMarkdown(data),
    'summary.json': `${JSON.stringify({ ...(input.json as object), thresholds: data.thresholds, latencyMs: data.latencyMs }, null, 2)}\n`,
    'junit.xml': junitXml([{ summary: input.summary, repro: input.repro }]),
  };
  for (const [name, text] of Object.entries(files)) writeFileSync(join(dir, name), text);
  return Object.keys(files).map((name) => join(dir, name));
}
