// Live, every client frame reaches the core as WebSocket text (ws-transport feeds a `text` input the
// core parses and validates); the simulator hands most of them over decoded (`frame`), which skips the
// JSON. A share of simulated devices (`clients.textFraction`) speaks text, so the gate judges the live
// way in too: a core that misreads every text frame refused every live hello (mutant 245 of the sampled
// run: `decodeFrame(text)` made `validateFrame(undefined)`) and passed while no simulated client spoke
// text. The broken reading is a ChatNode subclass built in place of the shipped node.

import { describe, expect, it } from 'vitest';
import { ChatNode, type ChatNodeOptions } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { Scenario } from '../scenarios/scenario.ts';
import { type RunSummary, runScenario } from './run-scenario.ts';

/** Reads every text frame as nothing, as mutant 245 did: every hello over text is closed 4401. */
class TextMisreadNode extends ChatNode {
  override handle(input: Input, now: number): Effect[] {
    return super.handle(
      input.type === 'text' ? { type: 'frame', conn: input.conn, value: undefined } : input,
      now,
    );
  }
}

/** Whole simulations on a shared 2-core box: generous, never a wall-clock assertion. */
const simTimeoutMs = 600_000;

function withClients(scenario: Scenario, clients: Partial<Scenario['clients']>): Scenario {
  return { ...scenario, clients: { ...scenario.clients, ...clients } };
}

/**
 * churn@150 at seed 1 on the broken node as written, then with `off` (no device takes the way in the
 * node breaks): the first run's summary, and the exit code of the second.
 */
async function churnWithAndWithout(
  newNode: (options: ChatNodeOptions) => ChatNode,
  off: Partial<Scenario['clients']>,
): Promise<{ caught: RunSummary; unseenExit: number }> {
  const churn = loadScenario('churn');
  const options = { seed: 1, clients: 150, chatNode: newNode };
  const caught = await runScenario(churn, options);
  const unseen = await runScenario(withClients(churn, off), options);
  return { caught, unseenExit: unseen.exitCode };
}

describe('clients speaking text', () => {
  it(
    'fails churn when the node misreads text frames, and passes it when no device speaks text',
    async () => {
      const { caught, unseenExit } = await churnWithAndWithout((options) => new TextMisreadNode(options), {
        textFraction: 0,
      });
      expect(caught.exitCode).toBe(1);
      expect(caught.verdicts.find((v) => v.property === 'no-loss')!.verdict).toBe('fail');
      // Without text devices the same broken node is never fed text: what the gate saw before.
      expect(unseenExit).toBe(0);
    },
    simTimeoutMs,
  );

  it(
    'runs the same as decoded frames: same trace hash whether no device, half or every device speaks text',
    async () => {
      const steady = loadScenario('steady');
      const trace = async (textFraction: number) =>
        (await runScenario(withClients(steady, { textFraction }), { seed: 3, clients: 100 })).traceHash;
      const decoded = await trace(0);
      expect(await trace(0.5)).toBe(decoded);
      expect(await trace(1)).toBe(decoded);
    },
    simTimeoutMs,
  );
});

/**
 * Drops every frame that arrives between a connection's hello and its welcome, as mutant 408 of the
 * sampled run did (the queue of such frames emptied unread when the session opened). Told apart from
 * outside: a `verify` effect starts the wait, the `welcome` sent to that connection ends it.
 */
class PipelinedDroppedNode extends ChatNode {
  private readonly verifying = new Set<number>();

  override handle(input: Input, now: number): Effect[] {
    if ((input.type === 'text' || input.type === 'frame') && this.verifying.has(input.conn)) return [];
    if (input.type === 'gone') this.verifying.delete(input.conn);
    const effects = super.handle(input, now);
    for (const effect of effects)
      if (effect.type === 'verify') this.verifying.add(effect.conn);
      else if (effect.type === 'send' && effect.frame.t === 'welcome')
        for (const conn of effect.to) this.verifying.delete(conn);
    return effects;
  }
}

describe('clients pipelining syncs after the hello', () => {
  it(
    'fails churn when the node drops frames sent before the welcome, and passes it when no device pipelines',
    async () => {
      const { caught, unseenExit } = await churnWithAndWithout(
        (options) => new PipelinedDroppedNode(options),
        { pipelineFraction: 0 },
      );
      expect(caught.exitCode).toBe(1);
      const readPages = caught.verdicts.find((v) => v.property === 'read-pages')!;
      expect(readPages.verdict).toBe('fail');
      expect(JSON.stringify(readPages.witness)).toMatch(/sync of \S+ at .* gave up waiting/);
      expect(unseenExit).toBe(0);
    },
    simTimeoutMs,
  );
});
