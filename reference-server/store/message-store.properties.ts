// Property half of the MessageStore contract: random histories of creates, appends (duplicates
// included), membership changes, cursor moves, reads and reopens must answer exactly as
// NaiveStoreModel does; random concurrent batches must keep seqs gap-free and keys unique.

import fc from 'fast-check';
import { expect, it } from 'vitest';
import {
  type AppendResult,
  type ConversationRecord,
  membersVersionOf,
  type ReadRequest,
  type ReadResult,
} from './message-store.ts';
import { NaiveStoreModel } from './naive-store-model.ts';
import type { StoreHarness } from './store-harness.ts';

const users = ['a', 'b', 'c', 'd'];
const convs = ['g1', 'g2', 'd1'];
const cmids = ['m1', 'm2', 'm3', 'm4', 'm5'];

type Command =
  | { op: 'create'; id: string; kind: 'group' | 'direct'; members: string[] }
  | { op: 'append'; conv: string; from: string; cmid: string; body: string }
  | { op: 'members'; conv: string; add: string[]; remove: string[] }
  | { op: 'cursor'; conv: string; user: string; kind: 'delivered' | 'read'; seq: number }
  | { op: 'read'; conv: string; after: number; limit: number }
  | { op: 'reopen' };

const conv = fc.constantFrom(...convs);
const user = fc.constantFrom(...users);
const someUsers = fc.subarray(users, { maxLength: 3 });

function commandArb(durable: boolean): fc.Arbitrary<Command> {
  const options: fc.WeightedArbitrary<Command>[] = [
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('create' as const),
        id: conv,
        kind: fc.constantFrom('group' as const, 'direct' as const),
        members: someUsers,
      }),
    },
    {
      weight: 6,
      arbitrary: fc.record({
        op: fc.constant('append' as const),
        conv,
        from: user,
        cmid: fc.constantFrom(...cmids),
        body: fc.string({ maxLength: 12 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({ op: fc.constant('members' as const), conv, add: someUsers, remove: someUsers }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('cursor' as const),
        conv,
        user,
        kind: fc.constantFrom('delivered' as const, 'read' as const),
        seq: fc.integer({ min: 0, max: 12 }),
      }),
    },
    {
      weight: 2,
      arbitrary: fc.record({
        op: fc.constant('read' as const),
        conv,
        after: fc.integer({ min: 0, max: 10 }),
        limit: fc.integer({ min: 1, max: 6 }),
      }),
    },
  ];
  if (durable) options.push({ weight: 1, arbitrary: fc.constant({ op: 'reopen' as const }) });
  return fc.oneof(...options);
}

export function describeStoreProperties(
  fresh: () => Promise<StoreHarness>,
  runs: number,
  durable: boolean,
): void {
  it('answers random histories exactly as the naive model does', async () => {
    await fc.assert(
      fc.asyncProperty(fc.array(commandArb(durable), { maxLength: 40 }), async (commands) => {
        const h = await fresh();
        try {
          const model = new NaiveStoreModel();
          for (const [step, command] of commands.entries()) await runCommand(h, model, command, 1000 + step);
          const records = h.durable ? await h.reopen() : await currentRecords(h, model.records());
          expect(sortById(records)).toEqual(sortById(model.records()));
          for (const record of model.records()) {
            const read = { conv: record.id, after: 0, limit: 100 };
            expectSameRead(await h.store.read(read), model, read, JSON.stringify(read));
          }
        } finally {
          await h.dispose();
        }
      }),
      { numRuns: runs },
    );
  });

  it('keeps seqs gap-free and one seq per key under random concurrent batches', async () => {
    const request = fc.record({
      from: fc.constantFrom('a', 'b', 'c', 'z'),
      cmid: fc.constantFrom('m1', 'm2', 'm3', 'm4', 'm5', 'm6'),
      body: fc.string({ maxLength: 8 }),
    });
    await fc.assert(
      fc.asyncProperty(fc.array(request, { minLength: 1, maxLength: 60 }), async (requests) => {
        const h = await fresh();
        try {
          await h.store.createConversation({ id: 'g', kind: 'group', members: ['a', 'b', 'c'] });
          const results = await Promise.all(
            requests.map((r, i) => h.store.append({ conv: 'g', ...r, ts: 5000 + i })),
          );
          const byKey = new Map<string, { first: AppendResult & { status: 'ok' }; bodies: string[] }>();
          for (const [i, result] of results.entries()) {
            const r = requests[i]!;
            if (r.from === 'z') {
              expect(result).toEqual({ status: 'forbidden' });
              continue;
            }
            if (result.status !== 'ok') throw new Error(`append failed: ${JSON.stringify(result)}`);
            const key = `${r.from}/${r.cmid}`;
            const seen = byKey.get(key);
            if (seen === undefined) byKey.set(key, { first: result, bodies: [r.body] });
            else {
              expect([result.seq, result.ts]).toEqual([seen.first.seq, seen.first.ts]);
              seen.bodies.push(r.body);
            }
          }
          for (const key of byKey.keys()) {
            const originals = results.filter(
              (res, i) =>
                `${requests[i]!.from}/${requests[i]!.cmid}` === key && res.status === 'ok' && !res.duplicate,
            );
            expect(originals.length, `exactly one non-duplicate for ${key}`).toBe(1);
          }
          const read = await h.store.read({ conv: 'g', after: 0, limit: 100 });
          if (read.status !== 'ok') throw new Error('read failed');
          expect(read.lastSeq).toBe(byKey.size);
          expect(read.messages.map((m) => m.seq)).toEqual(
            Array.from({ length: byKey.size }, (_, i) => i + 1),
          );
          for (const message of read.messages) {
            const seen = byKey.get(`${message.from}/${message.cmid}`);
            expect(seen?.first.seq).toBe(message.seq);
            expect(seen?.first.ts).toBe(message.ts);
            expect(seen?.bodies).toContain(message.body);
          }
        } finally {
          await h.dispose();
        }
      }),
      { numRuns: runs },
    );
  });
}

async function runCommand(
  h: StoreHarness,
  model: NaiveStoreModel,
  command: Command,
  ts: number,
): Promise<void> {
  const { store } = h;
  const context = JSON.stringify(command);
  switch (command.op) {
    case 'create': {
      const request = { id: command.id, kind: command.kind, members: command.members };
      expect(await store.createConversation(request), context).toEqual(model.create(request));
      return;
    }
    case 'append': {
      const request = { conv: command.conv, from: command.from, cmid: command.cmid, body: command.body, ts };
      const answer = await store.append(request);
      expect(withoutMembersVersion(answer), context).toEqual(model.append(request));
      expectModelVersion(answer, model, request.conv, context);
      return;
    }
    case 'members': {
      const request = { conv: command.conv, add: command.add, remove: command.remove };
      expect(await store.changeMembers(request), context).toEqual(model.changeMembers(request));
      return;
    }
    case 'cursor': {
      const request = { conv: command.conv, user: command.user, kind: command.kind, seq: command.seq };
      expect(await store.advanceCursor(request), context).toEqual(model.advanceCursor(request));
      return;
    }
    case 'read': {
      const request = { conv: command.conv, after: command.after, limit: command.limit };
      expectSameRead(await store.read(request), model, request, context);
      return;
    }
    case 'reopen':
      expect(sortById(await h.reopen()), context).toEqual(sortById(model.records()));
  }
}

/** The port has no "get conversation": an empty membership change answers with the record. */
async function currentRecords(
  h: StoreHarness,
  expected: ConversationRecord[],
): Promise<ConversationRecord[]> {
  const out: ConversationRecord[] = [];
  for (const { id } of expected) {
    const result = await h.store.changeMembers({ conv: id, add: [], remove: [] });
    if (result.status !== 'ok') throw new Error(`no record for ${id}: ${result.status}`);
    out.push(result.conversation);
  }
  return out;
}

function sortById(records: ConversationRecord[]): ConversationRecord[] {
  return [...records].sort((x, y) => (x.id < y.id ? -1 : x.id > y.id ? 1 : 0));
}

/**
 * An answer without its optional `membersVersion` (not every store reports it; the random histories
 * check it against the model wherever a store does).
 */
export function withoutMembersVersion<T extends AppendResult | ReadResult>(result: T): T {
  if (result.status !== 'ok' || result.membersVersion === undefined) return result;
  const { membersVersion: _reported, ...rest } = result;
  return rest as T;
}

/** A store that reports the membership version reports the one the model holds for the conversation. */
function expectModelVersion(
  answer: AppendResult | ReadResult,
  model: NaiveStoreModel,
  conv: string,
  context: string,
): void {
  if (answer.status !== 'ok' || answer.membersVersion === undefined) return;
  const record = model.records().find((r) => r.id === conv)!;
  expect(answer.membersVersion, context).toBe(membersVersionOf(record));
}

function expectSameRead(
  answer: ReadResult,
  model: NaiveStoreModel,
  request: ReadRequest,
  context: string,
): void {
  expect(withoutMembersVersion(answer), context).toEqual(model.read(request));
  expectModelVersion(answer, model, request.conv, context);
}
