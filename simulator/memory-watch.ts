// The run's memory, watched while it runs: when the process's RSS passes the ceiling of the memory the
// run may use (memory-budget.ts: 90% of it), or the world's heap nears V8's limit, the run stops with a reason instead of
// being killed by the kernel (exit 137, nothing said) or crashing in V8. Sampled on the wall clock at
// most once a `sampleEveryMs`, from the run's clock ticks (about once a virtual second), the world's
// waits for the checker thread and a timer while the verdicts are awaited: never per event. Nothing
// here reaches the trace; a stopped run has no verdicts and could not be judged (exit 3).

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

  constructor(
    readonly limit: MemoryLimit,
    private readonly sample: () => MemorySample = processSample,
    private readonly clock: () => number = () => performance.now(),
  ) {}

  /** Throws MemoryLimitReached when the memory is near a limit; samples at most once a `sampleEveryMs`. */
  check(): void {
    const now = this.clock();
    if (now - this.lastMs < memoryWatchLimits.sampleEveryMs) return;
    this.lastMs = now;
    const reason = overLimit(this.sample(), this.limit);
    if (reason !== null) throw new MemoryLimitReached(reason);
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
