import { describe, expect, it } from 'vitest';
import {
  MemoryLimitReached,
  type MemorySample,
  MemoryWatch,
  memoryWatchLimits,
  overLimit,
  processSample,
} from './memory-watch.ts';

const mib = 2 ** 20;
const limit = { bytes: 1000 * mib, source: '--memory-limit' };
const roomy: MemorySample = { rssBytes: 100 * mib, heapUsedBytes: 50 * mib, heapLimitBytes: 4096 * mib };

describe('when a run is too near the end of its memory to go on', () => {
  it('goes on below both limits', () => {
    expect(overLimit(roomy, limit)).toBeNull();
    expect(overLimit({ ...roomy, rssBytes: 900 * mib }, limit)).toBeNull();
  });

  it('stops past 90% of the memory it may use, saying how much, of what, from where', () => {
    expect(overLimit({ ...roomy, rssBytes: 901 * mib }, limit)).toBe(
      'its memory (RSS) reached 901 MiB, over 90% of the 1000 MiB it may use (--memory-limit)',
    );
  });

  it("stops past 90% of V8's heap limit on the world's thread, before V8 would crash", () => {
    expect(overLimit({ ...roomy, heapUsedBytes: 3700 * mib }, limit)).toMatch(
      /^the world's heap reached 3\.6 GiB, over 90% of V8's limit of 4\.0 GiB$/,
    );
  });

  it("samples this process's RSS and this thread's heap", () => {
    const sample = processSample();
    expect(sample.rssBytes).toBeGreaterThan(sample.heapUsedBytes / 2);
    expect(sample.heapLimitBytes).toBeGreaterThan(sample.heapUsedBytes);
  });
});

/** A watch over a scripted RSS (`at.rss`) and wall clock (`at.now`), counting its samples. */
function scriptedWatch(rssMib: number) {
  const at = { now: 0, rss: rssMib * mib, samples: 0 };
  const watch = new MemoryWatch(
    limit,
    () => {
      at.samples++;
      return { ...roomy, rssBytes: at.rss };
    },
    () => at.now,
  );
  return { watch, at };
}

describe('MemoryWatch', () => {
  it('throws MemoryLimitReached with the reason, sampling at most once a second of wall time', () => {
    const { watch, at } = scriptedWatch(100);
    watch.check();
    expect(at.samples).toBe(1);
    at.rss = 950 * mib;
    at.now += memoryWatchLimits.sampleEveryMs - 1;
    watch.check(); // not looked at yet: no sample
    expect(at.samples).toBe(1);
    at.now += 1;
    expect(() => watch.check()).toThrow(MemoryLimitReached);
    expect(at.samples).toBe(2);
    at.now += memoryWatchLimits.sampleEveryMs;
    try {
      watch.check();
      expect.unreachable();
    } catch (error) {
      expect((error as MemoryLimitReached).reason).toMatch(/^its memory \(RSS\) reached 950 MiB/);
      expect((error as Error).message).toMatch(/^the run was stopped before it could be judged: its memory/);
    }
  });

  it('keeps each phase its largest sample, in the order the phases came, and says where the run peaked', () => {
    const { watch, at } = scriptedWatch(100);
    expect(watch.rssByPhase()).toEqual({});
    expect(watch.rssPeakPhase()).toBeNull();
    expect(watch.phaseNow).toBe('setup');
    watch.check(); // the setup: 100
    at.rss = 300 * mib;
    at.now += 1;
    watch.check(); // within the second: not looked at
    expect(watch.rssByPhase()).toEqual({ setup: 100 * mib });
    watch.enter('warmup'); // the setup's end is looked at: 300
    expect(watch.phaseNow).toBe('warmup');
    at.rss = 200 * mib;
    at.now += memoryWatchLimits.sampleEveryMs;
    watch.check(); // the warm-up: 200
    at.rss = 250 * mib;
    at.now += 1;
    watch.enter('judging'); // the warm-up's end, within the second all the same: 250
    at.rss = 950 * mib;
    expect(() => watch.end()).not.toThrow(); // the run's last look never throws
    at.rss = 120 * mib;
    watch.enter('judging'); // lower than the judging's 950: kept
    expect(watch.rssByPhase()).toEqual({ setup: 300 * mib, warmup: 250 * mib, judging: 950 * mib });
    expect(Object.keys(watch.rssByPhase())).toEqual(['setup', 'warmup', 'judging']);
    expect(watch.rssPeakPhase()).toBe('judging');
    at.rss = 960 * mib;
    watch.enter('setup'); // a phase seen before keeps its place in the order
    expect(Object.keys(watch.rssByPhase())).toEqual(['setup', 'warmup', 'judging']);
    expect(watch.rssPeakPhase()).toBe('judging');
  });

  it('stops the run at the next check when a phase ended too near a limit (entering a phase never throws)', () => {
    const { watch, at } = scriptedWatch(950);
    expect(() => watch.enter('warmup')).not.toThrow();
    at.rss = 100 * mib; // gone down since: the stop stands
    expect(() => watch.check()).toThrow(/RSS\) reached 950 MiB/);
    expect(at.samples).toBe(1); // said without another look
    const fine = scriptedWatch(100).watch;
    fine.enter('warmup');
    expect(() => fine.check()).not.toThrow();
  });

  it("guards awaited work: its result when the memory holds, else the reason, and the work's stop", async () => {
    const fine = new MemoryWatch(limit, () => roomy);
    await expect(fine.guard(Promise.resolve(7), () => {})).resolves.toBe(7);
    await expect(fine.guard(Promise.reject(new Error('broke')), () => {})).rejects.toThrow('broke');

    let stopped = 0;
    let rss = 100 * mib;
    let finish!: (value: number) => void;
    const work = new Promise<number>((resolve) => {
      finish = resolve;
    });
    const watch = new MemoryWatch(limit, () => ({ ...roomy, rssBytes: rss }));
    watch.check(); // the sample before the wait: fine
    const guarded = watch.guard(work, () => stopped++);
    rss = 990 * mib;
    await expect(guarded).rejects.toBeInstanceOf(MemoryLimitReached);
    expect(stopped).toBe(1);
    finish(1); // the work's late result changes nothing
    await expect(guarded).rejects.toThrow(/RSS\) reached 990 MiB/);
  });
});
