// What the harness metrics cost the simulator: the same seeded run with and without a RunRecorder,
// alternated so machine noise hits both alike. Prints wall time per run and the overhead.
// Usage: npx tsx bench/recorder-overhead.ts [scenario] [clients] [rounds]

import { scenarioRecorder } from '../metrics/scenario-recorder.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';

const [scenarioName = 'steady', clientsArg = '100000', roundsArg = '2'] = process.argv.slice(2);
const scenario = loadScenario(scenarioName);
const clients = Number(clientsArg);
const rounds = Number(roundsArg);
const walls: { with: number[]; without: number[] } = { with: [], without: [] };
let trace = '';
for (let round = 0; round < rounds; round++) {
  for (const withRecorder of round % 2 === 0 ? [false, true] : [true, false]) {
    const recorder = withRecorder ? scenarioRecorder(scenario, 'bench') : undefined;
    const started = performance.now();
    const summary = runScenario(scenario, { seed: 1, clients, ...(recorder ? { recorder } : {}) });
    recorder?.finish(summary.verdicts, summary.virtualMs, summary.events);
    const wallMs = performance.now() - started;
    if (trace !== '' && summary.traceHash !== trace) throw new Error('the recorder changed the run');
    trace = summary.traceHash;
    (withRecorder ? walls.with : walls.without).push(wallMs);
    console.log(
      `${withRecorder ? 'with   ' : 'without'} recorder: ${(wallMs / 1000).toFixed(1)} s (${summary.events} events, trace ${summary.traceHash})`,
    );
  }
}
const best = (xs: number[]) => Math.min(...xs);
console.log(
  `${scenarioName} ${clients} clients: best without ${(best(walls.without) / 1000).toFixed(1)} s, with ${(best(walls.with) / 1000).toFixed(1)} s, overhead ${(((best(walls.with) - best(walls.without)) / best(walls.without)) * 100).toFixed(1)}%`,
);
