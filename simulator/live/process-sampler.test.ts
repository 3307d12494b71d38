import { describe, expect, it } from 'vitest';
import { ProcessSampler, readProcess } from './process-sampler.ts';

describe('ProcessSampler', () => {
  it('counts open files on its first sample of a process, every fifth sample after, and at the end', () => {
    const counted: boolean[] = [];
    let files = 10;
    const sampler = new ProcessSampler(
      () => [{ name: 'g0', kind: 'generator', pid: 1 }],
      (_pid, countFiles) => {
        counted.push(countFiles);
        return { rssBytes: 100, files: countFiles ? files : null };
      },
    );
    for (let i = 0; i < 7; i++) {
      files += 10;
      sampler.sample();
    }
    files = 500;
    const [g0] = sampler.stop();
    expect(counted).toEqual([true, false, false, false, false, true, false, true]);
    // Samples that did not count carry the last count; the last sample counts what is open at the end.
    expect(g0!.curve.map(([, , n]) => n)).toEqual([20, 20, 20, 20, 20, 70, 70, 500]);
    expect(g0!.filesMax).toBe(500);
  });

  it("sums a name's CPU over its pids (a restarted node) and keeps the busiest interval's share of a core", () => {
    const seen: Record<number, { rssBytes: number; files: number; cpuMs: number }> = {
      10: { rssBytes: 100, files: 30, cpuMs: 500 },
    };
    let pid = 10;
    let clock = 0;
    const sampler = new ProcessSampler(
      () => [{ name: 'n1', kind: 'node', pid }],
      (p) => seen[p] ?? null,
      600,
      () => clock,
    );
    sampler.sample();
    clock = 2000;
    seen[10] = { rssBytes: 100, files: 30, cpuMs: 2100 }; // 1.6 s of CPU in 2 s: 80% of a core
    sampler.sample();
    clock = 4000;
    pid = 11; // restarted: the new process has used 300 ms so far
    seen[11] = { rssBytes: 90, files: 25, cpuMs: 300 };
    sampler.sample();
    clock = 6000;
    seen[11] = { rssBytes: 90, files: 25, cpuMs: 700 };
    const [n1] = sampler.stop();
    expect(n1!.cpuMs).toBe(2100 + 700);
    expect(n1!.cpuShareMax).toBeCloseTo(0.8, 5);
  });

  it("keeps each process's first sample, its maxima and its curve, under its name across restarts", () => {
    const seen: Record<number, { rssBytes: number; files: number } | null> = {
      10: { rssBytes: 100, files: 30 },
      20: { rssBytes: 50, files: 10 },
    };
    let pids = [10, 20];
    const sampler = new ProcessSampler(
      () => [
        { name: 'n1', kind: 'node', pid: pids[0] },
        { name: 'g0', kind: 'generator', pid: pids[1] },
      ],
      (pid) => seen[pid] ?? null,
    );
    sampler.sample();
    seen[10] = { rssBytes: 400, files: 230 };
    sampler.sample();
    // n1 restarted under a new pid; g0 gone.
    pids = [11, 21];
    seen[11] = { rssBytes: 120, files: 31 };
    const figures = sampler.stop();
    const n1 = figures.find((f) => f.name === 'n1')!;
    expect(n1).toMatchObject({
      kind: 'node',
      rssBytesFirst: 100,
      rssBytesMax: 400,
      filesFirst: 30,
      filesMax: 230,
    });
    expect(n1.curve.map(([, rss, files]) => [rss, files])).toEqual([
      [100, 30],
      [400, 230],
      [120, 31],
    ]);
    const g0 = figures.find((f) => f.name === 'g0')!;
    expect(g0).toMatchObject({ kind: 'generator', rssBytesFirst: 50, rssBytesMax: 50 });
    expect(g0.curve).toHaveLength(2);
  });

  it('thins a long curve evenly to its bound, keeping the maxima exact', () => {
    let rss = 0;
    const sampler = new ProcessSampler(
      () => [{ name: 'g0', kind: 'generator', pid: 1 }],
      () => ({ rssBytes: ++rss, files: 1 }),
      8,
    );
    for (let i = 0; i < 100; i++) sampler.sample();
    const [g0] = sampler.stop();
    expect(g0!.curve.length).toBeLessThanOrEqual(8);
    expect(g0!.curve.length).toBeGreaterThanOrEqual(4);
    expect(g0!.rssBytesMax).toBe(101);
    const sizes = g0!.curve.map(([, bytes]) => bytes);
    expect(sizes).toEqual([...sizes].sort((a, b) => a - b));
  });

  it('reads a real process from /proc', () => {
    if (process.platform !== 'linux') return;
    const own = readProcess(process.pid);
    expect(own?.rssBytes).toBeGreaterThan(1024 * 1024);
    expect(own?.files).toBeGreaterThan(2);
    // This process has run tests: it has used CPU, and no more than it has been alive.
    const cpuMs = own?.cpuMs ?? 0;
    expect(cpuMs).toBeGreaterThan(0);
    expect(cpuMs).toBeLessThanOrEqual(process.cpuUsage().user / 1000 + process.cpuUsage().system / 1000 + 50);
    expect(readProcess(2 ** 30)).toBeNull();
  });
});
