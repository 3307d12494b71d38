// Who a disk fault crashes and restarts: the process that owns the real log. Embedded, that is the
// node (a machine crash takes both); shared, the store's own process, while the nodes keep running
// and answer `unavailable` until it has recovered. Disk faults need the real log store.

import { LogStorage } from '../world/log-storage.ts';
import type { SimDisk } from '../world/sim-disk.ts';
import type { FaultContext } from './fault.ts';

export type StoreOwner = {
  storage: LogStorage;
  disk: SimDisk;
  crash(): void;
  restart(): void;
  /**
   * A failed store (fsync error, full disk) refuses everything, and one whose recovery was refused (an
   * I/O error while it replayed) stays down, until restarted: the supervisor's job once the disk heals.
   */
  restartIfFailed(): void;
};

export function storeOwner(context: FaultContext): StoreOwner {
  const { world, spec } = context;
  const storage = world.storage;
  if (!(storage instanceof LogStorage))
    throw new Error(`the ${spec.type} fault needs the real log store (topology.engine "log")`);
  const node = world.nodes[0]!;
  const embedded = world.options.storeMode === 'embedded';
  const owner: StoreOwner = {
    storage,
    disk: storage.disk,
    crash: () => (embedded ? node.crash() : storage.crash()),
    restart: () => (embedded ? node.restart() : storage.recover(() => {})),
    restartIfFailed: () => {
      if (storage.failure === null && !storage.isRefused) return;
      owner.crash();
      owner.restart();
    },
  };
  return owner;
}
