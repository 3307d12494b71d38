// What the processes of a live run cost, seen from outside: the driver reads each node's and
// generator's resident set and open files from /proc every few seconds. That gives memory per
// connection on both sides (growth over the first sample, taken before any client connects, divided by
// the sockets held), the open files each process came to (against the per-process limit), and a
// curve over time that shows whether a soak's memory stays flat; and the CPU each process used (user
// and system time, restarts summed), so a run can say what a connection costs in CPU and which process
// ran out of core first. Where /proc does not exist (not
// Linux) nothing is sampled and the facts say so by being empty.

import { readdirSync, readFileSync } from 'node:fs';
import { liveLimits } from './limits.ts';

/**
 * The driver samples itself too: its checkers stream the history, and a soak shows whether they stay flat.
 * A `service` is a dependency the run owns beside the nodes (its Redis): it shares the box's cores, so a
 * capacity calibration counts what it spends (capacity/host-share.ts).
 */
export type ProcessKind = 'node' | 'generator' | 'driver' | 'service';

export type ProcessRef = { name: string; kind: ProcessKind; pid: number | undefined };

/** One process's figures over the run; a restarted node keeps its name and its curve. */
export type ProcessFigures = {
  name: string;
  kind: ProcessKind;
  /** The first sample (before clients connect, for nodes and generators alike). */
  rssBytesFirst: number;
  rssBytesMax: number;
  filesFirst: number;
  filesMax: number;
  /** CPU time used (user + system), over every pid the name had (a restarted node's lives summed). */
  cpuMs: number;
  /** The busiest interval between two samples: CPU time over wall time (1 = a whole core). */
  cpuShareMax: number;
  /** [ms since the sampler started, resident bytes, open files], thinned to at most curvePointsMax. */
  curve: [number, number, number][];
};

/** `files` is null when not counted this time (counting walks /proc/PID/fd: a few µs per open file). */
export type ProcessReading = { rssBytes: number; files: number | null; cpuMs?: number };

/** /proc/PID/stat counts CPU time in clock ticks of 1/USER_HZ s; Linux fixes USER_HZ at 100 for users. */
const userHz = 100;

/**
 * Resident set, CPU time and (with `countFiles`) open files of a process, or null when it is gone or
 * /proc cannot be read.
 */
export function readProcess(pid: number, countFiles = true): ProcessReading | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (!rss) return null;
    // Fields after the command (which may hold spaces, so read from its closing parenthesis): utime is
    // the 14th field of the line, stime the 15th.
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    const ticks = Number(fields[11]) + Number(fields[12]);
    return {
      rssBytes: Number(rss[1]) * 1024,
      files: countFiles ? readdirSync(`/proc/${pid}/fd`).length : null,
      ...(Number.isFinite(ticks) ? { cpuMs: (ticks * 1000) / userHz } : {}),
    };
  } catch {
    return null;
  }
}

export class ProcessSampler {
  private readonly figures = new Map<string, ProcessFigures>();
  /** Per name: the open files last counted (carried into the samples that do not count them). */
  private readonly lastFiles = new Map<string, number>();
  /** Per name: the pid last read, its CPU time then, the CPU of the name's earlier pids, and when. */
  private readonly cpu = new Map<string, { pid: number; cpuMs: number; earlierMs: number; atMs: number }>();
  /** Keep every `stride`-th sample in the curves; doubles each time the curves are thinned. */
  private stride = 1;
  private taken = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt: number;

  constructor(
    private readonly processes: () => readonly ProcessRef[],
    private readonly read: (pid: number, countFiles: boolean) => ProcessReading | null = readProcess,
    private readonly curvePointsMax: number = liveLimits.processCurvePointsMax,
    private readonly clock: () => number = () => performance.now(),
  ) {
    this.startedAt = clock();
  }

  start(everyMs: number = liveLimits.processSampleMs): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): ProcessFigures[] {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.sample(true);
    return [...this.figures.values()];
  }

  /**
   * Reads every process. Open files are counted every processFilesEvery-th sample (and when `countFiles`):
   * at 100,000 connections a count walks 100,000 /proc entries, a third of the driver's core every 2 s.
   */
  sample(countFiles = false): void {
    const atMs = Math.round(this.clock() - this.startedAt);
    const keep = this.taken % this.stride === 0;
    const counting = countFiles || this.taken % liveLimits.processFilesEvery === 0;
    this.taken++;
    for (const ref of this.processes()) {
      if (ref.pid === undefined) continue;
      const reading = this.read(ref.pid, counting || !this.figures.has(ref.name));
      if (reading === null) continue;
      const files = reading.files ?? this.lastFiles.get(ref.name) ?? 0;
      this.lastFiles.set(ref.name, files);
      const now = { ...reading, files };
      const cpu = this.cpuOf(ref.name, ref.pid, now.cpuMs ?? 0, atMs);
      const seen = this.figures.get(ref.name);
      if (seen === undefined) {
        this.figures.set(ref.name, {
          name: ref.name,
          kind: ref.kind,
          rssBytesFirst: now.rssBytes,
          rssBytesMax: now.rssBytes,
          filesFirst: now.files,
          filesMax: now.files,
          cpuMs: cpu.totalMs,
          cpuShareMax: 0,
          curve: [[atMs, now.rssBytes, now.files]],
        });
        continue;
      }
      seen.rssBytesMax = Math.max(seen.rssBytesMax, now.rssBytes);
      seen.filesMax = Math.max(seen.filesMax, now.files);
      seen.cpuMs = cpu.totalMs;
      seen.cpuShareMax = Math.max(seen.cpuShareMax, cpu.share);
      if (keep) seen.curve.push([atMs, now.rssBytes, now.files]);
    }
    if ([...this.figures.values()].some((f) => f.curve.length > this.curvePointsMax)) this.thin();
  }

  /** The name's CPU so far (its pids' summed) and its share of a core since the previous sample. */
  private cpuOf(name: string, pid: number, cpuMs: number, atMs: number): { totalMs: number; share: number } {
    const last = this.cpu.get(name);
    if (last === undefined) {
      this.cpu.set(name, { pid, cpuMs, earlierMs: 0, atMs });
      return { totalMs: cpuMs, share: 0 };
    }
    // A new pid (a restart) starts its own count: what the old one used is kept.
    const earlierMs = last.pid === pid ? last.earlierMs : last.earlierMs + last.cpuMs;
    const usedMs = last.pid === pid ? cpuMs - last.cpuMs : cpuMs;
    const share = atMs > last.atMs ? usedMs / (atMs - last.atMs) : 0;
    this.cpu.set(name, { pid, cpuMs, earlierMs, atMs });
    return { totalMs: earlierMs + cpuMs, share };
  }

  /** Halves every curve (every other point kept) and samples half as often into them from now on. */
  private thin(): void {
    for (const f of this.figures.values()) f.curve = f.curve.filter((_, i) => i % 2 === 0);
    this.stride *= 2;
  }
}
