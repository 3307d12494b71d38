// Entry point of a generator process, forked by the live driver: receives its plan over IPC, runs its
// shard of virtual clients on real sockets, streams history events back, answers status queries, and
// sends its report at `finish`, then closes its sockets and exits at `close` (once every generator has
// stopped: generator-pool.ts). A generator never outlives its driver: losing the IPC channel ends it.

import type { FromGenerator, ToGenerator } from './generator-messages.ts';
import { LiveShard } from './live-shard.ts';

let shard: LiveShard | null = null;

function tell(message: FromGenerator): void {
  process.send?.(message);
}

process.on('message', (message: ToGenerator) => {
  try {
    switch (message.type) {
      case 'plan':
        shard = new LiveShard(message.plan, tell);
        tell({ type: 'ready' });
        return;
      case 'start':
        return shard?.start(message.originEpochMs);
      case 'settle':
        return shard?.settle();
      case 'members':
        return shard?.members(message.conv, message.add, message.remove);
      case 'follow':
        return shard?.follow(message.conv, message.users, message.prefer, message.n);
      case 'drop':
        return shard?.drop(message.fraction, message.fault, message.reset === true);
      case 'status':
        if (shard)
          tell({ type: 'status', id: message.id, status: shard.status(message.lastSeq, message.spans) });
        return;
      case 'finish':
        // Stops recording and reports; its sockets stay open until every generator has stopped.
        if (shard) tell(shard.finish());
        return;
      case 'close':
        shard?.close();
        process.exit(0);
        return;
    }
  } catch (error) {
    tell({
      type: 'failed',
      message: error instanceof Error ? (error.stack ?? error.message) : String(error),
    });
  }
});
process.on('disconnect', () => process.exit(0));
