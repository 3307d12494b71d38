// `chatsim sim` tells how fast and how big each run was (events/s wall and per CPU second, peak heap
// and RSS, GC share) on stderr, in the table's footer and in --json, and none of it touches the trace:
// two runs of one seed report different timings and the same hash. Sanity only, never a wall-clock bound.

import { spawnSync } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { describe, expect, it } from 'vitest';

const binPath = fileURLToPath(new URL('../bin/chatsim.mjs', import.meta.url));
const small = ['--seed', '1', '--clients', '200', '--no-progress'];

function chatsim(...args: string[]) {
  const result = spawnSync(process.execPath, [binPath, ...args], { encoding: 'utf8', timeout: 300_000 });
  return { status: result.status, stdout: result.stdout, stderr: result.stderr };
}

type Perf = Record<string, number> & { rssByPhase: Record<string, number>; rssPeakPhase: string };

describe('chatsim sim speed and size', () => {
  it('--json carries sane figures beside the existing fields, outside the trace hash', () => {
    const runs = [chatsim('sim', 'steady', ...small, '--json'), chatsim('sim', 'steady', ...small, '--json')];
    const [a, b] = runs.map((run) => {
      expect(run.status).toBe(0);
      expect(run.stderr).toMatch(
        /chatsim sim: \d+ events in .* events\/s wall, \d+ per CPU-s; peak heap .*GC/,
      );
      return JSON.parse(run.stdout) as { events: number; traceHash: string; wallTimeMs: number; perf: Perf };
    });
    for (const summary of [a!, b!]) {
      const perf = summary.perf;
      expect(summary.wallTimeMs).toBeGreaterThan(0);
      expect(perf.eventsPerSecond).toBeGreaterThan(0);
      expect(perf.eventsPerCpuSecond).toBeGreaterThan(0);
      expect(perf.cpuMs).toBeGreaterThan(0);
      expect(perf.heapPeakBytes).toBeGreaterThan(1024 * 1024);
      expect(perf.rssPeakBytes).toBeGreaterThanOrEqual(perf.heapPeakBytes!);
      // What V8 held from the OS at its peak: never less than what it used at its peak.
      expect(perf.heapCommittedPeakBytes).toBeGreaterThanOrEqual(perf.heapPeakBytes!);
      expect(perf.gcCount).toBeGreaterThan(0);
      expect(perf.gcShare).toBeGreaterThanOrEqual(0);
      expect(perf.gcShare).toBeLessThan(1);
      expect(perf.gcMs! / 1000).toBeCloseTo(perf.gcShare! * (perf.wallMs! / 1000), 0);
      // The memory watch's samples, phase by phase (in-process at this size: no crossing), and the largest.
      expect(Object.keys(perf.rssByPhase)).toEqual([
        'setup',
        'warmup',
        'faults',
        'heal',
        'settle',
        'final read',
        'judging',
      ]);
      expect(perf.rssByPhase[perf.rssPeakPhase]).toBe(Math.max(...Object.values(perf.rssByPhase)));
      expect(perf.rssByPhase[perf.rssPeakPhase]).toBeLessThanOrEqual(perf.rssPeakBytes!);
    }
    expect(b!.traceHash).toBe(a!.traceHash);
    expect(b!.events).toBe(a!.events);
  });

  it('the verdict table ends with the speed line before the verdict', () => {
    const run = chatsim('sim', 'steady', ...small);
    expect(run.status).toBe(0);
    expect(run.stdout).toMatch(
      /speed: \d+ events in [\d.]+ s wall, [\d.]+ s CPU: \d+ events\/s wall, \d+ per CPU-s; peak heap [\d.]+ [MG]iB \([\d.]+ [MG]iB committed\), peak RSS [\d.]+ [MG]iB \(sampled at its largest in the (setup|warmup|faults|heal|settle|final read|judging): [\d.]+ [MG]iB\); GC [\d.]+% of the run \(\d+ collections, [\d.]+ s\)\n\nverdict: PASS/,
    );
  });
});
