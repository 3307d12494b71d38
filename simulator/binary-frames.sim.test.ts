// The adversary's binary frame (malformed-text's binary-frame): protocol.md's messages are text frames,
// so a binary one is a malformed frame, owed `bad_request`. In costed-storm it reaches a node that costs
// every step (mutant 1888 of the 3c0f288 sample classed it as no costed kind, and the cost model threw on
// it, which no adversary reached before); in adversarial a server that ignores it, or answers it with
// another code, fails authorization.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 150;
const simTimeoutMs = 300_000;

/** The reference core, counting the binary frames it is fed (all nodes of a run share the count). */
function counting(count: { binary: number }) {
  return class extends ChatNode {
    override handle(input: Input, now: number): Effect[] {
      if (input.type === 'binary') count.binary++;
      return super.handle(input, now);
    }
  };
}

/** A server that drops binary frames unanswered. */
class IgnoresBinary extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    return input.type === 'binary' ? [] : super.handle(input, now);
  }
}

/** A server that refuses binary frames with a code other than bad_request. */
class BinaryIsForbidden extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    if (input.type !== 'binary') return super.handle(input, now);
    return [{ type: 'send', to: [input.conn], frame: { t: 'err', code: 'forbidden', message: 'binary' } }];
  }
}

describe('binary frames from an adversary', () => {
  it(
    'reach the costed node in costed-storm, which answers and costs them, and the run passes',
    async () => {
      const count = { binary: 0 };
      const Node = counting(count);
      const summary = await runScenario(loadScenario('costed-storm'), {
        seed,
        clients,
        chatNode: (options) => new Node(options),
      });
      expect(count.binary).toBeGreaterThan(0);
      expect(summary.nodeLoad).toBeDefined();
      const authorization = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(authorization.verdict).toBe('pass');
      expect(summary.exitCode).toBe(0);
    },
    simTimeoutMs,
  );

  it.each([
    ['ignores them', IgnoresBinary, /answered by silence/],
    ['answers them forbidden', BinaryIsForbidden, /sent a binary frame and got `forbidden`/],
  ] as const)(
    'fails a server that %s (adversarial)',
    async (_, Node, why) => {
      const summary = await runScenario(loadScenario('adversarial'), {
        seed,
        clients,
        chatNode: (options) => new Node(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'authorization')!;
      expect(verdict.verdict).toBe('fail');
      expect(JSON.stringify(verdict)).toMatch(why);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
