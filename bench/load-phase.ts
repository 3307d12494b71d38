// Runs one phase's load across worker processes: forks them, hands each a contiguous share of the
// clients, starts them together once every connection is ready, and merges their reports into the
// figures the table shows. Every wait is bounded; the workers are stopped whatever happens.

import { performance } from 'node:perf_hooks';
import { setTimeout as sleep } from 'node:timers/promises';
import { fileURLToPath } from 'node:url';
import type { Child, ChildGroup } from './child-group.ts';
import type { FsyncFigures } from './fsync-figures.ts';
import { LatencyHistogram } from './latency-histogram.ts';
import { benchLimits } from './limits.ts';
import type { FromWorker, LoadPlan, LoadReport } from './load-plan.ts';
import { cpuMsOf } from './process-cpu.ts';

const workerPath = fileURLToPath(new URL('./load-worker.ts', import.meta.url));

export type PhaseFigures = {
  connections: number;
  loadProcesses: number;
  measuredMs: number;
  /** CPU used in the measured window, in % of one core: the server's (null where /proc is missing), the load workers' summed. */
  serverCpuPercent: number | null;
  loadCpuPercent: number;
  sent: number;
  completed: number;
  completedPerSec: number;
  deliveries: number;
  deliveriesPerSec: number;
  latencyMsP50: number;
  latencyMsP99: number;
  latencyMsMax: number;
  errors: Record<string, number>;
  closes: Record<string, number>;
  unansweredAtEnd: number;
  /** The server's fsyncs over the whole phase, warm-up included (chatsim phases only). */
  fsync?: FsyncFigures;
};

/** Runs `plan` across `processes` workers against the server process `serverPid`. */
export async function runLoadPhase(
  group: ChildGroup,
  plan: LoadPlan,
  processes: number,
  serverPid: number | undefined,
): Promise<PhaseFigures> {
  const shares = split(plan.clients, Math.max(1, Math.min(processes, plan.clients.length)));
  const workers = shares.map((_, i) => group.fork(`load-worker-${i + 1}`, workerPath));
  const sampling = new AbortController();
  try {
    const ready = workers.map((worker) => nextMessage(worker, 'ready', benchLimits.connectTimeoutMs * 2));
    workers.forEach((worker, i) => {
      worker.process.send({ type: 'plan', plan: { ...plan, clients: shares[i]! } });
    });
    await Promise.all(ready);
    const runMs = plan.warmupMs + plan.measureMs + benchLimits.drainMs + benchLimits.reportSlackMs;
    const reports = workers.map((worker) => nextMessage(worker, 'report', runMs));
    for (const worker of workers) worker.process.send({ type: 'start' });
    const serverCpu = sampleCpu(serverPid, plan.warmupMs, plan.measureMs, sampling.signal);
    const merged = merge(
      (await Promise.all(reports)).map((message) => message.report),
      workers.length,
    );
    return { ...merged, serverCpuPercent: await serverCpu };
  } finally {
    sampling.abort();
    await Promise.all(workers.map((worker) => group.stop(worker)));
  }
}

/**
 * CPU % of one core `pid` used from `afterMs` for `forMs`, timed by this (idle) process's clock.
 * Null when /proc cannot tell or the phase ended (aborted) first.
 */
async function sampleCpu(
  pid: number | undefined,
  afterMs: number,
  forMs: number,
  signal: AbortSignal,
): Promise<number | null> {
  try {
    await sleep(afterMs, undefined, { signal });
    const startMs = performance.now();
    const start = cpuMsOf(pid);
    await sleep(forMs, undefined, { signal });
    const end = cpuMsOf(pid);
    if (start === null || end === null) return null;
    return ((end - start) * 100) / (performance.now() - startMs);
  } catch {
    return null;
  }
}

function split<T>(items: readonly T[], parts: number): T[][] {
  const size = Math.ceil(items.length / parts);
  return Array.from({ length: parts }, (_, i) => items.slice(i * size, (i + 1) * size)).filter(
    (s) => s.length,
  );
}

function nextMessage<T extends FromWorker['type']>(
  worker: Child,
  type: T,
  timeoutMs: number,
): Promise<Extract<FromWorker, { type: T }>> {
  return new Promise((resolve, reject) => {
    const onMessage = (message: FromWorker) => {
      if (message.type === type) finish(null, message as Extract<FromWorker, { type: T }>);
      else if (message.type === 'failed') finish(new Error(`${worker.name} failed: ${message.message}`));
    };
    const finish = (error: Error | null, message?: Extract<FromWorker, { type: T }>) => {
      clearTimeout(timer);
      worker.process.off('message', onMessage);
      if (error) reject(error);
      else resolve(message!);
    };
    const timer = setTimeout(
      () => finish(new Error(`${worker.name}: no ${type} within ${timeoutMs} ms`)),
      timeoutMs,
    );
    worker.process.on('message', onMessage);
    void worker.exited.then(({ code }) =>
      finish(new Error(`${worker.name} exited (code ${code}) before ${type}: ${worker.outputTail().trim()}`)),
    );
  });
}

function merge(reports: LoadReport[], loadProcesses: number): Omit<PhaseFigures, 'serverCpuPercent'> {
  const latency = new LatencyHistogram();
  const errors: Record<string, number> = {};
  const closes: Record<string, number> = {};
  let connections = 0;
  let measuredMs = 0;
  let cpuMs = 0;
  let sent = 0;
  let completed = 0;
  let deliveries = 0;
  let unansweredAtEnd = 0;
  for (const report of reports) {
    latency.merge(report.latency);
    connections += report.connections;
    measuredMs = Math.max(measuredMs, report.measuredMs);
    cpuMs += report.cpuMs;
    sent += report.sent;
    completed += report.completed;
    deliveries += report.deliveries;
    unansweredAtEnd += report.unansweredAtEnd;
    for (const [code, n] of Object.entries(report.errors)) errors[code] = (errors[code] ?? 0) + n;
    for (const [code, n] of Object.entries(report.closes)) closes[code] = (closes[code] ?? 0) + n;
  }
  const perSec = (n: number) => (measuredMs > 0 ? (n * 1000) / measuredMs : 0);
  return {
    connections,
    loadProcesses,
    measuredMs,
    loadCpuPercent: measuredMs > 0 ? (cpuMs * 100) / measuredMs : 0,
    sent,
    completed,
    completedPerSec: perSec(completed),
    deliveries,
    deliveriesPerSec: perSec(deliveries),
    latencyMsP50: latency.percentileMs(50),
    latencyMsP99: latency.percentileMs(99),
    latencyMsMax: latency.maxUs / 1000,
    errors,
    closes,
    unansweredAtEnd,
  };
}

/** The parts of a plan every phase shares, from the bench's flags. */
export function planBase(options: {
  seconds: number;
  window: number;
  ratePerConn: number | null;
}): Pick<LoadPlan, 'windowMax' | 'ratePerConnPerSec' | 'warmupMs' | 'measureMs' | 'bodyBytes'> {
  const measureMs = options.seconds * 1000;
  return {
    windowMax: options.window,
    ratePerConnPerSec: options.ratePerConn,
    warmupMs: Math.min(benchLimits.warmupMsMax, measureMs * benchLimits.warmupShare),
    measureMs,
    bodyBytes: benchLimits.bodyBytes,
  };
}

/** Group phases use whole groups: the largest multiple of the group size not above `connections`. */
export function groupCount(connections: number): number {
  return Math.max(1, Math.floor(connections / benchLimits.groupSize));
}
