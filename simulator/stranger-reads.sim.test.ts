// HTTP reads of a conversation that is not the reader's (malformed-reads.ts scheduleStrangerReads),
// judged by read-pages: the reference server refuses them 403 and the run passes; a server that never
// answers a refused read (mutant 1647 of the 3c0f288 sample, seed 3: every refusal looked the record up
// again, forever) fails on silence.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 150;
const simTimeoutMs = 120_000;

/** Answers no HTTP GET it refuses 403 or 404: the request stays open for good. */
class RefusalsUnanswered extends ChatNode {
  private readonly gets = new Set<number>();
  override handle(input: Input, now: number): Effect[] {
    if (input.type === 'http' && input.request.method === 'GET') this.gets.add(input.req);
    return this.withoutRefusals(super.handle(input, now));
  }
  override tick(now: number): Effect[] {
    return this.withoutRefusals(super.tick(now));
  }
  private withoutRefusals(effects: Effect[]): Effect[] {
    return effects.filter(
      (effect) =>
        !(
          effect.type === 'reply' &&
          this.gets.has(effect.req) &&
          (effect.status === 403 || effect.status === 404)
        ),
    );
  }
}

describe("HTTP reads of a conversation that is not the reader's", () => {
  it(
    'are refused 403 by the reference server, and the run passes',
    async () => {
      const asked = new Map<number, string>();
      const refused: string[] = [];
      const observe = (event: HistoryEvent): void => {
        if (event.k === 'http-read-sent') asked.set(event.id, `${event.user} ${event.conv}`);
        if (event.k === 'http-read' && event.status === 403) refused.push(asked.get(event.id)!);
      };
      const summary = await runScenario(loadScenario('memory-store'), {
        seed,
        clients,
        recorder: { observe, tick: () => {} },
      });
      const verdict = summary.verdicts.find((v) => v.property === 'read-pages')!;
      expect(verdict.verdict, verdict.details).toBe('pass');
      expect(summary.exitCode).toBe(0);
      expect(refused.length).toBeGreaterThan(0);
    },
    simTimeoutMs,
  );

  it(
    'fail a server that never answers a read it refuses (mutant 1647)',
    async () => {
      const summary = await runScenario(loadScenario('memory-store'), {
        seed,
        clients,
        chatNode: (options) => new RefusalsUnanswered(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'read-pages')!;
      expect(verdict.verdict).toBe('fail');
      expect(JSON.stringify(verdict)).toMatch(/HTTP read never answered/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
