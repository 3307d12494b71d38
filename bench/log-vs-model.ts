// Gate seeds per minute on the real log store (simulated disk) against the model store: the same
// swarm seeds run once per engine, one after the other, and the figure is seeds / wall minutes of
// each. Usage: npx tsx bench/log-vs-model.ts [seeds] [scenario]

import { loadScenario } from '../scenarios/load-scenario.ts';
import { validateScenario } from '../scenarios/scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';

const seeds = Number(process.argv[2] ?? '6');
const name = process.argv[3] ?? 'swarm';
const base = loadScenario(name);
for (const engine of ['log', 'model'] as const) {
  // The model store takes no disk faults: its swarm draws from the other types.
  const value = structuredClone(base) as unknown as Record<string, unknown> & typeof base;
  value.topology = { ...base.topology, engine };
  if (engine === 'model' && value.swarm !== undefined)
    value.swarm = {
      ...value.swarm,
      types: value.swarm.types.filter(
        (type) => !type.startsWith('disk-') && type !== 'crash-during-recovery',
      ),
    };
  const scenario = validateScenario(value, `${name} (${engine})`, name);
  const started = performance.now();
  let failed = 0;
  let events = 0;
  for (let seed = 1; seed <= seeds; seed++) {
    const summary = await runScenario(scenario, { seed });
    events += summary.events;
    if (summary.exitCode !== 0) failed++;
  }
  const minutes = (performance.now() - started) / 60_000;
  console.log(
    `${name} on the ${engine} store: ${seeds} seeds in ${(minutes * 60).toFixed(1)} s = ${(seeds / minutes).toFixed(1)} seeds/min (${events} events, ${failed} failed)`,
  );
}
