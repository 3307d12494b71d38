import { beforeAll, describe, expect, it } from 'vitest';
import type { FileSystem, StoreFile } from '../../reference-server/store/file-system.ts';
import { LogStore } from '../../reference-server/store/log-store.ts';
import type { HistoryEvent } from '../history.ts';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

const fault = { type: 'disk-open-error', atMs: 4000, durationMs: 100 };
/**
 * Large bodies, so the log spans more segment files than the reader keeps open (readFilesMax): the
 * oldest message's segment must be opened again.
 */
const world = { clients: { count: 60 }, workload: { largeBodyShare: 0.5 } };

/** The fault's own HTTP reads (the run has no other HTTP readers): each asked with its answer's status. */
function probes(run: FaultRun): { at: number; status: number | undefined }[] {
  const answers = new Map(run.of('http-read').map((e) => [e.id, e.status]));
  return run.of('http-read-sent').map((e) => ({ at: e.at, status: answers.get(e.id) }));
}

/**
 * A store whose files keep an open that failed: every later open of that path for reading fails the
 * same way (what a segment reader that caches the failed open's promise does, 74bbde3 seed 5's 3301).
 */
function stickyFailedOpens(fs: FileSystem): FileSystem {
  const failed = new Map<string, Promise<StoreFile>>();
  return {
    ...fs,
    open: (path, mode) => {
      if (mode !== 'read') return fs.open(path, mode);
      const kept = failed.get(path);
      if (kept !== undefined) return kept;
      const opened = fs.open(path, mode);
      opened.catch(() => failed.set(path, opened));
      return opened;
    },
  };
}

describe('disk-open-error', () => {
  let run: FaultRun;
  beforeAll(async () => {
    run = await runFault(fault, world);
  }, faultRunTimeoutMs);

  it('fails the read that needs a segment opened while it lasts, and serves it again after the heal', () => {
    expect(run.summary.storage!.disk.openErrors).toBeGreaterThanOrEqual(1);
    const [during, after] = probes(run);
    expect(during!.at).toBeLessThan(run.heal);
    expect(during!.status).toBe(503);
    expect(after!.at).toBeGreaterThan(run.heal);
    expect(after!.status).toBe(200);
    const page = run
      .of('http-read')
      .find((e): e is Extract<HistoryEvent, { k: 'http-read' }> => e.status === 200);
    expect(page?.seqs).toEqual([1]);
    expect(failedVerdicts(run)).toEqual([]);
  });

  it(
    'fails no-spurious-unavailable on a store that keeps refusing a segment whose open once failed',
    async () => {
      const deviant = await runFault(fault, world, 1, {
        logStore: (options) => new LogStore({ ...options, fs: stickyFailedOpens(options.fs!) }),
      });
      expect(probes(deviant).map((p) => p.status)).toEqual([503, 503]);
      expect(failedVerdicts(deviant).join('\n')).toMatch(
        /no-spurious-unavailable: .*\b1 HTTP reads answered/,
      );
    },
    faultRunTimeoutMs,
  );
});
