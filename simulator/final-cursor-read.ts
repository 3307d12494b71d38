// The simulator's final cursor read: after settle, each conversation's cursors are read the way a
// black box gives them, `GET /v1/conversations/:id/receipts` through the world's HTTP, as a current
// member (by the harness's own ledger; a refused or unanswered read passes to the next member, up to
// `triesMax`). Each answer is recorded as a `cursor-read` event, which cursor-monotonicity judges
// against the cursors devices saw. Reads go a page of conversations at a time, so a run with many
// conversations never holds more than `pageSize` requests at once; a page waits at most
// `answerTimeoutMs` of virtual time (an unanswered read is recorded with status 0).

import type { AdminLedger } from './admin-ledger.ts';
import type { CursorReadMember, HistoryEvent } from './history.ts';
import type { Prng } from './kernel/prng.ts';
import { cursorsOf } from './live/final-read.ts';
import type { World } from './world/world.ts';

const pageSize = 1024;
const answerTimeoutMs = 10_000;
const stepMs = 20;
const triesMax = 3;

type Answer = { status: number; lastSeq?: number; members?: readonly CursorReadMember[] };

export async function readCursorsAtEnd(
  world: World,
  ledger: AdminLedger,
  conversations: readonly string[],
  rng: Prng,
  record: (event: HistoryEvent) => void,
): Promise<number> {
  let requests = 0;
  for (let start = 0; start < conversations.length; start += pageSize) {
    const page = conversations.slice(start, start + pageSize);
    let open = 0;
    const done: (() => void)[] = [];
    for (const conv of page) {
      const readers = ledger.membersOf(conv).slice(0, triesMax);
      if (readers.length === 0) continue;
      open++;
      let settled = false;
      let last = { user: readers[0]!, answer: { status: 0 } as Answer };
      const finish = (): void => {
        if (settled) return;
        settled = true;
        open--;
        record({ k: 'cursor-read', at: world.now, conv, user: last.user, ...last.answer });
      };
      done.push(finish);
      const ask = (index: number): void => {
        const user = readers[index]!;
        const nodes = world.nodes.flatMap((node, n) => (node.up && !node.paused ? [n] : []));
        if (nodes.length === 0) return finish();
        requests++;
        world.http(
          rng.pick(nodes),
          {
            method: 'GET',
            path: `/v1/conversations/${conv}/receipts`,
            query: {},
            principal: { kind: 'user', sub: user, admin: false },
            body: undefined,
          },
          (status, body) => {
            if (settled) return;
            last = { user, answer: cursorsOf(status, body) };
            if (last.answer.status !== 200 && index + 1 < readers.length) return ask(index + 1);
            finish();
          },
        );
      };
      ask(0);
    }
    const deadline = world.now + answerTimeoutMs;
    while (open > 0 && world.now < deadline) await world.runUntil(Math.min(deadline, world.now + stepMs));
    for (const finish of done) finish();
  }
  return requests;
}
