// The real log's write-queue bound in the simulator (run-scenario.ts simulatedPendingBytesMax): a
// correct store's backlog never comes near it, and a store whose queue accounting only grows (an
// fsync's bytes added back instead of taken off: 3c0f288 seed-3 sample mutant 2505) passes it within a
// steady run and refuses every write `unavailable` with no fault open (no-spurious-unavailable).

import { describe, expect, it } from 'vitest';
import { LogStore, type LogStoreOptions } from '../reference-server/store/log-store.ts';
import type { SegmentSink } from '../reference-server/store/segment-file.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario, simulatedLog, simulatedPendingBytesMax } from './run-scenario.ts';

/** A log whose group commit counts every batch it writes as still queued, twice over, for good. */
class LeakingQueue extends LogStore {
  constructor(options: LogStoreOptions) {
    const self: { store?: LeakingQueue } = {};
    const wrap = options.policies?.wrapSink ?? ((sink: SegmentSink) => sink);
    super({
      ...options,
      policies: {
        ...options.policies,
        wrapSink: (sink) => {
          const inner = wrap(sink);
          return {
            open: (segment) => inner.open(segment),
            write: (data, position) => {
              // The flush takes these bytes off once synced: net, they stay counted as pending.
              const commit = (self.store as unknown as { commit: { pendingBytes: number } }).commit;
              commit.pendingBytes += 2 * data.length;
              return inner.write(data, position);
            },
            sync: () => inner.sync(),
            close: () => inner.close(),
          };
        },
      },
    });
    self.store = this;
  }
}

const steady = loadScenario('steady');
const failed = (summary: Awaited<ReturnType<typeof runScenario>>): string[] =>
  summary.verdicts.filter((v) => v.verdict !== 'pass').map((v) => v.property);

describe("the simulated log's write-queue bound", () => {
  it('is 1 KiB a client, 512 KiB at least, and the simulator builds its log with it', () => {
    expect(simulatedPendingBytesMax(100)).toBe(512 * 1024);
    expect(simulatedPendingBytesMax(2000)).toBe(2000 * 1024);
    expect(simulatedLog(new Set(), undefined, undefined, 2000).storeOptions.limits?.pendingBytesMax).toBe(
      2000 * 1024,
    );
  });

  it('passes the real store: its backlog never nears the bound', async () => {
    const summary = await runScenario(steady, { seed: 1, clients: 200 });
    expect(failed(summary)).toEqual([]);
    expect(summary.exitCode).toBe(0);
  }, 120_000);

  it('catches a store whose queue only grows: every write refused unavailable, no fault open', async () => {
    const summary = await runScenario(steady, {
      seed: 1,
      clients: 200,
      logStore: (options) => new LeakingQueue(options),
    });
    expect(summary.exitCode).toBe(1);
    expect(failed(summary)).toContain('no-spurious-unavailable');
  }, 120_000);
});
