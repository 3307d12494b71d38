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

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { coveredResult } from './coverage.ts';
import { WitnessList } from './witness-list.ts';

export const serverFramesProperty = 'server-frames';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['session', 'bad-frame'] as const satisfies readonly HistoryKind[];

export function createServerFramesChecker(options: CheckerOptions = {}): Checker {
  const { limits } = resolveCheckerOptions(options);
  const witness = new WitnessList(limits.witnessCasesMax);
  let welcomes = 0;
  return {
    property: serverFramesProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe(event: HistoryEventOf<(typeof kinds)[number]>): void {
      if (event.k === 'session') welcomes++;
      else if (event.k === 'bad-frame')
        witness.add(`malformed ${event.t}`, () => ({
          problem: `${event.user}/${event.device} got a malformed ${event.t}: ${event.problem}`,
          path: [event],
        }));
    },
    finish(_final: FinalState): CheckResult {
      return coveredResult(witness, serverFramesProperty, `${welcomes} welcomes judged, and every err`, {
        judged: welcomes,
        judgedWhat: 'welcomes',
        done: 0,
        doneWhat: 'sessions',
      });
    },
  };
}
