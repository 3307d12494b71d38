// The short gate profile StrykerJS runs against each mutant (`npm run mutation`): the gate's own
// scenarios (with those only its small runs name: the memory store's) at its first fixed seed, smaller,
// judged exactly as the gate judges them. A mutant is
// killed when any run does not pass (a violated property, an SLO, a run that did not settle, a
// verdict that could not judge, or a crash). Only the gate counts: no unit test runs here, because
// the question is what the gate catches in a server it cannot see into. The first run that fails a
// property ends the profile (the mutant is killed; the rest would only cost time), so the scenarios run
// in the order CHATSIM_MUTATION_SCENARIOS lists them. A run that fails only an SLO does not end it: the
// score counts a kill by an SLO alone as a miss, so the rest still run, to see whether a property
// catches the mutant too (the seed-5 sample's 2260, killed by partition's SLO first, was caught by
// adversarial's authorization all along). stryker.config.json bundles this file (esbuild,
// into scenarios/ so the scenario files resolve) once per sandbox, after the mutants are instrumented:
// each mutant's run then starts in a fraction of tsx's second.

import { gateRunScenarios, gateSeeds } from '../cli/gate.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { judgeProfileRun } from './profile-run.ts';

/** Clients per run: small enough for hundreds of mutants on two cores, large enough for groups and churn. */
const clients = Number(process.env.CHATSIM_MUTATION_CLIENTS ?? 200);
const names: readonly string[] = process.env.CHATSIM_MUTATION_SCENARIOS?.split(',') ?? gateRunScenarios;
const unknown = names.filter((name) => !gateRunScenarios.includes(name));
if (unknown.length > 0) {
  console.error(`not gate scenarios: ${unknown.join(', ')} (use: ${gateRunScenarios.join(', ')})`);
  process.exit(2);
}

/** Runs failed by SLOs alone, printed before the property failure that ends the profile, if one does. */
const sloOnly: string[] = [];
for (const name of names) {
  const run = judgeProfileRun(name, await runScenario(loadScenario(name), { seed: gateSeeds[0]!, clients }));
  if (run.outcome === 'killed') {
    console.log([...sloOnly, run.line].join('; '));
    process.exit(1);
  }
  if (run.outcome === 'slo-only') sloOnly.push(run.line);
}
if (sloOnly.length > 0) {
  console.log(sloOnly.join('; '));
  process.exit(1);
}
process.exit(0);
