// One of the gate's run processes (cli/gate-pool.ts forks it): runs the (scenario, seed) runs its
// parent hands it, one at a time, and answers each with the run's summary. A run is a pure function of
// its scenario, seed and options, so where it runs changes nothing in its trace or verdicts.

import type { BugName } from '../reference-server/known-bugs/bugs.ts';
import { runScenario } from '../simulator/run-scenario.ts';
import { loadOrExplain } from './sim.ts';

export type GateJob = { id: number; scenario: string; seed: number; bugs: BugName[]; clients?: number };

export type GateJobResult =
  | { id: number; summary: Awaited<ReturnType<typeof runScenario>> }
  | { id: number; error: string };

process.on('message', (job: GateJob) => {
  void (async () => {
    let answer: GateJobResult;
    try {
      const summary = await runScenario(loadOrExplain(job.scenario), {
        seed: job.seed,
        bugs: job.bugs,
        ...(job.clients ? { clients: job.clients } : {}),
      });
      answer = { id: job.id, summary };
    } catch (error) {
      answer = { id: job.id, error: error instanceof Error ? (error.stack ?? error.message) : String(error) };
    }
    // The gate may have gone while this run ran (the disconnect below then ends this process).
    if (process.connected) process.send!(answer);
  })();
});
// A gate killed or crashed takes its run processes with it: their runs are no one's now. (A gate that
// ends normally kills them itself; this is for a gate stopped by a signal, as CI stops a job.)
process.on('disconnect', () => {
  process.stderr.write('chatsim gate: the gate that started this run process is gone; stopping it\n');
  process.exit(1);
});
// Ready for work once the simulator has loaded.
process.send!({ id: -1, ready: true });
