// Which faults may make a node forget what it kept in memory: one list for the checkers that excuse a
// node's memory across a restart (presence-changes), instead of guessing from fault names.

import type { FaultType } from '../../scenarios/scenario.ts';
import { drainRestart } from '../faults/rolling-restart.ts';

/**
 * Faults that may crash or restart a node's process, so that it forgets what it kept only in memory
 * (presence): the node faults, and the disk faults, whose store's machine is the node's own when the
 * store is embedded (the store-owner crashes or restarts it; a shared store's process instead).
 */
export const nodeRestartFaultTypes: ReadonlySet<string> = new Set<FaultType | typeof drainRestart>([
  'node-crash',
  'rolling-restart',
  // A rolling restart's step, node by node (rolling-restart.ts).
  drainRestart,
  'crash-during-recovery',
  'disk-torn-write',
  'disk-lost-flush',
  'disk-fsync-error',
  'disk-full',
  'disk-bitflip',
  'disk-misdirected-write',
  'disk-open-error',
]);
