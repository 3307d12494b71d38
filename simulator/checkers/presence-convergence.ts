// Judges that presence converges once faults heal (protocol.md `watch`/`presence`: "for watched users,
// on change"): after settle, each connected device's last `presence-seen` for each user it watched
// matches whether that user is online at the end (FinalState.online). Only the last view counts, so
// flapping before and during faults is never judged; a user a device never observed is not judged,
// nor are the views of a device not in FinalState.devices (one that left the run) or whose user is
// offline at the end: neither can be told of changes.
// Keeps, per (device, watched user), the last online bit and when it was seen.

import type { Checker, CheckResult, FinalState, HistoryEventOf, HistoryKind } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, uint8Column } from './column.ts';
import { coveredResult } from './coverage.ts';
import { SlotTable } from './slot-table.ts';
import { WitnessList } from './witness-list.ts';

export const presenceConvergenceProperty = 'presence-convergence';

/** The kinds of event this checker reads (checker-feed.ts feeds it those only). */
const kinds = ['phase', 'watch-sent', 'presence-seen'] as const satisfies readonly HistoryKind[];

export function createPresenceConvergenceChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const views = new SlotTable();
  const online = uint8Column();
  const seenAt = float64Column();
  const witness = new WitnessList(limits.witnessCasesMax);
  let settleAt = Number.NaN;
  let watches = 0;

  const observe = (event: HistoryEventOf<(typeof kinds)[number]>): void => {
    if (event.k === 'phase' && event.phase === 'settle' && Number.isNaN(settleAt)) settleAt = event.at;
    if (event.k === 'watch-sent') watches++;
    if (event.k !== 'presence-seen') return;
    const slot = views.intern(ids.device(event.user, event.device), ids.user(event.of));
    online.set(slot, event.online ? 1 : 0);
    seenAt.set(slot, event.at);
  };

  return {
    property: presenceConvergenceProperty,
    kinds,
    violationsSoFar: () => witness.count,
    observe,
    finish(final: FinalState): CheckResult {
      // By id (a view per watcher and watched user: millions at a million clients): the devices at the
      // end, and each user's final online bit, asked of the final state once per user.
      const finalDevices = final.devices.map(({ user, device }) => ids.device(user, device));
      const present = new Uint8Array(ids.deviceCount);
      for (const id of finalDevices) present[id] = 1;
      const onlineAtEnd = new Int8Array(ids.userCount).fill(-1);
      const isOnline = (userId: number): boolean => {
        if (onlineAtEnd[userId]! < 0) onlineAtEnd[userId] = final.online(ids.userName(userId)) ? 1 : 0;
        return onlineAtEnd[userId] === 1;
      };
      let judged = 0;
      for (let slot = 0; slot < views.size; slot++) {
        const viewer = views.keyA(slot);
        if (present[viewer] !== 1 || !isOnline(ids.deviceUser(viewer))) continue;
        judged++;
        const shown = online.get(slot) === 1;
        if (shown === isOnline(views.keyB(slot))) continue;
        const { user, device } = ids.deviceName(viewer);
        const of = ids.userName(views.keyB(slot));
        witness.add(`stale ${shown ? 'online' : 'offline'}`, () => ({
          problem: `${user}/${device} last saw ${of} ${shown ? 'online' : 'offline'}, but ${of} is ${shown ? 'offline' : 'online'} at the end`,
          path: [
            { k: 'presence-seen', at: seenAt.get(slot), user, device, of, online: shown },
            { k: 'final', at: final.at, of, online: !shown },
          ],
        }));
      }
      const settled = final.settledAt !== null;
      const details =
        `${judged} views judged of ${views.size} (device, watched user) pairs; settle began at ` +
        `${Number.isNaN(settleAt) ? 'no time (no settle phase)' : settleAt}${settled ? '' : ' and did not converge'}`;
      if (witness.count > 0)
        return witness.result(presenceConvergenceProperty, details, 'pass', settled ? 'fail' : 'unknown');
      return coveredResult(witness, presenceConvergenceProperty, details, {
        judged,
        judgedWhat: 'presence views of a watcher online at the end',
        done: watches,
        doneWhat: 'watch requests',
      });
    },
  };
}
