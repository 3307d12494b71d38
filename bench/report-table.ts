// Turns the phases' figures into what a reader compares: each chatsim figure beside the raw `ws`
// figure it is measured against, the ratio, and the target the issue sets for it; as a plain-text
// table or as JSON for docs/benchmarks.md and scripts.

import { availableParallelism, cpus, totalmem } from 'node:os';
import type { BenchOptions, PhaseName } from './bench-options.ts';
import { benchLimits } from './limits.ts';
import type { PhaseFigures } from './load-phase.ts';

export type PhaseResults = Partial<Record<PhaseName, PhaseFigures>>;

export type Ratio = {
  name: string;
  chatsim: number;
  raw: number;
  ratio: number;
  target: number;
  met: boolean;
};

export type Machine = { cores: number; memGiB: number; cpu: string; node: string };

export type BenchReport = {
  date: string;
  machine: Machine;
  options: BenchOptions;
  serverProcesses: number;
  phases: PhaseResults;
  ratios: Ratio[];
};

/** The issue's aims: acked msgs/s with fsync vs raw echo round-trips/s; group vs raw broadcast. */
export const targets = { ackedVsEcho: 0.3, groupVsBroadcast: 0.5 } as const;

export function machine(): Machine {
  return {
    cores: availableParallelism(),
    memGiB: Math.round(totalmem() / 2 ** 30),
    cpu: cpus()[0]?.model.trim() ?? 'unknown',
    node: process.version,
  };
}

export function ratiosOf(phases: PhaseResults): Ratio[] {
  const ratios: Ratio[] = [];
  const add = (name: string, chatsim: number, raw: number, target: number) => {
    const ratio = raw > 0 ? chatsim / raw : 0;
    ratios.push({ name, chatsim, raw, ratio, target, met: ratio >= target });
  };
  const echo = phases['raw-echo'];
  const direct = phases['chat-direct'];
  if (echo && direct) {
    add(
      '1:1 acked msgs/s (fsync) / raw echo round-trips/s',
      direct.completedPerSec,
      echo.completedPerSec,
      targets.ackedVsEcho,
    );
  }
  const broadcast = phases['raw-broadcast'];
  const group = phases['chat-group'];
  if (broadcast && group) {
    add(
      'group deliveries/s / raw broadcast frames delivered/s',
      group.deliveriesPerSec,
      broadcast.deliveriesPerSec,
      targets.groupVsBroadcast,
    );
  }
  return ratios;
}

const labels: Record<PhaseName, { what: string; completed: string }> = {
  'raw-echo': { what: 'raw ws echo', completed: 'round-trips' },
  'raw-broadcast': { what: 'raw ws broadcast (50/room)', completed: 'frames in' },
  'chat-direct': { what: 'chatsim 1:1', completed: 'acked msgs' },
  'chat-group': { what: 'chatsim group (50 members)', completed: 'acked msgs' },
};

function count(n: number): string {
  return Math.round(n).toLocaleString('en-US');
}

function ms(n: number): string {
  return n < 10 ? n.toFixed(2) : n.toFixed(1);
}

function percent(n: number): string {
  return `${Math.round(n)}%`;
}

function tally(record: Record<string, number>): string {
  const entries = Object.entries(record);
  return entries.length === 0 ? '-' : entries.map(([k, v]) => `${k}:${v}`).join(' ');
}

function table(rows: string[][]): string {
  const widths = rows[0]!.map((_, c) => Math.max(...rows.map((row) => row[c]!.length)));
  return rows
    .map((row) =>
      row.map((cell, c) => (c === 0 ? cell.padEnd(widths[c]!) : cell.padStart(widths[c]!))).join('  '),
    )
    .join('\n');
}

type Entry = [PhaseName, PhaseFigures];

function phaseTable(entries: Entry[]): string {
  const rows = [
    [
      'phase',
      'conns',
      'completed/s',
      'of',
      'deliveries/s',
      'p50 ms',
      'p99 ms',
      'max ms',
      'server cpu',
      'load cpu',
      'errors',
      'closes',
    ],
  ];
  for (const [name, figures] of entries) {
    rows.push([
      labels[name].what,
      String(figures.connections),
      count(figures.completedPerSec),
      labels[name].completed,
      name === 'raw-echo' ? '-' : count(figures.deliveriesPerSec),
      ms(figures.latencyMsP50),
      ms(figures.latencyMsP99),
      ms(figures.latencyMsMax),
      figures.serverCpuPercent === null ? '-' : percent(figures.serverCpuPercent),
      percent(figures.loadCpuPercent),
      tally(figures.errors),
      tally(figures.closes),
    ]);
  }
  return table(rows);
}

function fsyncLines(entries: Entry[]): string[] {
  return entries.flatMap(([name, { fsync }]) =>
    fsync === undefined
      ? []
      : [
          `${labels[name].what}: server ran ${count(fsync.fsyncs)} fsyncs (whole phase), ` +
            `mean ${ms(fsync.fsyncMsMean)} ms, ${fsync.recordsPerFsync.toFixed(1)} records each; ` +
            `its own mean send-to-ack ${fsync.ackMsMean === null ? '-' : `${ms(fsync.ackMsMean)} ms`}`,
        ],
  );
}

function targetLines(ratios: Ratio[]): string[] {
  if (ratios.length === 0) return [];
  return [
    '',
    'targets:',
    ...ratios.map(
      (r) =>
        `  ${r.name}: ${count(r.chatsim)} / ${count(r.raw)} = ${(r.ratio * 100).toFixed(1)}% ` +
        `(target >= ${r.target * 100}%: ${r.met ? 'met' : 'NOT met'})`,
    ),
  ];
}

export function formatReport(report: BenchReport): string {
  const { options, machine: m } = report;
  const entries = Object.entries(report.phases) as Entry[];
  const model =
    options.ratePerConn === null ? 'closed model' : `open model, ${options.ratePerConn} sends/s/conn`;
  const loadProcesses = Math.max(0, ...entries.map(([, f]) => f.loadProcesses));
  return [
    `chatsim server bench, ${report.date}`,
    `machine: ${m.cores} cores, ${m.memGiB} GiB, ${m.cpu}, Node ${m.node}`,
    `${options.seconds} s per phase, window ${options.window} per connection, ${model}, ` +
      `${benchLimits.bodyBytes} B bodies, loopback`,
    `processes per phase: server ${report.serverProcesses}, load generator ${loadProcesses} (+1 idle orchestrator)`,
    '',
    phaseTable(entries),
    '',
    'latency runs from the scheduled send time to its answer (ack, echo, or own broadcast copy).',
    'cpu: % of one core in the measured window (load: all load processes summed).',
    'deliveries: raw broadcast counts every copy (sender included); chatsim counts `msg` frames to members (not the sender).',
    ...fsyncLines(entries),
    ...targetLines(report.ratios),
    ...entries
      .filter(([, f]) => f.unansweredAtEnd > 0)
      .map(([name, f]) => `warning: ${name}: ${f.unansweredAtEnd} sends unanswered after the drain`),
  ].join('\n');
}
