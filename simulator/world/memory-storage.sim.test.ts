// The memory engine (topology.engine "memory"): the real MemoryStore in the node's process, as
// `serve --store memory` runs it. What it promises, it is judged by: a known store bug wrapped around it
// is caught, a node crash that empties it fails the run, and a bug it cannot carry is refused, never
// run green without it.

import { describe, expect, it } from 'vitest';
import { MemoryStore } from '../../reference-server/store/memory-store.ts';
import type { AppendRequest, AppendResult } from '../../reference-server/store/message-store.ts';
import { loadScenario } from '../../scenarios/load-scenario.ts';
import { runScenario } from '../run-scenario.ts';

const failed = (summary: Awaited<ReturnType<typeof runScenario>>): string[] =>
  summary.verdicts.filter((v) => v.verdict !== 'pass').map((v) => v.property);

describe('the memory store in the simulator', () => {
  const scenario = loadScenario('memory-store');

  it('passes memory-store as written, and catches a known bug wrapped around the store', async () => {
    expect(scenario.topology.engine).toBe('memory');
    const clean = await runScenario(scenario, { seed: 1, clients: 100 });
    expect(failed(clean)).toEqual([]);
    expect(clean.exitCode).toBe(0);
    const skipping = await runScenario(scenario, { seed: 1, clients: 100, bugs: ['sync-skips'] });
    expect(skipping.exitCode).toBe(1);
    expect(failed(skipping)).toContain('read-pages');
  }, 120_000);

  it('meets resent cmids: a store whose reads go wrong after a duplicate is caught', async () => {
    // A deviant MemoryStore: a resend of an acknowledged cmid is answered with its seq, as it should be,
    // but its message is also kept in the conversation's list, so every later seq's slot holds the
    // wrong message. Only resends show it: the scenario's storm drops acks in flight.
    const append = MemoryStore.prototype.append;
    type Deviant = { messagesOf(conv: string): unknown[] };
    MemoryStore.prototype.append = async function (
      this: MemoryStore,
      request: AppendRequest,
    ): Promise<AppendResult> {
      const result = await append.call(this, request);
      if (result.status === 'ok' && result.duplicate) {
        const { conv, from, cmid, body } = request;
        (this as unknown as Deviant)
          .messagesOf(conv)
          .push({ conv, seq: result.seq, from, cmid, body, ts: result.ts });
      }
      return result;
    };
    try {
      const summary = await runScenario(scenario, { seed: 1, clients: 100 });
      expect(summary.exitCode).toBe(1);
      expect(failed(summary)).toContain('agreement');
    } finally {
      MemoryStore.prototype.append = append;
    }
    const giving = await runScenario(scenario, { seed: 1, clients: 100, bugs: ['no-idempotency'] });
    expect(giving.exitCode).toBe(1);
    expect(failed(giving)).toContain('idempotency');
  }, 120_000);

  it('keeps nothing across a node crash: the run is judged for what the crash took', async () => {
    const crashing = {
      ...scenario,
      faults: [{ type: 'node-crash' as const, atMs: 5000, durationMs: 1000, node: 0, description: '' }],
    };
    const summary = await runScenario(crashing, { seed: 1, clients: 100 });
    expect(summary.exitCode).toBe(1);
    expect(failed(summary)).toContain('durable-ack');
  }, 120_000);

  it('refuses a bug the memory store cannot carry', async () => {
    await expect(
      runScenario(scenario, { seed: 1, clients: 40, bugs: ['ack-before-durable'] }),
    ).rejects.toThrow(/cannot carry --bug ack-before-durable/);
  });
});
