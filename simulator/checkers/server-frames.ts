// Judges that the `welcome` and `err` frames a device got have protocol.md's shape (the client's
// frame-shape.ts says what is wrong; it records a `bad-frame` event): a welcome names the signed-in
// user, a connection and a node, a positive heartbeat, and lists entries of a conversation id, three
// seqs and an optional boolean `member`; an err carries a socket error code, a message, and a `ref`
// (the cmid or frame type it answers) and `conv` that are ids when present. The rest of the harness
// reads these only in part: a client skips a welcome entry it cannot use, and a refused resume or sync
// is retried by its `conv` whatever its `ref` says, so a server that sent them malformed passed
// (mutation run 8). Every welcome is judged (its `session` event); an err is judged as it comes.
// A session closed with 1012 (restart) had a `drain` before it (protocol.md's close codes; the client
// records a `bad-frame` of `t` 'close' otherwise): a node that cut every session with 1012 while not
// restarting passed the gate, its clients resuming elsewhere (mutation run 10, the gap timer's kind).
// A connection whose send buffer passed the node's bound is closed 4509 (slow-consumer-closes.ts; in
// the simulator only, which sees the buffer): a node that never closed a slow consumer passed (mutant
// 474 of the 3c0f288 sample: its clients just lagged and caught up), and only then (mutant 1913 of the
// seed-3 sample closed every connection with a frame queued).

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { coveredResult } from './coverage.ts';
import {
  type EarlyClose,
  type LateClose,
  SlowConsumerCloses,
  slowConsumerClosesKinds,
} from './slow-consumer-closes.ts';
import { WitnessList } from './witness-list.ts';

export const serverFramesProperty = 'server-frames';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['session', 'bad-frame', ...slowConsumerClosesKinds] as const satisfies readonly HistoryKind[];

export type ServerFramesOptions = CheckerOptions & {
  /**
   * The runner sees each connection's send buffer (the simulator's network records `send-buffer`
   * events): a slow-consumer fault that pushed no buffer past the bound then tested no 4509 close.
   * Live, the harness cannot see a server's socket buffer: left off, and nothing is owed.
   */
  sendBuffersSeen?: boolean;
  /**
   * The scenario's slow-consumer fault is there to push buffers past the bound (`checks.
   * slowConsumersPassBound`): with `sendBuffersSeen`, a run where it started and no episode over the
   * bound was judged is unknown, not a pass. A swarm's drawn fault (at a bound it may never reach) is not.
   */
  slowConsumersPassBound?: boolean;
  /** Within how long after a buffer passed the bound its close 4509 is owed (default 5 s; see judgeSilence). */
  slowConsumerCloseMs?: number;
  /** False where the server's speed is part of the run (a cost model): the close is owed by the run's end. */
  judgeSilence?: boolean;
};

export function createServerFramesChecker(options: ServerFramesOptions = {}): Checker {
  const { limits } = resolveCheckerOptions(options);
  const witness = new WitnessList(limits.witnessCasesMax);
  let welcomes = 0;
  const closeWithinMs =
    options.judgeSilence === false ? Number.POSITIVE_INFINITY : (options.slowConsumerCloseMs ?? 5000);
  const slowConsumers = new SlowConsumerCloses(
    closeWithinMs,
    ({ over, end }: LateClose) =>
      witness.add('slow consumer not closed 4509', () => ({
        problem: `${over.user}/${over.device}'s connection had ${over.bytes} bytes queued toward it at ${over.at}, past the node's send-buffer bound, and ${end === null ? 'was not closed' : `${end.state === 'closed' ? `was closed ${end.code}` : 'ended'} only at ${end.at}`}${Number.isFinite(closeWithinMs) ? ` within ${closeWithinMs} ms` : ' by the end of the run'}, with no fault that could hold up its node (protocol.md: past the bound the connection is closed with 4509)`,
        path: end === null ? [over] : [over, end],
      })),
    options.sendBuffersSeen
      ? (lost: EarlyClose) =>
          witness.add('closed 4509 under the bound', () => ({
            problem: `${lost.user}/${lost.device}'s session was closed 4509 at ${lost.at}, though its connection's queue never passed the node's send-buffer bound (protocol.md: 4509 is for a connection past it)`,
            path: [lost],
          }))
      : undefined,
  );
  return {
    property: serverFramesProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe(event: HistoryEventOf<(typeof kinds)[number]>): void {
      if (event.k === 'send-buffer' || event.k === 'fault' || event.k === 'session-lost')
        slowConsumers.observe(event);
      else if (event.k === 'session') welcomes++;
      else if (event.k === 'bad-frame')
        witness.add(`malformed ${event.t}`, () => ({
          problem: `${event.user}/${event.device} got a malformed ${event.t}: ${event.problem}`,
          path: [event],
        }));
    },
    finish(final: FinalState): CheckResult {
      slowConsumers.finish(final.at);
      const s = slowConsumers;
      const buffers = options.sendBuffersSeen
        ? `; ${s.episodes} send buffers past the bound: ${s.closed} closed 4509 (${s.drained} times drained back first), ${s.endedOtherwise} ended otherwise, ${s.excused} under a fault that may hold up a node, ${s.unresolved} at the run's end, ${s.late} not closed; ${s.early} closed 4509 under the bound`
        : '';
      const unreached =
        options.sendBuffersSeen && options.slowConsumersPassBound && s.faulted && s.judged === 0;
      const details = `${welcomes} welcomes judged, and every err${buffers}${unreached ? "; could not judge a slow consumer's close: the slow-consumer fault pushed no send buffer past the bound where its close could be judged (run more clients: its slow consumers' traffic grows with them)" : ''}`;
      return coveredResult(
        witness,
        serverFramesProperty,
        details,
        { judged: welcomes, judgedWhat: 'welcomes', done: 0, doneWhat: 'sessions' },
        unreached ? 'unknown' : 'pass',
      );
    },
  };
}
