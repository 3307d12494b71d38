// Deliberate bugs, for proving the harness: each known-bug variant breaks one guarantee, and the gate
// must catch every one. Off unless named (`npx chatsim serve --bug NAME`, `npx chatsim sim --bug NAME`).
// None lives in the production code: core bugs are a ChatNode subclass (buggy-chat-node.ts) built in
// place of the node, store bugs a wrapper around the store (store/buggy-store.ts) and rules of the
// simulated store, log bugs policies the log store is built with (log-bugs.ts).

export const bugNames = [
  'ack-before-durable',
  'non-atomic-seq',
  'no-idempotency',
  'key-without-sender',
  'sync-skips',
  'dropped-pushes',
  'push-to-removed',
  'cursor-regression',
  'no-receipts',
  'stuck-presence',
  'stale-refusals',
  'refused-admin-changes',
  'fsync-retry',
  'recovery-truncates-segment',
  'checkpoint-rewinds-offset',
] as const;
export type BugName = (typeof bugNames)[number];

export const coreBugs: ReadonlySet<BugName> = new Set([
  'dropped-pushes',
  'push-to-removed',
  'cursor-regression',
  'no-receipts',
  'stuck-presence',
  'stale-refusals',
  'refused-admin-changes',
]);

/** Bugs that only a fleet shows: a node acting on its own view while the bus has not yet told it. */
export const fleetBugs: ReadonlySet<BugName> = new Set(['stale-refusals']);

/** Bugs in the embedded log itself (group commit, recovery, checkpoints): the real log only. */
export const logBugs: ReadonlySet<BugName> = new Set([
  'fsync-retry',
  'recovery-truncates-segment',
  'checkpoint-rewinds-offset',
]);

export const bugDescriptions: Record<BugName, string> = {
  'ack-before-durable': 'the store answers an append before it is durable (a crash loses acked messages)',
  'non-atomic-seq': 'the seq is read and written in two steps (concurrent appends share a seq)',
  'no-idempotency': 'a resent cmid creates a new message',
  'key-without-sender': 'the idempotency key is (conv, cmid), without the sender',
  'sync-skips': 'sync and resume batches leave out every seq that is a multiple of 7',
  'dropped-pushes': 'every 7th push is not sent',
  'push-to-removed': 'pushes go to removed members too',
  'cursor-regression': 'cursors may move backwards',
  'no-receipts': 'no receipt is ever sent (cursors are still stored, and welcomes carry them)',
  'stuck-presence': 'a user stays online after the last connection goes',
  'stale-refusals':
    "a fleet node refuses a member by its own view, not the store's record (a user added through another node is refused until the bus tells it)",
  'refused-admin-changes':
    'every admin membership change is answered 404 "no route" (no member can be added or removed; the admin is told nothing else)',
  'fsync-retry': 'group commit retries a failed fsync and acks (the kernel dropped the pages: fsyncgate)',
  'recovery-truncates-segment':
    'recovery cuts a torn tail at the start of the last segment, not at the torn record',
  'checkpoint-rewinds-offset':
    'a checkpoint says replay starts at its segment start: records are replayed twice',
};

export function isBugName(name: string): name is BugName {
  return (bugNames as readonly string[]).includes(name);
}
