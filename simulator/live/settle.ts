// The settle phase of a live run: ask the generators until every device is connected with nothing
// unacked and nothing behind, read the servers (the final read) at the first quiet answer, and call the
// run settled when the next answer is still quiet. The read is what durable-ack, no-loss, agreement and
// gap-free-store judge against, so it must come after every ack the history holds:
// - settled: nothing was unacked when it began, and settle makes no new sends;
// - not settled by the deadline: clients are still reconnecting and flushing their outboxes, so a read
//   taken now could miss a send acked a moment later (a false durable-ack red: crash-restart at load 20,
//   an ack at 54.96 s to a send appended at 54.7 s, the conversation read just before). Any read taken at
//   an earlier quiet moment is stale for the same reason. The generators are stopped first, then the
//   servers are read.

import type { ShardStatus } from './generator-messages.ts';

export type SettleSteps<Read> = {
  /** The run clock, and when settle must end. */
  now(): number;
  endMs: number;
  /** Waits between two status questions (rejects when the run fails). */
  pause(): Promise<void>;
  /** Asks every generator; `read` is the final read taken so far, if any (its lastSeqs judge "behind"). */
  status(read: Read | null): Promise<ShardStatus[]>;
  /** The final read of the servers. */
  read(): Promise<Read>;
  /** A read that turned out stale: released, never judged. */
  discard(read: Read): void;
  /** Stops the generators (no ack can be recorded after it); called only when the run did not settle. */
  stopGenerators(): Promise<void>;
};

export type Settled<Read> = {
  settledAt: number | null;
  read: Read;
  /** The last status answer (to say what was not quiet). */
  lastStatus: ShardStatus[];
  /** Whether `stopGenerators` was called. */
  stopped: boolean;
};

export function quiet(status: readonly ShardStatus[]): boolean {
  return status.every((s) => s.open === s.devices && s.outbox === 0 && s.behind === 0);
}

export async function settle<Read>(steps: SettleSteps<Read>): Promise<Settled<Read>> {
  let read: Read | null = null;
  let lastStatus: ShardStatus[] = [];
  while (steps.now() < steps.endMs) {
    await steps.pause();
    lastStatus = await steps.status(read);
    if (!quiet(lastStatus)) continue;
    if (read === null) {
      read = await steps.read();
      continue;
    }
    return { settledAt: steps.now(), read, lastStatus, stopped: false };
  }
  if (read !== null) steps.discard(read);
  await steps.stopGenerators();
  return { settledAt: null, read: await steps.read(), lastStatus, stopped: true };
}
