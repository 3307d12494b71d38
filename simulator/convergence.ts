// When has a run settled, and what does the harness know at the end? Settled: every honest client is
// connected, has nothing left to send (nor a send made again awaiting its answer), has its watches answered, and displays every message the store says it may read (the
// simulator's shortcut to decide when to stop waiting; no verdict rests on it: no-loss judges against
// the harness's own membership oracle). The final read is the store's messages after the run (on the
// real log: after one more crash and recovery): a claim the checkers cross-check.

import type { FinalSnapshot } from './checker-thread.ts';
import type { FinalClients } from './final-clients.ts';
import type { DeviceRef, FinalState } from './history.ts';
import type { FinalStore } from './world/storage.ts';
import type { World } from './world/world.ts';

export function converged(world: World, settleAt: number): boolean {
  const state = world.decisions;
  for (let i = 0; i < world.clients.length; i++) {
    const sim = world.clients[i]!;
    // An adversary's attempts from before the settle phase need their outcome (an answer, a close, or
    // the next welcome for cursors) before authorization can judge them: the run waits for it.
    if (sim.adversary && sim.client.attemptsPendingBefore(settleAt) > 0) return false;
    if (sim.adversary || sim.left) continue;
    const client = sim.client;
    if (!world.isConnected(i) || client.connectionState !== 'open' || client.outboxSize > 0) return false;
    // A send made again after its ack waits for its ack, or for its retries to give up (judged then).
    if (client.resendPending) return false;
    // A watcher that reconnected must hear the state of whom it watches before its views are judged.
    if (client.watchesUnanswered > 0) return false;
    for (const conv of sim.convs) {
      const spans = state.spansOf(conv, sim.user);
      const last = spans?.[spans.length - 1];
      if (last === undefined) continue;
      const lastSeq = state.lastSeq(conv) ?? 0;
      const end = last.to === null ? lastSeq : Math.min(last.to, lastSeq);
      if (end >= last.from && client.displayedUpTo(conv) < end) return false;
    }
  }
  return true;
}

/** What the harness knows at the end; `conversations` are those it created. */
export function finalState(
  world: World,
  store: FinalStore,
  settledAt: number | null,
  conversations: readonly string[],
): FinalState {
  const { online, devices } = finalClients(world);
  return {
    at: world.now,
    devices,
    conversations: () => conversations,
    storedMessage: (conv, seq) => store.messageAt(conv, seq),
    storedLastSeq: (conv) => store.lastSeq(conv),
    online: (user) => online.has(user),
    settledAt,
    ...(store.replayCheck ? { storeReplay: store.replayCheck } : {}),
  };
}

/** The same as data, for checkers on another thread (checker-thread.ts): the store read as it crosses. */
export function finalSnapshot(
  world: World,
  store: FinalStore,
  settledAt: number | null,
  conversations: readonly string[],
): FinalSnapshot {
  return {
    at: world.now,
    clients: finalClientNumbers(world),
    conversations: [...conversations],
    // Ids only: records() deep-copies every conversation (at a million clients 100,000 of them, each
    // with its members' spans, all alive at once at the run's end, when memory peaks). The messages are
    // read from the store as they cross (checker-thread.ts).
    stored: { convs: store.state.heads().map((head) => head.id), store },
    settledAt,
    ...(store.replayCheck ? { storeReplay: store.replayCheck } : {}),
  };
}

/** Who took part to the end and who is online, by client number, with every client's names. */
function finalClientNumbers(world: World): FinalClients {
  const count = world.clients.length;
  const devices = new Int32Array(count);
  const online = new Int32Array(count);
  const names: string[] = [];
  let devicesAt = 0;
  let onlineAt = 0;
  for (let i = 0; i < count; i++) {
    const sim = world.clients[i]!;
    names.push(sim.user, sim.device);
    if (world.isConnected(i)) online[onlineAt++] = i;
    if (!sim.adversary && !sim.left) devices[devicesAt++] = i;
  }
  return { devices: devices.slice(0, devicesAt), online: online.slice(0, onlineAt), names };
}

/** Users with a live connection at the end, and every device that took part to the end. */
function finalClients(world: World): { online: Set<string>; devices: DeviceRef[] } {
  const online = new Set<string>();
  const devices: DeviceRef[] = [];
  for (let i = 0; i < world.clients.length; i++) {
    const sim = world.clients[i]!;
    if (world.isConnected(i)) online.add(sim.user);
    if (!sim.adversary && !sim.left) devices.push({ user: sim.user, device: sim.device });
  }
  return { online, devices };
}
