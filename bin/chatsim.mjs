#!/usr/bin/env node
// Entry point for `npx chatsim`: loads the TypeScript CLI through tsx, so there is no build step.
// Simulations of a million clients need more heap than V8's default (about 4 GiB): `sim` and `gate`
// re-run themselves once with a heap sized to the machine (CHATSIM_HEAP_MB overrides).
import { spawnSync } from 'node:child_process';
import { totalmem } from 'node:os';
import { getHeapStatistics } from 'node:v8';
import { register } from 'tsx/esm/api';

const args = process.argv.slice(2);
const wantsBigHeap = args[0] === 'sim' || args[0] === 'gate';
const heapMb = Number(process.env.CHATSIM_HEAP_MB) || Math.floor((totalmem() / 1024 / 1024) * 0.75);
if (
  wantsBigHeap &&
  !process.env.CHATSIM_REEXEC &&
  getHeapStatistics().heap_size_limit < heapMb * 1024 * 1024 * 0.9
) {
  const child = spawnSync(
    process.execPath,
    // A larger young generation lets the many short-lived events and frames die young (about 10%
    // faster at 300k clients) instead of being promoted and marked again and again.
    [
      `--max-old-space-size=${heapMb}`,
      '--max-semi-space-size=64',
      ...process.execArgv,
      process.argv[1],
      ...args,
    ],
    { stdio: 'inherit', env: { ...process.env, CHATSIM_REEXEC: '1' } },
  );
  if (child.error) throw child.error;
  process.exit(child.status ?? (child.signal ? 128 + 9 : 1));
}

register();
const { main } = await import('../cli/main.ts');
process.exitCode = await main(args);
