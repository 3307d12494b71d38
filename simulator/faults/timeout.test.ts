import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, leavers, runFault, unackedSends } from './fault-harness.ts';

describe('timeout (blackhole)', () => {
  it(
    'stops data on the touched links without a close: clients learn only by silence, then reconnect',
    async () => {
      const run = await runFault({ type: 'timeout', atMs: 0, fraction: 1 });
      // No close reaches anyone at the fault: the link just goes quiet.
      expect(run.of('session-lost', run.start, run.start + 500)).toEqual([]);
      // (Leavers leave at settle with the reason `client`; they are not the fault's doing.)
      const lost = run.of('session-lost', run.start).filter((e) => e.reason !== 'client');
      const firstLoss = Math.min(...lost.map((e) => e.at));
      expect(firstLoss).toBeGreaterThan(run.start + 500);
      // Nothing arrives on the dead links until the clients give up on them.
      expect(run.of('conv-frame', run.start + 50, firstLoss)).toEqual([]);
      expect(run.of('ack', run.start + 50, firstLoss)).toEqual([]);
      // Every client noticed (by silence) and came back on a new connection.
      // (Leavers may leave at settle before their silence is noticed.)
      const left = leavers(run);
      const stays = (e: { user: string }) => !left.has(e.user);
      const devices = new Set(
        run
          .of('session', 0, run.start)
          .filter(stays)
          .map((e) => e.device),
      );
      expect(new Set(lost.filter(stays).map((e) => e.device))).toEqual(devices);
      expect(lost.every((e) => e.reason === 'idle')).toBe(true);
      expect(
        new Set(
          run
            .of('session', firstLoss)
            .filter(stays)
            .map((e) => e.device),
        ),
      ).toEqual(devices);
      expect(unackedSends(run)).toEqual([]);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
