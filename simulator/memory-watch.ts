// The run's memory, watched while it runs: when the process's RSS passes the ceiling of the memory the
// run may use (memory-budget.ts: 90% of it), or the world's heap nears V8's limit, the run stops with a reason instead of
// being killed by the kernel (exit 137, nothing said) or crashing in V8. Sampled on the wall clock at
// most once a `sampleEveryMs`, from the run's clock ticks (about once a virtual second), the world's
// waits for the checker thread and a timer while the verdicts are awaited: never per event. Nothing
// here reaches the trace; a stopped run has no verdicts and could not be judged (exit 3). Each sample
// counts toward the run's phase of the moment (`enter`), and the run's perf says each phase's largest
// RSS: where a run peaks (its setup, its load, its settle, or its end: the final read, the final state
// crossing to the checker thread, the wait for the verdicts) is what a capacity user cuts or plans for.

import { getHeapStatistics } from 'node:v8';
import { ceilingBytes, gib, type MemoryLimit, memoryCeilingShare } from './memory-budget.ts';

export const memoryWatchLimits = {
  /** Or when the world's thread's used heap passes this share of V8's heap limit. */
  heapShareMax: 0.9,
  /** Wall time between two samples. */
  sampleEveryMs: 1000,
} as const;

export type MemorySample = { rssBytes: number; heapUsedBytes: number; heapLimitBytes: number };

/** The process's RSS (every thread's) and this thread's V8 heap. */
export function processSample(): MemorySample {
  const heap = getHeapStatistics();
  return {
    rssBytes: process.memoryUsage.rss(),
    heapUsedBytes: heap.used_heap_size,
    heapLimitBytes: heap.heap_size_limit,
  };
}

/** Why a sample is too close to a limit to go on, or null. */
export function overLimit(sample: MemorySample, limit: MemoryLimit): string | null {
  if (sample.rssBytes > ceilingBytes(limit))
    return `its memory (RSS) reached ${gib(sample.rssBytes)}, over ${memoryCeilingShare * 100}% of the ${gib(limit.bytes)} it may use (${limit.source})`;
  if (sample.heapUsedBytes > sample.heapLimitBytes * memoryWatchLimits.heapShareMax)
    return `the world's heap reached ${gib(sample.heapUsedBytes)}, over ${memoryWatchLimits.heapShareMax * 100}% of V8's limit of ${gib(sample.heapLimitBytes)}`;
  return null;
}

/** The run was stopped before its memory ran out: it has no verdicts. */
export class MemoryLimitReached extends Error {
  constructor(readonly reason: string) {
    super(`the run was stopped before it could be judged: ${reason}`);
    this.name = 'MemoryLimitReached';
  }
}

export class MemoryWatch {
  private lastMs = Number.NEGATIVE_INFINITY;
  private phase = 'setup';
  /** Why the memory was too near a limit at a phase's end: the next `check` stops the run for it. */
  private pending: string | null = null;
  /** Each phase's largest sampled RSS, in the order the phases came. */
  private readonly rssPeaks = new Map<string, number>();

  constructor(
    readonly limit: MemoryLimit,
    private readonly sample: () => MemorySample = processSample,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Throws MemoryLimitReached when the memory is near a limit; samples at most once a `sampleEveryMs`. */
  check(): void {
    if (this.pending !== null) throw new MemoryLimitReached(this.pending);
    const now = this.clock();
    if (now - this.lastMs < memoryWatchLimits.sampleEveryMs) return;
    this.lastMs = now;
    const reason = overLimit(this.look(), this.limit);
    if (reason !== null) throw new MemoryLimitReached(reason);
  }

  /**
   * The run goes into `phase`: the memory is looked at once more for the phase that ends (the end of a
   * phase is often its largest: the sampling alone could miss it, or miss a phase shorter than its
   * interval), and the samples from here on count toward `phase`. It never throws (a phase may begin
   * inside an event): memory found too near a limit stops the run at the next `check`.
   */
  enter(phase: string): void {
    this.pending ??= overLimit(this.look(), this.limit);
    this.phase = phase;
  }

  /** The phase the run is in (the last `enter`). */
  get phaseNow(): string {
    return this.phase;
  }

  /** The run's last look, for its last phase (it ended there). */
  end(): void {
    this.look();
  }

  /** Each phase's largest sampled RSS (bytes), in the order the phases came. */
  rssByPhase(): Record<string, number> {
    return Object.fromEntries(this.rssPeaks);
  }

  /** The phase whose sample was the largest RSS of the run, or null before any sample. */
  rssPeakPhase(): string | null {
    let peak: string | null = null;
    for (const [phase, bytes] of this.rssPeaks)
      if (peak === null || bytes > this.rssPeaks.get(peak)!) peak = phase;
    return peak;
  }

  private look(): MemorySample {
    const sample = this.sample();
    const peak = this.rssPeaks.get(this.phase);
    if (peak === undefined || sample.rssBytes > peak) this.rssPeaks.set(this.phase, sample.rssBytes);
    return sample;
  }

  /**
   * `work`'s result, or MemoryLimitReached when the memory nears a limit first (looked at on a timer
   * meanwhile); `stop` is then called to end the work, whose own outcome is dropped.
   */
  guard<T>(work: Promise<T>, stop: () => void): Promise<T> {
    return new Promise<T>((resolve, reject) => {
      const timer = setInterval(() => {
        try {
          this.check();
        } catch (error) {
          clearInterval(timer);
          stop();
          reject(error);
        }
      }, memoryWatchLimits.sampleEveryMs);
      work.then(
        (value) => {
          clearInterval(timer);
          resolve(value);
        },
        (error: unknown) => {
          clearInterval(timer);
          reject(error);
        },
      );
    });
  }
}
