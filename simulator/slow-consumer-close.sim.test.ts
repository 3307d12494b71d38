// A slow consumer is closed 4509 (protocol.md), judged by server-frames from the simulated network's
// own view of each connection's send buffer (`send-buffer` events), never from the node's counters. A
// node that ignores backpressure (mutant 474 of the 3c0f288 sample: its slow consumers just lagged and
// caught up) must fail large-group, whose slow-consumer fault pushes buffers past its 8 KiB bound at
// the gate's size. The broken node is a ChatNode subclass, not a branch in production code.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

/** Never closes a slow consumer: every backpressure input is dropped. */
class IgnoresBackpressure extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    return input.type === 'backpressure' ? [] : super.handle(input, now);
  }
}

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 600_000;

describe('a slow consumer closed 4509', () => {
  it(
    'is owed by a node whose send buffer passed its bound: one that never closes fails server-frames',
    async () => {
      const summary = await runScenario(loadScenario('large-group'), {
        seed: 1,
        chatNode: (options) => new IgnoresBackpressure(options),
      });
      const frames = summary.verdicts.find((v) => v.property === 'server-frames')!;
      expect(frames.verdict).toBe('fail');
      expect(frames.details).toMatch(/slow consumer not closed 4509/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );

  it(
    'is owed only past the bound: a node whose default bound is 4 bytes fails churn, whose links are limited under 4 MiB',
    async () => {
      // Mutant 1913 of the 3c0f288 sample (seed 3): the same node, built with a 4-byte default bound.
      const summary = await runScenario(loadScenario('churn'), {
        seed: 1,
        clients: 200,
        chatNode: (options) =>
          new ChatNode({
            ...options,
            limits: { ...options.limits, sendBufferBytesMax: options.limits?.sendBufferBytesMax ?? 4 },
          }),
      });
      const frames = summary.verdicts.find((v) => v.property === 'server-frames')!;
      expect(frames.verdict).toBe('fail');
      expect(frames.details).toMatch(/closed 4509 under the bound/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
