import { describe, expect, it } from 'vitest';
import { failedVerdicts, faultRunTimeoutMs, runFault } from './fault-harness.ts';

describe('node pause', () => {
  it(
    'freezes the node (no answer of any kind) and resumes it with its backlog worked through',
    async () => {
      const run = await runFault({ type: 'node-pause', atMs: 0, durationMs: 2000, node: 0 });
      const frozen = [run.start + 50, run.heal] as const;
      expect(run.heal - run.start).toBe(2000);
      expect(run.of('ack', ...frozen)).toEqual([]);
      expect(run.of('conv-frame', ...frozen)).toEqual([]);
      expect(run.of('durable', ...frozen)).toEqual([]);
      // Sends made while it was frozen are answered soon after it resumes.
      const heldBack = run.of('send', ...frozen);
      expect(heldBack.length).toBeGreaterThan(5);
      const acked = new Map(run.of('ack').map((e) => [`${e.device}/${e.cmid}`, e.at]));
      for (const send of heldBack) {
        const at = acked.get(`${send.device}/${send.cmid}`);
        expect(at, `${send.device}/${send.cmid}`).toBeGreaterThanOrEqual(run.heal);
      }
      expect(run.of('ack', run.heal, run.heal + 500).length).toBeGreaterThan(5);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );
});
