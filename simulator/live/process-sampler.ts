// What the processes of a live run cost, seen from outside: the driver reads each node's and
// generator's resident set and open files from /proc every few seconds. That gives memory per
// connection on both sides (growth over the first sample, taken before any client connects, divided by
// the sockets held), the open files each process came to (against the per-process limit), and a
// curve over time that shows whether a soak's memory stays flat. Where /proc does not exist (not
// Linux) nothing is sampled and the facts say so by being empty.

import { readdirSync, readFileSync } from 'node:fs';
import { liveLimits } from './limits.ts';

export type ProcessRef = { name: string; kind: 'node' | 'generator'; pid: number | undefined };

/** One process's figures over the run; a restarted node keeps its name and its curve. */
export type ProcessFigures = {
  name: string;
  kind: 'node' | 'generator';
  /** The first sample (before clients connect, for nodes and generators alike). */
  rssBytesFirst: number;
  rssBytesMax: number;
  filesFirst: number;
  filesMax: number;
  /** [ms since the sampler started, resident bytes, open files], thinned to at most curvePointsMax. */
  curve: [number, number, number][];
};

/** Resident set and open files of a process, or null when it is gone or /proc cannot be read. */
export function readProcess(pid: number): { rssBytes: number; files: number } | null {
  try {
    const status = readFileSync(`/proc/${pid}/status`, 'utf8');
    const rss = /^VmRSS:\s+(\d+) kB/m.exec(status);
    if (!rss) return null;
    return { rssBytes: Number(rss[1]) * 1024, files: readdirSync(`/proc/${pid}/fd`).length };
  } catch {
    return null;
  }
}

export class ProcessSampler {
  private readonly figures = new Map<string, ProcessFigures>();
  /** Keep every `stride`-th sample in the curves; doubles each time the curves are thinned. */
  private stride = 1;
  private taken = 0;
  private timer: NodeJS.Timeout | null = null;
  private readonly startedAt = performance.now();

  constructor(
    private readonly processes: () => readonly ProcessRef[],
    private readonly read: (pid: number) => { rssBytes: number; files: number } | null = readProcess,
    private readonly curvePointsMax: number = liveLimits.processCurvePointsMax,
  ) {}

  start(everyMs: number = liveLimits.processSampleMs): void {
    this.sample();
    this.timer = setInterval(() => this.sample(), everyMs);
    this.timer.unref();
  }

  stop(): ProcessFigures[] {
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
    this.sample();
    return [...this.figures.values()];
  }

  sample(): void {
    const atMs = Math.round(performance.now() - this.startedAt);
    const keep = this.taken++ % this.stride === 0;
    for (const ref of this.processes()) {
      if (ref.pid === undefined) continue;
      const now = this.read(ref.pid);
      if (now === null) continue;
      const seen = this.figures.get(ref.name);
      if (seen === undefined) {
        this.figures.set(ref.name, {
          name: ref.name,
          kind: ref.kind,
          rssBytesFirst: now.rssBytes,
          rssBytesMax: now.rssBytes,
          filesFirst: now.files,
          filesMax: now.files,
          curve: [[atMs, now.rssBytes, now.files]],
        });
        continue;
      }
      seen.rssBytesMax = Math.max(seen.rssBytesMax, now.rssBytes);
      seen.filesMax = Math.max(seen.filesMax, now.files);
      if (keep) seen.curve.push([atMs, now.rssBytes, now.files]);
    }
    if ([...this.figures.values()].some((f) => f.curve.length > this.curvePointsMax)) this.thin();
  }

  /** Halves every curve (every other point kept) and samples half as often into them from now on. */
  private thin(): void {
    for (const f of this.figures.values()) f.curve = f.curve.filter((_, i) => i % 2 === 0);
    this.stride *= 2;
  }
}
