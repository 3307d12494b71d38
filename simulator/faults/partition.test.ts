import { describe, expect, it } from 'vitest';
import { type FaultRun, failedVerdicts, faultRunTimeoutMs, runFault, unackedSends } from './fault-harness.ts';

/** Frames already on the wire when the cut comes still land (one link latency plus jitter). */
const inFlightMs = 50;

describe('partition', () => {
  it(
    'clients: nothing crosses the cut while it lasts, everything arrives after the heal',
    async () => {
      const run = await runFault({
        type: 'partition',
        atMs: 0,
        durationMs: 3000,
        target: 'clients',
        fraction: 1,
      });
      const cut = [run.start + inFlightMs, run.heal] as const;
      expect(run.heal - run.start).toBe(3000);
      expect(run.of('ack', ...cut)).toEqual([]);
      expect(run.of('display', ...cut).filter((e) => e.via !== 'own')).toEqual([]);
      expect(run.of('conv-frame', ...cut)).toEqual([]);
      // Sends made during the cut wait in outboxes and are acked after the heal; nothing is lost.
      const sentDuring = run.of('send', ...cut).length;
      expect(sentDuring).toBeGreaterThan(5);
      expect(run.of('ack', run.heal).length).toBeGreaterThanOrEqual(sentDuring);
      expect(unackedSends(run)).toEqual([]);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'clients: the control run without it acks and delivers in that window',
    async () => {
      const run = await runFault(null);
      const window = [2000 + inFlightMs, 5000] as const;
      expect(run.of('ack', ...window).length).toBeGreaterThan(5);
      expect(run.of('conv-frame', ...window).length).toBeGreaterThan(5);
    },
    faultRunTimeoutMs,
  );

  it(
    'clients: cuts only the named share',
    async () => {
      const run = await runFault(
        { type: 'partition', atMs: 0, durationMs: 3000, fraction: 0.5 },
        { clients: { count: 200 } },
      );
      const cut = [run.start + inFlightMs, run.heal] as const;
      const devices = new Set(run.of('session', 0, run.start).map((e) => e.device));
      const heard = new Set(run.of('conv-frame', ...cut).map((e) => e.device));
      const share = 1 - heard.size / devices.size;
      // Devices that heard nothing in 3 s: the cut half (a few uncut ones may simply have had no traffic).
      expect(share).toBeGreaterThan(0.4);
      expect(share).toBeLessThan(0.7);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'node: no frame from the cut node reaches a client until the heal',
    async () => {
      const run = await runFault(
        { type: 'partition', atMs: 0, durationMs: 3000, target: 'node', node: 1 },
        { topology: { nodes: 2 } },
      );
      const cut = [run.start + inFlightMs, run.heal] as const;
      expect(run.of('conv-frame', 0, run.start).filter((e) => e.node === 'n2').length).toBeGreaterThan(5);
      expect(run.of('conv-frame', ...cut).filter((e) => e.node === 'n2')).toEqual([]);
      expect(run.of('conv-frame', ...cut).filter((e) => e.node === 'n1').length).toBeGreaterThan(5);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    'store: the cut node makes nothing durable and acks nothing until the heal',
    async () => {
      const run = await runFault({ type: 'partition', atMs: 0, durationMs: 3000, target: 'store', node: 0 });
      const cut = [run.start + inFlightMs, run.heal] as const;
      expect(run.of('durable', ...cut)).toEqual([]);
      expect(run.of('ack', ...cut)).toEqual([]);
      expect(run.of('send', ...cut).length).toBeGreaterThan(5);
      expect(run.summary.messages.acked).toBe(run.summary.messages.sent);
      expect(failedVerdicts(run)).toEqual([]);
    },
    faultRunTimeoutMs,
  );

  it(
    "bus: the cut node acks on (its store is reachable), and the nodes push each other's seqs late",
    async () => {
      const cut = { type: 'partition', atMs: 0, durationMs: 3000, target: 'bus', node: 0 };
      const run = await runFault(cut, busFleet);
      const window = [run.start, run.heal] as const;
      // Unlike a cut from the store, the cut node's clients are acked throughout.
      const acked = run.of('ack', ...window).length;
      expect(acked).toBeGreaterThan(20);
      const late = latePushes(run, run.start, run.heal);
      // A seq sequenced on one node reaches the other's devices by a gap fill from the store (after
      // the gap grace) or with the kept events at the heal, not by the bus within milliseconds.
      expect(late.seqs).toBeGreaterThan(10);
      expect(late.late / late.seqs).toBeGreaterThan(0.8);
      expect(run.summary.messages.acked).toBe(run.summary.messages.sent);
      expect(failedVerdicts(run)).toEqual([]);
      // The control: the same window without the cut, every seq at both nodes within the bus latency.
      const control = await runFault(null, busFleet);
      const calm = latePushes(control, run.start, run.heal);
      expect(calm.seqs).toBeGreaterThan(10);
      expect(calm.late).toBe(0);
    },
    faultRunTimeoutMs,
  );
});

/** Two nodes whose bus is Redis pub/sub (it keeps nothing for a node cut from it). */
const busFleet = { topology: { nodes: 2, busLossOnDisconnect: true } };

/**
 * Seqs acked in [from, to) that both nodes pushed, and how many of them the later node pushed 150 ms
 * or more after the ack (the gap grace is 200 ms; the bus takes milliseconds).
 */
function latePushes(run: FaultRun, from: number, to: number): { seqs: number; late: number } {
  const firstPush = new Map<string, Map<string, number>>();
  for (const frame of run.of('conv-frame', from))
    if (frame.t === 'msg' && frame.node !== undefined)
      for (const seq of frame.seqs ?? []) {
        const key = `${frame.conv} ${seq}`;
        const byNode = firstPush.get(key) ?? new Map<string, number>();
        if (!byNode.has(frame.node)) byNode.set(frame.node, frame.at);
        firstPush.set(key, byNode);
      }
  let seqs = 0;
  let late = 0;
  for (const ack of run.of('ack', from, to)) {
    const byNode = firstPush.get(`${ack.conv} ${ack.seq}`);
    if (byNode === undefined || byNode.size < 2) continue;
    seqs++;
    if (Math.max(...byNode.values()) - ack.at >= 150) late++;
  }
  return { seqs, late };
}
