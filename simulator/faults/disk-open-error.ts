// The store's process cannot open files for a while (EMFILE: its descriptor table full, or ENFILE, the
// system's): every open for reading fails until the heal, so history reads past the tail cache (a
// resume far behind, an HTTP page of old seqs) that need a segment the reader holds no handle on are
// refused, `unavailable`. The error is transient: once it is gone the store owes those reads again
// (protocol.md: `unavailable` only while a dependency is down). A store that kept the failed open as
// the segment's handle, or took the error as the log's failure, would go on refusing them with a
// healthy disk (74bbde3 seed 5's 3301), and its clients' retries hide it from every other check.
//
// So the fault reads history itself, as an app's history screen would, over HTTP: just before the heal,
// the oldest message of the conversation with the most (past the tail cache), which fails if its
// segment must be opened; and right after the heal, the same page again, which no fault excuses:
// no-spurious-unavailable judges its answer, read-pages its messages. Opens for writing go on
// (SimDisk.readOpenFails): a store that could not roll its segment over fails as with a full disk, and
// is restarted at the heal like one.

import type { Fault, FaultContext } from './fault.ts';
import { type StoreOwner, storeOwner } from './store-owner.ts';

/** How long before the heal the read that meets the fault is asked (it waits for a group commit). */
export const probeBeforeHealMs = 10;
/** How long after the heal the same read is asked again (after the heal's event, so none excuses it). */
export const probeAfterHealMs = 1;

export const diskOpenError: Fault = {
  type: 'disk-open-error',
  start(context) {
    const owner = storeOwner(context);
    const { world } = context;
    owner.disk.readOpenFails = context.spec.code ?? 'EMFILE';
    const probe = oldestPage(context, owner.storage);
    const durationMs = context.spec.durationMs ?? 0;
    if (probe !== null && durationMs > probeBeforeHealMs)
      world.at(world.now + durationMs - probeBeforeHealMs, probe);
    return () => {
      owner.disk.readOpenFails = null;
      owner.restartIfFailed();
      if (probe !== null) world.at(world.now + probeAfterHealMs, probe);
    };
  },
};

/**
 * An HTTP read of the oldest message of the conversation with the most messages (the first such, in the
 * store's order, chosen when first asked: asked again, the same page), by one of its current members
 * that is a client of the run; null if the run cannot read history (no HTTP reader).
 */
function oldestPage(context: FaultContext, storage: StoreOwner['storage']): (() => void) | null {
  const { world, readHistory } = context;
  if (readHistory === undefined) return null;
  const users = new Set(world.clients.flatMap((sim) => (sim.adversary ? [] : [sim.user])));
  let chosen: { conv: string; user: string; lastSeq: number } | null = null;
  return () => {
    if (chosen === null)
      for (const record of storage.decisions.records()) {
        if (chosen !== null && record.lastSeq <= chosen.lastSeq) continue;
        const user = Object.entries(record.members).find(
          ([member, spans]) => users.has(member) && spans[spans.length - 1]?.to === null,
        )?.[0];
        if (user !== undefined) chosen = { conv: record.id, user, lastSeq: record.lastSeq };
      }
    if (chosen !== null && chosen.lastSeq > 0) readHistory(chosen.conv, chosen.user, 0, 1);
  };
}
