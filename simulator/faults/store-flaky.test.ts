import { beforeAll, describe, expect, it } from 'vitest';
import {
  ackLatencies,
  type FaultRun,
  failedVerdicts,
  faultRunTimeoutMs,
  runFault,
  sharedStoreFleet,
} from './fault-harness.ts';

/** The simulated node's store timeout: a lost request is answered `unavailable` this long after. */
const storeTimeoutMs = 2000;

const slow = (latencies: number[]) => latencies.filter((ms) => ms >= storeTimeoutMs).length;

describe('store-flaky', () => {
  let control: FaultRun;
  let flaky: FaultRun;
  beforeAll(async () => {
    [control, flaky] = await Promise.all([
      runFault(null, sharedStoreFleet),
      runFault({ type: 'store-flaky', atMs: 0, durationMs: 3000, node: 1, fraction: 0.5 }, sharedStoreFleet),
    ]);
  }, faultRunTimeoutMs);

  it("loses a share of one node's store requests while it lasts: those sends wait out the node's store timeout", () => {
    const during = ackLatencies(flaky, flaky.start, flaky.heal);
    expect(during.length).toBeGreaterThan(60);
    // Node 1 holds about a third of the clients and loses half of its requests: about a sixth of the
    // sends, and far from all of them (the other nodes' requests all go through).
    expect(slow(during)).toBeGreaterThan(during.length / 12);
    expect(slow(during)).toBeLessThan(during.length / 3);
    expect(slow(ackLatencies(control, flaky.start, flaky.heal))).toBe(0);
  });

  it('is gone after the heal, and nothing is lost, duplicated or reordered', () => {
    const after = ackLatencies(flaky, flaky.heal + storeTimeoutMs, flaky.heal + 5000);
    expect(after.length).toBeGreaterThan(30);
    expect(slow(after)).toBe(0);
    expect(failedVerdicts(flaky)).toEqual([]);
  });
});
