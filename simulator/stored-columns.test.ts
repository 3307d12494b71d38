import { describe, expect, it } from 'vitest';
import type { Message } from '../reference-server/protocol/frames.ts';
import { encodeStored, StoredColumns, storedTransfer } from './stored-columns.ts';

const message = (conv: string, seq: number, body = `body ${seq}`): Message => ({
  conv,
  seq,
  from: `u${seq % 3}`,
  cmid: `d1-${seq}`,
  body,
  ts: 1000 + seq / 7,
});

/** A conversation as a store answers for it: its lastSeq, and its messages by seq (index seq - 1). */
type Held = { conv: string; lastSeq: number; messages: (Message | undefined)[] };

/** Encoded from a store holding these conversations. */
function encoded(part: Held[]) {
  const byConv = new Map(part.map((held) => [held.conv, held]));
  return encodeStored(
    part.map((held) => held.conv),
    {
      lastSeq: (conv) => byConv.get(conv)?.lastSeq ?? 0,
      messageAt: (conv, seq) => byConv.get(conv)?.messages[seq - 1],
    },
  );
}

/** Through postMessage as the checker thread gets them: cloned, the typed arrays moved. */
function crossed(parts: Held[][]): StoredColumns {
  const columns = new StoredColumns();
  for (const part of parts) {
    const columnsOfPart = encoded(part);
    columns.add(structuredClone(columnsOfPart, { transfer: storedTransfer(columnsOfPart) }));
  }
  return columns;
}

describe('the final store content as columns', () => {
  it('gives back every message as the store held it, holes and all, across parts', () => {
    const a = [
      message('a', 1, ''),
      undefined,
      message('a', 3, 'é ☃ body with a long tail of text'),
      message('a', 4),
    ];
    const b = [message('b', 1)];
    const columns = crossed([
      [
        { conv: 'a', lastSeq: 3, messages: a },
        { conv: 'empty', lastSeq: 0, messages: [] },
      ],
      [{ conv: 'b', lastSeq: 1, messages: b }],
    ]);
    for (const [seq, held] of a.entries()) expect(columns.message('a', seq + 1)).toEqual(held);
    expect(JSON.stringify(columns.message('a', 3))).toBe(JSON.stringify(a[2]));
    expect(columns.message('b', 1)).toEqual(b[0]);
    expect(columns.lastSeq('a')).toBe(3);
    expect(columns.lastSeq('empty')).toBe(0);
    expect(columns.lastSeq('b')).toBe(1);
    for (const seq of [0, -1, 1.5, 5, Number.NaN]) expect(columns.message('a', seq)).toBeUndefined();
    expect(columns.message('empty', 1)).toBeUndefined();
    expect(columns.message('nowhere', 1)).toBeUndefined();
    expect(columns.lastSeq('nowhere')).toBe(0);
  });

  it('holds each sender of a part once, as a number per message, not in the text', () => {
    const messages = [1, 2, 3, 4, 5].map((seq) => message('a', seq));
    const part = encoded([{ conv: 'a', lastSeq: 5, messages: [...messages, undefined] }]);
    expect(part.senders).toEqual(['u1', 'u2', 'u0']);
    expect([...part.senderAt]).toEqual([0, 1, 2, 0, 1]);
    expect(part.text).toBe(messages.map((held) => held.cmid + held.body).join(''));
    const columns = crossed([
      [{ conv: 'a', lastSeq: 5, messages }],
      [{ conv: 'b', lastSeq: 1, messages: [message('b', 2)] }],
    ]);
    for (const [seq, held] of messages.entries()) expect(columns.message('a', seq + 1)).toEqual(held);
    expect(columns.message('b', 1)?.from).toBe('u2');
  });

  it("keeps a broken store's odd messages as they were: another conversation, other fields, other order", () => {
    const other = { ...message('z', 2) };
    const extra = { ...message('a', 3), edited: true } as Message;
    const reordered = { seq: 4, conv: 'a', from: 'u1', cmid: 'x', body: 'y', ts: 5 } as Message;
    const wrongType = { ...message('a', 5), body: 42 } as unknown as Message;
    const messages = [message('a', 1), other, extra, reordered, wrongType, message('a', 6)];
    const columns = crossed([[{ conv: 'a', lastSeq: 6, messages }]]);
    for (const [seq, held] of messages.entries()) {
      expect(columns.message('a', seq + 1)).toEqual(held);
      expect(JSON.stringify(columns.message('a', seq + 1))).toBe(JSON.stringify(held));
    }
  });

  it('finds a conversation asked for before the part that holds it came (the last lookup is not kept past a part)', () => {
    const columns = crossed([[{ conv: 'a', lastSeq: 1, messages: [message('a', 1)] }]]);
    expect(columns.lastSeq('b')).toBe(0);
    expect(columns.message('b', 1)).toBeUndefined();
    const part = encoded([{ conv: 'b', lastSeq: 2, messages: [message('b', 1), message('b', 2)] }]);
    columns.add(structuredClone(part, { transfer: storedTransfer(part) }));
    expect(columns.lastSeq('b')).toBe(2);
    expect(columns.message('b', 2)).toEqual(message('b', 2));
    expect(columns.message('a', 1)).toEqual(message('a', 1));
    expect(columns.lastSeq('b')).toBe(2);
  });
});
