// summary.md: the run in Markdown for a CI job summary or a pull request comment: the verdict, the
// command that reproduces it, properties, thresholds (which broke and when), latency and faults.

import { metricsLatencyNote, type ReportData } from './report-data.ts';
import { formatMs } from './report-html.ts';

const cell = (text: string): string => text.replace(/\|/g, '\\|').replace(/\n/g, ' ');

export function summaryMarkdown(data: ReportData): string {
  const lines: string[] = [
    `# chatsim ${data.mode} ${data.scenario.name}, seed ${data.seed}: ${data.exitCode === 0 ? 'PASS' : 'FAIL'}`,
    '',
    `**${data.verdictLine}**`,
    '',
    'Reproduce:',
    '',
    '```sh',
    data.repro,
    '```',
    '',
    ...data.facts.map(([k, v]) => `- ${k}: ${v}`),
    '',
    '## Properties',
    '',
    '| verdict | property | details |',
    '| --- | --- | --- |',
    ...data.verdicts.map((v) => `| ${v.verdict.toUpperCase()} | ${v.property} | ${cell(v.details)} |`),
  ];
  for (const v of data.verdicts.filter((x) => x.witness.length > 0)) {
    lines.push('', `Witness for ${v.property}:`, '', '```json', ...v.witness, '```');
  }
  lines.push('', '## SLO thresholds', '');
  if (data.thresholds.length === 0) lines.push('This scenario sets no thresholds.');
  else
    lines.push(
      '| verdict | threshold | rule | actual | broke |',
      '| --- | --- | --- | --- | --- |',
      ...data.thresholds.map(
        (t) =>
          `| ${t.pass ? 'PASS' : 'FAIL'} | ${t.name} | \`${cell(t.expression)}\` | ${t.actualText} | ${t.pass ? '' : t.brokeAtS === null ? 'at the end' : `at ${t.brokeAtS.toFixed(1)} s`} |`,
      ),
    );
  const ms = formatMs;
  const l = data.latencyMs;
  const latencyNote = `The whole run, warm-up included, from the run's metrics (${metricsLatencyNote}).`;
  lines.push(
    '',
    '## Latency',
    '',
    latencyNote,
    '',
    '| | count | p50 | p95 | p99 |',
    '| --- | --- | --- | --- | --- |',
    `| delivery (scheduled send to display) | ${l.delivery.count} | ${ms(l.delivery.p50)} | ${ms(l.delivery.p95)} | ${ms(l.delivery.p99)} |`,
    `| ack (scheduled send to ack) | ${l.ack.count} | ${ms(l.ack.p50)} | ${ms(l.ack.p95)} | ${ms(l.ack.p99)} |`,
    `| fan-out lag (first to last display) | ${l.fanout.count} | ${ms(l.fanout.p50)} | ${ms(l.fanout.p95)} | ${ms(l.fanout.p99)} |`,
    `| connect | ${l.connect.count} | ${ms(l.connect.p50)} | ${ms(l.connect.p95)} | ${ms(l.connect.p99)} |`,
    '',
    '## Faults',
    '',
  );
  if (data.faults.length === 0) lines.push('None.');
  for (const f of data.faults)
    lines.push(
      `- ${f.describe}: ${f.startS.toFixed(1)} s to ${f.endS === null ? 'the end' : `${f.endS.toFixed(1)} s`}`,
    );
  lines.push('', 'Charts: report.html (opens offline).', '');
  return lines.join('\n');
}
