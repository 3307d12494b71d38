// `chatsim capacity <scenario> --sim`: the same sweep and knee as live, each step a simulated run in
// which every node step costs the service time of a calibrated cost model (simulator/world/cost-model.ts),
// so the node saturates where the model says the real one would and the ack tail grows as its queue
// does. What a step reports as "server CPU" is the simulated node's busy share over the load; memory
// per connection is not modelled (null, shown as such).

import { LatencyHistogram } from '../bench/latency-histogram.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import type { CostModel } from '../simulator/world/cost-model.ts';
import type { StepRunner } from './capacity-sweep.ts';

export function simStep(costModel: CostModel): StepRunner {
  return async (scenario, { seed, clients }) => {
    // The latencies a live step reports, measured the same way: acks of sends issued after the
    // warm-up, from the time the workload issued them (the summary's own p99, exact to 1.6%);
    // deliveries from sequencing to display.
    const delivery = new LatencyHistogram();
    const warmupMs = scenario.phases.warmupMs;
    const summary = await runScenario(scenario, {
      seed,
      clients,
      costModel,
      recorder: {
        observe(event) {
          if (event.k === 'display' && event.via !== 'own' && event.at >= warmupMs)
            delivery.recordMs(Math.max(0, event.at - event.message.ts));
        },
        tick() {},
      },
    });
    const busy = summary.nodeLoad?.busyShare ?? [];
    return {
      summary,
      deliveryP99Ms: delivery.percentileMs(99),
      server: {
        cpuShare: busy.length === 0 ? null : busy.reduce((a, b) => a + b, 0) / busy.length,
        bytesPerConnection: null,
        connectionsPeak: clients,
      },
      target: `--sim (cost model ${costModel.name}${costModel.cpuShare === undefined ? '' : `, cpu share ${costModel.cpuShare}`})`,
    };
  };
}
