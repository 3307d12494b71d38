// Judges protocol.md guarantees 3 and 4 as a device sees them: each device displays a conversation's
// messages in strictly increasing seq order, with no gap inside what its user may read (display i+1
// follows display i, except across the user's membership gaps). Keeps, per (device, conv), only the
// newest seq displayed and when; membership comes from the stream (SpanBook).

import type { Checker, CheckResult, FinalState, HistoryEvent } from '../history.ts';
import { type CheckerOptions, resolveCheckerOptions } from './checker-options.ts';
import { float64Column, int32Column } from './column.ts';
import { SlotTable } from './slot-table.ts';
import { SpanBook } from './span-book.ts';
import { WitnessList } from './witness-list.ts';

export const perConversationOrderProperty = 'per-conversation-order';

export function createPerConversationOrderChecker(options: CheckerOptions = {}): Checker {
  const { ids, limits } = resolveCheckerOptions(options);
  const spans = new SpanBook(ids);
  const pairs = new SlotTable();
  const newestSeq = int32Column(0);
  const newestAt = float64Column(0);
  const witness = new WitnessList(limits.witnessCasesMax);
  let displays = 0;

  const observe = (event: HistoryEvent): void => {
    if (event.k === 'conv' || event.k === 'members') return spans.observe(event);
    if (event.k !== 'display') return;
    displays++;
    const seq = event.message.seq;
    const deviceId = ids.device(event.user, event.device);
    const convId = ids.conv(event.message.conv);
    const pair = pairs.intern(deviceId, convId);
    const newest = newestSeq.get(pair);
    const previous = () => ({
      k: 'display',
      at: newestAt.get(pair),
      user: event.user,
      device: event.device,
      conv: event.message.conv,
      seq: newest,
    });
    if (seq <= newest) {
      witness.add(seq === newest ? 'repeated' : 'out of order', () => ({
        problem: `${event.user}/${event.device} displayed ${event.message.conv}#${seq} after #${newest}`,
        path: [previous(), event],
      }));
      return;
    }
    if (seq > newest + 1 && spans.readableIn(convId, ids.deviceUser(deviceId), newest + 1, seq - 1)) {
      witness.add('gap', () => ({
        problem:
          `${event.user}/${event.device} displayed ${event.message.conv}#${seq} right after ` +
          `#${newest}, skipping seqs its user could read`,
        path: newest === 0 ? [event] : [previous(), event],
      }));
    }
    newestSeq.set(pair, seq);
    newestAt.set(pair, event.at);
  };

  return {
    property: perConversationOrderProperty,
    observe,
    finish(_final: FinalState): CheckResult {
      return witness.result(
        perConversationOrderProperty,
        `${displays} displays on ${pairs.size} (device, conv) pairs`,
      );
    },
  };
}
