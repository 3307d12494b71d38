// What folding the history into the trace hash costs the simulator (simulator/history-trace.ts). Runs a
// seeded scenario once, keeping its history events, then replays them into a fresh TraceHash (best of a
// few rounds) and compares that CPU time with the run's own. Replaying in one process keeps the figure
// robust on a shared machine. Usage: npx tsx bench/trace-overhead.ts [scenario] [clients] [rounds]

import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../simulator/history.ts';
import { traceHistoryEvent } from '../simulator/history-trace.ts';
import { TraceHash } from '../simulator/kernel/trace-hash.ts';
import { runScenario } from '../simulator/run-scenario.ts';

const [scenarioName = 'steady', clientsArg = '10000', roundsArg = '3'] = process.argv.slice(2);
const events: HistoryEvent[] = [];
const cpuMs = (start: NodeJS.CpuUsage): number => {
  const used = process.cpuUsage(start);
  return (used.user + used.system) / 1000;
};
const runStart = process.cpuUsage();
const summary = await runScenario(loadScenario(scenarioName), {
  seed: 1,
  clients: Number(clientsArg),
  recorder: { observe: (event) => events.push(event), tick: () => {} },
});
const runMs = cpuMs(runStart);
let bestMs = Number.POSITIVE_INFINITY;
for (let round = 0; round < Number(roundsArg); round++) {
  const trace = new TraceHash();
  const start = process.cpuUsage();
  for (const event of events) traceHistoryEvent(trace, event);
  bestMs = Math.min(bestMs, cpuMs(start));
}
console.log(
  `${scenarioName} at ${clientsArg} clients: run ${(runMs / 1000).toFixed(1)} s CPU (${summary.events} sim events, ${events.length} history events); ` +
    `trace folding ${(bestMs / 1000).toFixed(2)} s CPU: ${((bestMs * 1e6) / events.length).toFixed(0)} ns per history event, ${((bestMs / runMs) * 100).toFixed(1)}% of the run`,
);
