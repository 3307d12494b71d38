// Swarm testing (Groce et al., as in FoundationDB and TigerBeetle's VOPR): each seed picks its own
// mix of fault types, times and sizes, so across seeds the gate explores combinations no hand-written
// schedule would; with `swarm.draw`, it picks workload settings too. The picks are logged in the run
// summary (`derived.faults`, `derived.workload`).

import {
  type FaultSpec,
  type FaultType,
  type Scenario,
  type SwarmKnob,
  swarmKnobs,
} from '../scenarios/scenario.ts';
import type { Prng } from './kernel/prng.ts';

export function swarmFaults(scenario: Scenario, rng: Prng): FaultSpec[] {
  const swarm = scenario.swarm;
  if (swarm === undefined || swarm.count === 0 || swarm.types.length === 0) return [];
  // Each seed enables a random non-empty subset of the allowed types.
  let enabled = swarm.types.filter(() => rng.chance(0.5));
  if (enabled.length === 0) enabled = [rng.pick(swarm.types)];
  const window = scenario.phases.faultsMs;
  const out: FaultSpec[] = [];
  for (let n = 0; n < swarm.count; n++) {
    const type: FaultType = rng.pick(enabled);
    const atMs = Math.floor(rng.float() * window * 0.8);
    const durationMs = Math.max(100, Math.floor(rng.range(0.05, 0.5) * window));
    const fraction = Math.round(rng.range(0.01, 0.5) * 100) / 100;
    const node = rng.int(scenario.topology.nodes);
    const spec: FaultSpec = { type, atMs, durationMs, fraction, node };
    if (type === 'partition') spec.target = rng.pick(['clients', 'node', 'store'] as const);
    if (type === 'latency') {
      spec.latencyMs = rng.pick([50, 200, 1000]);
      spec.jitterMs = spec.latencyMs / 2;
    }
    if (type === 'redis-latency') {
      spec.latencyMs = rng.pick([20, 100, 500]);
      spec.jitterMs = spec.latencyMs / 2;
    }
    if (type === 'bandwidth') spec.bytesPerSec = rng.pick([16_384, 65_536]);
    if (type === 'clock-offset') spec.offsetMs = rng.pick([-60_000, 5000, 3_600_000]);
    if (type === 'disk-slow') spec.slowFactor = rng.pick([5, 25, 100]);
    // A flipped bit in a segment record is detected and refused, and so unreadable for good on one
    // copy: that is a data-loss scenario of its own (disk-bitflip-segment), not a swarm pick.
    if (type === 'disk-bitflip') spec.file = 'checkpoint';
    out.push(spec);
  }
  return out.sort((a, b) => a.atMs - b.atMs);
}

/** What a swarm seed may draw for each workload setting in `swarm.draw`. */
const knobChoices = {
  'clients.syncLimit': [4, 50, 500],
  'workload.sendAfterMembershipChange': [false, true],
  'workload.httpReadsPerMin': [0, 30, 120],
} as const satisfies Record<SwarmKnob, readonly (number | boolean)[]>;

/**
 * The scenario with this seed's draw of each workload setting `swarm.draw` names (the scenario's own
 * value otherwise), and the draws, for the run summary. Its own stream: drawing them leaves a seed's
 * faults as they were.
 */
export function swarmWorkload(
  scenario: Scenario,
  rng: Prng,
): { scenario: Scenario; drawn: Partial<Record<SwarmKnob, number | boolean>> } {
  const draw = scenario.swarm?.draw ?? [];
  if (draw.length === 0) return { scenario, drawn: {} };
  const drawn: Partial<Record<SwarmKnob, number | boolean>> = {};
  for (const knob of swarmKnobs)
    if (draw.includes(knob)) drawn[knob] = rng.pick<number | boolean>(knobChoices[knob]);
  const clients = { ...scenario.clients };
  const workload = { ...scenario.workload };
  if (drawn['clients.syncLimit'] !== undefined) clients.syncLimit = drawn['clients.syncLimit'] as number;
  if (drawn['workload.sendAfterMembershipChange'] !== undefined)
    workload.sendAfterMembershipChange = drawn['workload.sendAfterMembershipChange'] as boolean;
  if (drawn['workload.httpReadsPerMin'] !== undefined)
    workload.httpReadsPerMin = drawn['workload.httpReadsPerMin'] as number;
  return {
    scenario: Object.freeze({
      ...scenario,
      clients: Object.freeze(clients),
      workload: Object.freeze(workload),
    }),
    drawn,
  };
}
