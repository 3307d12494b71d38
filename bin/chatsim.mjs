#!/usr/bin/env node
// Entry point for `npx chatsim`: loads the TypeScript CLI through tsx, so there is no build step.
// Simulations of a million clients need more heap than V8's default (about 4 GiB): `sim` and `gate`
// re-run themselves once with a heap sized to the machine (CHATSIM_HEAP_MB overrides), forwarding
// signals to that run and exiting with its code (128 + the signal's number when a signal ended it).
import { spawn } from 'node:child_process';
import { constants, totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';

const args = process.argv.slice(2);
const wantsBigHeap = args[0] === 'sim' || args[0] === 'gate';
const heapMb = Number(process.env.CHATSIM_HEAP_MB) || Math.floor((totalmem() / 1024 / 1024) * 0.75);
const heapTooSmall = getHeapStatistics().heap_size_limit < heapMb * 1024 * 1024 * 0.9;

if (wantsBigHeap && !process.env.CHATSIM_REEXEC && heapTooSmall) {
  const child = spawn(
    process.execPath,
    [
      `--max-old-space-size=${heapMb}`,
      // A larger young generation lets the many short-lived events and frames die young (about 10%
      // faster at 300k clients) instead of being promoted and marked again and again. It sizes the
      // checker thread's heap too: 32 instead of 64 held 128 MiB less at a million but collected twice
      // as often, 59 s of GC instead of 35 (docs/benchmarks.md, mem16).
      '--max-semi-space-size=64',
      // A simulation's old generation grows by at most 30% over what survived the last full collection
      // (V8 picks up to 4x on its own): `sim million` peaked at 6.76 GiB RSS instead of 7.30, no slower
      // (docs/benchmarks.md, perf7). A `node --heap-growing-percent=N bin/chatsim.mjs` of the user's wins.
      ...(args[0] === 'sim' ? ['--heap-growing-percent=30'] : []),
      ...process.execArgv,
      process.argv[1],
      ...args,
    ],
    {
      stdio: 'inherit',
      env: {
        // glibc's allocator serves a buffer of 128 KiB or more from a mapping of its own, given back when
        // the buffer is freed. By default it raises that bar to each such buffer freed (up to 32 MiB), and
        // from then on the checkers' columns (each grown by copying into a new buffer) and the history's
        // batches come from its arenas, whose freed room stays in the RSS: fixed at 128 KiB, the RSS beside
        // the two heaps and their buffers fell from ~390 to ~175 MiB at a million clients, 60-75 MB at
        // 300k (docs/benchmarks.md, session 24). A MALLOC_MMAP_THRESHOLD_ of the user's wins; other
        // allocators ignore it.
        ...(args[0] === 'sim' ? { MALLOC_MMAP_THRESHOLD_: '131072' } : {}),
        ...process.env,
        CHATSIM_REEXEC: '1',
      },
    },
  );
  // Signals meant for chatsim reach the run doing the work; this process waits for it.
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP']) process.on(signal, () => child.kill(signal));
  child.on('error', (error) => {
    process.stderr.write(`chatsim: could not start the simulation process: ${error.message}\n`);
    process.exit(1);
  });
  child.on('exit', (code, signal) => {
    // A SIGKILL nobody here sent is most likely the kernel's out-of-memory killer: say so, not a bare 137.
    if (signal === 'SIGKILL')
      process.stderr.write(
        'chatsim: the simulation process was killed (SIGKILL), most likely by the kernel for want of memory; ' +
          'it has no verdict. Run fewer clients (--clients) or give a --memory-limit <MiB> the machine can hold.\n',
      );
    process.exit(code ?? 128 + (signal ? constants.signals[signal] : 1));
  });
} else {
  // tsx only here: the process that re-runs itself with a larger heap loads no TypeScript.
  const { register } = await import('tsx/esm/api');
  register();
  const { main } = await import('../cli/main.ts');
  process.exitCode = await main(args);
}
