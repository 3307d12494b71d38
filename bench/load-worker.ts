// Entry point of a load-generator process, forked by the bench parent: receives its plan over IPC,
// opens its connections, reports ready, runs on `start`, sends its report and exits. A worker never
// outlives its parent: losing the IPC channel ends it.

import type { FromWorker, ToWorker } from './load-plan.ts';
import { LoadRun } from './load-run.ts';

let run: LoadRun | null = null;

function tell(message: FromWorker): Promise<void> {
  return new Promise((resolve) => {
    if (!process.send) return resolve();
    process.send(message, () => resolve());
  });
}

async function fail(error: unknown): Promise<never> {
  await tell({ type: 'failed', message: error instanceof Error ? error.message : String(error) });
  process.exit(1);
}

process.on('message', (message: ToWorker) => {
  if (message.type === 'plan' && run === null) {
    run = new LoadRun(message.plan);
    run.connect().then((connections) => tell({ type: 'ready', connections }), fail);
  } else if (message.type === 'start' && run !== null) {
    run
      .run()
      .then((report) => tell({ type: 'report', report }))
      .then(() => process.exit(0), fail);
  } else {
    void fail(new Error(`unexpected ${message.type} message`));
  }
});
process.on('disconnect', () => process.exit(0));
