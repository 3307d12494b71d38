import { describe, expect, it } from 'vitest';
import type { Message } from '../../reference-server/protocol/frames.ts';
import type { FinalState, HistoryEvent } from '../history.ts';
import { createAgreementChecker } from './agreement.ts';
import { checkHistory } from './check-history.ts';
import { createDurableAckChecker } from './durable-ack.ts';
import { type FinalStateData, finalStateFixture, finalStateOverColumns } from './final-state-fixture.ts';
import { device, history, message } from './history-fixture.ts';
import { createIdempotencyChecker } from './idempotency.ts';
import { identityHash } from './read-back.ts';
import { digestOf } from './stored-digest.ts';
import { hash32, hash32b, keyText } from './string-hash.ts';

const bob = device('bob');
const m1 = message('g', 1, 'bob', { cmid: 'c1' });
const m2 = message('g', 2, 'bob', { cmid: 'c2' });

/** Histories whose final reads the store-reading judgements fail, each with the store it ends on. */
const cases: { name: string; events: HistoryEvent[]; final: FinalStateData }[] = [
  {
    name: 'another message at an acked seq',
    events: [history.durable(1, m1), history.ack(2, bob, m1)],
    final: { messages: [message('g', 1, 'cat', { cmid: 'c9' })] },
  },
  {
    name: 'another body and a lost seq',
    events: [history.ack(1, bob, m1), history.ack(2, bob, m2)],
    final: { messages: [{ ...m1, body: 'edited ☃' }] },
  },
  {
    name: 'a key stored twice',
    events: [history.durable(1, m1)],
    final: { messages: [m1, { ...m1, seq: 2 }] },
  },
  {
    name: 'the same sender and another cmid',
    events: [history.ack(1, bob, m1), history.display(2, device('ann'), m1)],
    final: { messages: [{ ...m1, cmid: 'bob-retry-9' }] },
  },
];

const judge = (events: HistoryEvent[], final: FinalState) =>
  checkHistory(
    [createAgreementChecker(), createDurableAckChecker(), createIdempotencyChecker()],
    events,
    final,
  );

describe("the final read's digests", () => {
  it('are what the judgements hashed from each message: cmid, body, (from, cmid) and the idempotency key', () => {
    const digest = digestOf(m1, 'g');
    const key = keyText('bob', 'g', 'c1');
    expect(digest).toEqual({
      from: 'bob',
      cmid: hash32('c1'),
      body: hash32(m1.body),
      identity: identityHash(m1),
      keyA: hash32(key),
      keyB: hash32b(key),
    });
  });

  it("made as the store's parts arrive, give the verdicts and witnesses of the messages themselves", () => {
    for (const { name, events, final } of cases) {
      const fromMessages = judge(events, finalStateFixture(final));
      const fromDigests = judge(events, finalStateOverColumns(final));
      expect(fromDigests, name).toEqual(fromMessages);
      expect(
        fromMessages.map((result) => result.verdict),
        name,
      ).toContain('fail');
    }
  });

  it('of an odd message (another shape than the store makes) are made from the message when asked', () => {
    const odd = { ts: 5, seq: 1, conv: 'g', from: 'bob', cmid: 'c1', body: 'b' } as Message;
    const final = finalStateOverColumns({ messages: [odd, m2] });
    expect(final.storedDigest!('g', 1)).toEqual(digestOf(odd, 'g'));
    expect(final.storedDigest!('g', 2)).toEqual(digestOf(m2, 'g'));
    expect(final.storedDigest!('g', 3)).toBeUndefined();
  });
});
