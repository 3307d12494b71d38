// A fast-check arbitrary for checker tests: two devices per user each displaying a conversation's seqs
// 1..lastSeq in order, interleaved at random, which every order and duplicate checker must accept.

import fc from 'fast-check';
import type { HistoryEvent } from '../history.ts';
import { device, history, message } from './history-fixture.ts';

export type InterleavedDisplays = { members: string[]; lastSeq: number; events: HistoryEvent[] };

export function interleavedDisplays(conv = 'g'): fc.Arbitrary<InterleavedDisplays> {
  return fc
    .record({ users: fc.integer({ min: 1, max: 4 }), lastSeq: fc.integer({ min: 1, max: 12 }) })
    .chain(({ users, lastSeq }) =>
      fc.array(fc.nat(users * 2 - 1), { maxLength: users * 2 * lastSeq }).map((picks) => {
        const members = Array.from({ length: users }, (_, i) => `u${i}`);
        const events: HistoryEvent[] = [history.conv(0, conv, members)];
        const nextSeq = new Array<number>(users * 2).fill(1);
        const displayNext = (pick: number) => {
          const seq = nextSeq[pick]!;
          nextSeq[pick] = seq + 1;
          const on = device(members[pick >> 1]!, `d${pick & 1}`);
          events.push(history.display(events.length, on, message(conv, seq, members[seq % users]!)));
        };
        for (const pick of picks) if (nextSeq[pick]! <= lastSeq) displayNext(pick);
        nextSeq.forEach((_, pick) => {
          while (nextSeq[pick]! <= lastSeq) displayNext(pick);
        });
        return { members, lastSeq, events };
      }),
    );
}
