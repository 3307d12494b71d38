// What the harness metrics cost the simulator. Runs a seeded scenario once, keeping its history
// events, then replays them into fresh RunRecorders (best of a few rounds) and compares that time with
// the run's own: the share of a run the recorder adds. Replaying in one process makes the figure
// robust on a shared machine, where two separate long runs differ by more than the recorder costs.
// Usage: npx tsx bench/recorder-overhead.ts [scenario] [clients] [rounds]
//        npx tsx bench/recorder-overhead.ts --ab [scenario] [clients] [rounds]: the run without and with
//        a recorder, CPU time each, per round (keeps no history: for runs too big to hold in memory).

import { scenarioRecorder } from '../metrics/scenario-recorder.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from '../simulator/history.ts';
import { runScenario } from '../simulator/run-scenario.ts';

const ab = process.argv[2] === '--ab';
const [scenarioName = 'steady', clientsArg = '10000', roundsArg = '3'] = process.argv.slice(ab ? 3 : 2);
const scenario = loadScenario(scenarioName);
const clients = Number(clientsArg);
if (ab) {
  const cpuOf = async (withRecorder: boolean): Promise<{ ms: number; trace: string }> => {
    const recorder = withRecorder ? scenarioRecorder(scenario, 'bench') : undefined;
    const start = process.cpuUsage();
    const summary = await runScenario(scenario, { seed: 1, clients, ...(recorder ? { recorder } : {}) });
    recorder?.finish(summary.verdicts, summary.virtualMs, summary.events);
    const used = process.cpuUsage(start);
    return { ms: (used.user + used.system) / 1000, trace: summary.traceHash };
  };
  // Rounds alternate the order (without first, then with first), so JIT warm-up and a growing heap
  // do not always favour the same side; each round prints its own pair.
  const rounds = process.argv[5] === undefined ? 1 : Number(roundsArg);
  const shares: number[] = [];
  for (let round = 0; round < rounds; round++) {
    const order = round % 2 === 0 ? [false, true] : [true, false];
    const [a, b] = [await cpuOf(order[0]!), await cpuOf(order[1]!)];
    const [without, withRecorder] = order[0] ? [b, a] : [a, b];
    if (without.trace !== withRecorder.trace) throw new Error('the recorder changed the run');
    const share = (withRecorder.ms - without.ms) / without.ms;
    shares.push(share);
    console.log(
      `${scenarioName} ${clients} clients, round ${round + 1} (${order[0] ? 'with' : 'without'} first): ${(without.ms / 1000).toFixed(1)} s CPU without a recorder, ${(withRecorder.ms / 1000).toFixed(1)} s with (${(share * 100).toFixed(1)}%), same trace ${without.trace}`,
    );
  }
  if (rounds > 1)
    console.log(
      `mean over ${rounds} rounds: ${((shares.reduce((x, y) => x + y, 0) / rounds) * 100).toFixed(1)}%`,
    );
  process.exit(0);
}
const events: HistoryEvent[] = [];
const ticks: { now: number; events: number }[] = [];
const cpuStart = process.cpuUsage();
const summary = await runScenario(scenario, {
  seed: 1,
  clients,
  recorder: { observe: (event) => events.push(event), tick: (now, n) => ticks.push({ now, events: n }) },
});
const runCpu = process.cpuUsage(cpuStart);
const runCpuMs = (runCpu.user + runCpu.system) / 1000;
let best = Number.POSITIVE_INFINITY;
for (let round = 0; round < Number(roundsArg); round++) {
  const recorder = scenarioRecorder(scenario, 'bench');
  const start = process.cpuUsage();
  let t = 0;
  for (let i = 0; i < events.length; i++) {
    recorder.observe(events[i]!);
    // Ticks interleave as in the run (one per virtual second).
    if (t < ticks.length && events[i]!.at >= ticks[t]!.now) recorder.tick(ticks[t]!.now, ticks[t++]!.events);
  }
  recorder.finish(summary.verdicts, summary.virtualMs, summary.events);
  const used = process.cpuUsage(start);
  best = Math.min(best, (used.user + used.system) / 1000);
}
console.log(
  `${scenarioName} ${clients} clients: run ${(runCpuMs / 1000).toFixed(1)} s CPU (${summary.events} sim events, ${events.length} history events); recorder ${(best / 1000).toFixed(2)} s CPU = ${((best * 1e6) / events.length).toFixed(0)} ns per history event = ${((best / runCpuMs) * 100).toFixed(1)}% of the run`,
);
