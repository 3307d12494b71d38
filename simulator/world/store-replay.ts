// The log store's two ways back after a crash must agree: the state it recovered at start-up (its
// checkpoint, then the records after it) and the state replayed from every segment with the checkpoint
// set aside, as an operator rebuilds it after deleting a damaged checkpoint (log-recovery.ts). A start-up
// that restores a conversation, a cursor or an index entry other than the log says, or a log whose older
// records no longer replay (a `members` record that no longer applies), is a store that tells its
// clients one thing while its own log says another; the final read alone never sees it, because it
// reads through the checkpoint's state. The replay reads the same files, hiding only the checkpoint.

import type { ConvId } from '../../reference-server/protocol/frames.ts';
import { checkpointFileName } from '../../reference-server/store/checkpoint.ts';
import type { FileSystem } from '../../reference-server/store/file-system.ts';
import type { StoreLimits } from '../../reference-server/store/limits.ts';
import { recoverLog } from '../../reference-server/store/log-recovery.ts';
import type { ConversationRecord } from '../../reference-server/store/message-store.ts';
import { LogCorruptError } from '../../reference-server/store/store-errors.ts';
import { StoreState } from '../../reference-server/store/store-state.ts';

/** `fs` with the checkpoint file hidden: a recovery over it replays every segment. */
function withoutCheckpoint(fs: FileSystem): FileSystem {
  const hidden = (path: string): boolean => path.endsWith(`/${checkpointFileName}`);
  return {
    ...fs,
    readFile: (path) => (hidden(path) ? Promise.resolve(null) : fs.readFile(path)),
    list: async (dir) => (await fs.list(dir)).filter((name) => name !== checkpointFileName),
  };
}

/** What a replay of every segment says: its state, or why the log did not replay. */
export type WholeReplay = { state: StoreState } | { refused: string };

/** Replays `dir`'s every segment, the checkpoint set aside. Errors other than a corrupt log propagate. */
export async function replayWholeLog(
  dir: string,
  limits: StoreLimits,
  fs: FileSystem,
  newState: () => StoreState = () => new StoreState(),
): Promise<WholeReplay> {
  try {
    return { state: (await recoverLog(dir, limits, withoutCheckpoint(fs), newState)).state };
  } catch (error) {
    if (error instanceof LogCorruptError) return { refused: error.message };
    throw error;
  }
}

/** A record with its users in one order, so two states that agree print the same. */
function canonical(record: ConversationRecord): string {
  const sorted = <T>(entries: Record<string, T>): [string, T][] =>
    Object.entries(entries).sort(([a], [b]) => (a < b ? -1 : a > b ? 1 : 0));
  return JSON.stringify({
    kind: record.kind,
    lastSeq: record.lastSeq,
    members: sorted(record.members),
    cursors: sorted(record.cursors),
  });
}

/**
 * Where `replayed` (every segment) differs from `recovered` (the store's start-up): the first
 * conversation whose record (kind, lastSeq, membership spans, cursors) or idempotency index (sender,
 * cmid and ts per seq) differs, or a conversation only one of them has; null when they agree.
 */
export function stateDifference(recovered: StoreState, replayed: StoreState): string | null {
  const mine = new Map<ConvId, ConversationRecord>(recovered.records().map((r) => [r.id, r]));
  const theirs = new Map<ConvId, ConversationRecord>(replayed.records().map((r) => [r.id, r]));
  for (const id of theirs.keys())
    if (!mine.has(id)) return `${id}: in the log's replay but not in the recovered state`;
  for (const [id, record] of mine) {
    const other = theirs.get(id);
    if (other === undefined) return `${id}: in the recovered state but not in the log's replay`;
    const a = canonical(record);
    const b = canonical(other);
    if (a !== b) return `${id}: recovered ${a}, but the log's replay says ${b}`;
    const entries = replayed.indexEntries(id, other.lastSeq);
    let seq = 0;
    for (const entry of recovered.indexEntries(id, record.lastSeq)) {
      seq++;
      const expected = entries.next();
      const same =
        !expected.done &&
        expected.value.from === entry.from &&
        expected.value.cmid === entry.cmid &&
        expected.value.ts === entry.ts;
      if (!same)
        return `${id} #${seq}: recovered index ${JSON.stringify(entry)}, but the log's replay says ${JSON.stringify(expected.value ?? null)}`;
    }
    if (seq !== record.lastSeq)
      return `${id}: the recovered index ends at #${seq}, lastSeq is ${record.lastSeq}`;
  }
  return null;
}
