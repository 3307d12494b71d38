// `npm run bench:server`: how far the chatsim server is from what bare `ws` does on this machine.
// Runs each phase in turn (one server process and its load processes at a time, so they do not
// compete for the 2 cores), prints the figures side by side with the issue's target ratios, and
// always ends by itself: a watchdog bounds the run and every child is killed on exit or error.

import { pathToFileURL } from 'node:url';
import { BenchOptionsError, benchUsage, type PhaseName, parseBenchOptions } from './bench-options.ts';
import { runChatPhase } from './chatsim-phase.ts';
import { ChildGroup } from './child-group.ts';
import { benchLimits } from './limits.ts';
import type { PhaseFigures } from './load-phase.ts';
import { runRawPhase } from './raw-phase.ts';
import { type BenchReport, formatReport, machine, type PhaseResults, ratiosOf } from './report-table.ts';

const phaseRunners: Record<
  PhaseName,
  (group: ChildGroup, options: BenchReport['options']) => Promise<PhaseFigures>
> = {
  'raw-echo': (group, options) => runRawPhase(group, 'echo', options),
  'raw-broadcast': (group, options) => runRawPhase(group, 'broadcast', options),
  'chat-direct': (group, options) => runChatPhase(group, 'direct', options),
  'chat-group': (group, options) => runChatPhase(group, 'group', options),
};

export async function serverBench(argv: readonly string[]): Promise<number> {
  let options: BenchReport['options'];
  try {
    options = parseBenchOptions(argv);
  } catch (error) {
    if (!(error instanceof BenchOptionsError)) throw error;
    console.error(`${error.code}: ${error.message}`);
    return 2;
  }
  if (options.help) {
    console.log(benchUsage);
    return 0;
  }
  const group = new ChildGroup();
  const stopOnSignal = (signal: NodeJS.Signals) => {
    console.error(`bench: ${signal}, stopping children`);
    void group.close().finally(() => process.exit(130));
  };
  process.once('SIGINT', stopOnSignal);
  process.once('SIGTERM', stopOnSignal);
  const budgetMs = options.phases.length * (options.seconds * 1000 + benchLimits.phaseOverheadMsMax);
  const watchdog = setTimeout(() => {
    console.error(`bench: still running after ${budgetMs} ms, giving up`);
    void group.close().finally(() => process.exit(1));
  }, budgetMs);
  try {
    const phases: PhaseResults = {};
    for (const name of options.phases) {
      console.error(`bench: ${name}, ${options.seconds} s...`);
      phases[name] = await phaseRunners[name](group, options);
    }
    const report: BenchReport = {
      date: new Date().toISOString(),
      machine: machine(),
      options,
      serverProcesses: 1,
      phases,
      ratios: ratiosOf(phases),
    };
    console.log(options.json ? JSON.stringify(report, null, 2) : formatReport(report));
    return 0;
  } catch (error) {
    const code = (error as { code?: unknown }).code;
    console.error(`bench failed${typeof code === 'string' ? ` (${code})` : ''}: ${(error as Error).message}`);
    return 1;
  } finally {
    clearTimeout(watchdog);
    process.off('SIGINT', stopOnSignal);
    process.off('SIGTERM', stopOnSignal);
    await group.close();
  }
}

if (process.argv[1] !== undefined && import.meta.url === pathToFileURL(process.argv[1]).href) {
  process.exitCode = await serverBench(process.argv.slice(2));
}
