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

/** Sends acked at least the store timeout after the store made them durable: their first reply was lost. */
const durableBeforeAnswer = (run: FaultRun): number => {
  const durableAt = new Map<string, number>();
  for (const event of run.of('durable'))
    durableAt.set(`${event.message.conv}:${event.message.seq}`, event.at);
  return run
    .of('ack')
    .filter((ack) => ack.at - (durableAt.get(`${ack.conv}:${ack.seq}`) ?? ack.at) >= storeTimeoutMs).length;
};

describe('store-flaky', () => {
  let control: FaultRun;
  let flaky: FaultRun;
  let replies: FaultRun;
  beforeAll(async () => {
    [control, flaky, replies] = await Promise.all([
      runFault(null, sharedStoreFleet),
      runFault({ type: 'store-flaky', atMs: 0, durationMs: 3000, node: 1, fraction: 0.5 }, sharedStoreFleet),
      runFault(
        { type: 'store-flaky', atMs: 0, durationMs: 3000, node: 1, fraction: 0, repliesFraction: 0.5 },
        sharedStoreFleet,
      ),
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

  it('with repliesFraction, loses replies after the store carried the operation out: the write was durable before its answer', () => {
    const during = ackLatencies(replies, replies.start, replies.heal);
    expect(slow(during)).toBeGreaterThan(during.length / 12);
    // Requests all arrive (fraction 0): a slow ack is a reply lost, its send stored long before.
    expect(durableBeforeAnswer(replies)).toBeGreaterThan(during.length / 12);
    expect(durableBeforeAnswer(flaky)).toBe(0);
    expect(durableBeforeAnswer(control)).toBe(0);
    expect(failedVerdicts(replies)).toEqual([]);
  });
});
