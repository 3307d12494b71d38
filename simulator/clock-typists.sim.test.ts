// Typing across a clock set back (behaviours.ts scheduleClockTypists): churn's clock-offset sets node
// 1's clock 30 s ahead for 10 s, then back. Users on node 1 type (and send) while it is ahead, so the
// node stamps their relays ahead of its clock, and type again once typing-recipients judges reach after
// the faults. protocol.md relays the first typing of an interval; a node that keeps comparing against a
// relay stamped ahead of its clock drops every typing of that user there until its clock passes the
// stamp (3c0f288 seed-2 mutant 661). Before, few users typed twice across the step and none was judged.

import { describe, expect, it } from 'vitest';
import { ChatNode } from '../reference-server/core/chat-node.ts';
import type { Effect } from '../reference-server/core/effects.ts';
import type { Input } from '../reference-server/core/inputs.ts';
import { loadScenario } from '../scenarios/load-scenario.ts';
import type { HistoryEvent } from './history.ts';
import { runScenario } from './run-scenario.ts';

const seed = 1;
const clients = 200;
const simTimeoutMs = 300_000;
const throttleMs = 2000;

/**
 * Mutant 661's throttle: a typing on a connection whose last typing in that conversation this node
 * stamped ahead of its clock now (`now < last`, the clock set back since) is dropped until the clock is
 * a throttle interval past that stamp, instead of starting the interval over.
 */
class ThrottleAheadOfClock extends ChatNode {
  private readonly stamped = new Map<string, number>();
  override handle(input: Input, now: number): Effect[] {
    const frame = typingOf(input);
    if (frame !== null) {
      const key = `${frame.conn}\u0000${frame.conv}`;
      const last = this.stamped.get(key);
      if (last !== undefined && now < last && now - last < throttleMs) return [];
      if (last === undefined || now < last || now - last >= throttleMs) this.stamped.set(key, now);
    }
    return super.handle(input, now);
  }
}

function typingOf(input: Input): { conn: number; conv: string } | null {
  let value: unknown;
  if (input.type === 'frame') value = input.value;
  else if (input.type === 'text') {
    try {
      value = JSON.parse(input.text);
    } catch {
      return null;
    }
  } else return null;
  const frame = value as { t?: unknown; conv?: unknown } | null;
  return frame?.t === 'typing' && typeof frame.conv === 'string'
    ? { conn: input.conn, conv: frame.conv }
    : null;
}

describe('typing across a clock set back (churn)', () => {
  it(
    'users type on the offset node while its clock is ahead and again once judged, and the real server relays them',
    async () => {
      const typedAt = new Map<string, number[]>();
      const observe = (event: HistoryEvent): void => {
        if (event.k !== 'typing-sent') return;
        const key = `${event.user}\u0000${event.conv}`;
        typedAt.set(key, [...(typedAt.get(key) ?? []), event.at]);
      };
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        recorder: { observe, tick: () => {} },
      });
      expect(summary.exitCode).toBe(0);
      const verdict = summary.verdicts.find((v) => v.property === 'typing-recipients')!;
      expect(verdict.verdict).toBe('pass');
      // Typings of one user in one conversation more than 10 s apart: across the step.
      const across = [...typedAt.values()].filter((ats) => ats.at(-1)! - ats[0]! > 10_000).length;
      expect(across).toBeGreaterThanOrEqual(8);
    },
    simTimeoutMs,
  );

  it(
    'fails a server whose throttle drops typings after its clock is set back (mutant 661, seed-2 sample)',
    async () => {
      const summary = await runScenario(loadScenario('churn'), {
        seed,
        clients,
        chatNode: (options) => new ThrottleAheadOfClock(options),
      });
      const verdict = summary.verdicts.find((v) => v.property === 'typing-recipients')!;
      expect(verdict.verdict).toBe('fail');
      expect(verdict.details).toMatch(/missed/);
      expect(summary.exitCode).toBe(1);
    },
    simTimeoutMs,
  );
});
