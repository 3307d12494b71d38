// What crosses to the checker thread comes out as it went in: every event rebuilt with the same fields,
// values and field order, its device number beside it, across batches (a device's and a conversation's
// names are sent once, a message shown again in a row by its seq alone), whether it was packed or went
// as it is.

import { describe, expect, it } from 'vitest';
import type { Message } from '../reference-server/protocol/frames.ts';
import type { HistoryEvent } from './history.ts';
import { type HistoryBatch, HistoryBatchReader, HistoryBatchWriter } from './history-batch.ts';

const message = { conv: 'g1', seq: 4, from: 'u2', cmid: 'd3', body: 'hello', ts: 1200 } as unknown as Message;
const who = { user: 'u1', device: 'u1-d1' };

const events: [HistoryEvent, number][] = [
  [{ k: 'display', at: 10, via: 'push', message, ...who }, 0],
  [{ k: 'display', at: 11.5, via: 'own', message, user: 'u2', device: 'u2-d1' }, 1],
  [{ k: 'display', at: 12, via: 'sync', message, ...who }, -1],
  [{ k: 'conv-frame', at: 13, conv: 'g1', t: 'msg', seqs: [4], node: 'n1', ...who }, 0],
  [{ k: 'conv-frame', at: 14, conv: 'g1', t: 'notify', node: undefined, ...who }, 0],
  [{ k: 'conv-frame', at: 15, conv: 'd1-2', t: 'typing', node: 'n2', ...who, of: 'u2' }, 0],
  [{ k: 'conv-frame', at: 16, conv: 'g1', t: 'receipt', ...who }, 0],
  [{ k: 'conv-frame', at: 16.5, conv: 'g1', t: 'batch', seqs: [5, 6], node: 'n1', ...who }, 0],
  // A batch with its page (lastSeq, more, judged by read-pages): as it is.
  [
    {
      k: 'conv-frame',
      at: 16.6,
      conv: 'g1',
      t: 'batch',
      seqs: [7],
      node: 'n1',
      ...who,
      lastSeq: 9,
      more: true,
    },
    0,
  ],
  // A frame type the packing does not know, and a device number that names someone else: as they are.
  [{ k: 'conv-frame', at: 17, conv: 'g1', t: 'presence-ish', node: 'n1', ...who }, 0],
  [{ k: 'display', at: 18, via: 'push', message, user: 'u9', device: 'u9-d1' }, 0],
  [{ k: 'ack', at: 19, conv: 'g1', cmid: 'd3', seq: 4, ts: 1200, sentAt: 9, ...who }, 0],
  [{ k: 'phase', at: 20, phase: 'settle' }, -1],
  // By layout: a field holding undefined stays a field; arrays and nested objects come back whole.
  [
    { k: 'ack', at: 21, conv: 'g1', cmid: 'd4', seq: 5, ts: 1300, sentAt: 10, user: 'u1', device: 'u1-d1' },
    0,
  ],
  [{ k: 'members-sent', at: 22, id: 1, conv: 'g1', add: ['u7'], remove: [] }, -1],
  [
    {
      k: 'presence-seen',
      at: 23,
      of: 'u2',
      online: true,
      lastSeen: 0,
      node: undefined,
      ...who,
    } as HistoryEvent,
    0,
  ],
  [{ k: 'durable', at: 24, message }, -1],
];

function roundTrip(writer: HistoryBatchWriter, reader: HistoryBatchReader, sent: [HistoryEvent, number][]) {
  for (const [event, device] of sent) writer.add(event, device);
  const { batch, transfer } = writer.take();
  expect(transfer).toHaveLength(7);
  // What postMessage does to it.
  const copy: HistoryBatch = structuredClone(batch);
  const got: [HistoryEvent, number][] = [];
  reader.read(copy, (event, device) => got.push([event, device]));
  return { batch, got };
}

describe('history batches', () => {
  it('rebuilds every event with its fields in order, packed or not', () => {
    const { batch, got } = roundTrip(new HistoryBatchWriter(64), new HistoryBatchReader(), events);
    expect(got).toEqual(events);
    for (let i = 0; i < events.length; i++)
      expect(Object.keys(got[i]![0]), `event ${i}`).toEqual(Object.keys(events[i]![0]));
    // `node: undefined` stays a field, as the client records it.
    expect('node' in got[4]![0]).toBe(true);
    expect('seqs' in got[4]![0]).toBe(false);
    // Packed: the displays and frames named by their device; as is: the rest.
    expect([...batch.shapes]).toEqual([1, 1, 3, 2, 2, 2, 2, 2, 3, 3, 3, 3, 3, 3, 3, 3, 3]);
    expect('node' in got[15]![0]).toBe(true);
    // The second display of the same message sent no fields of its own.
    expect(batch.objects.filter((o) => o === 'hello')).toHaveLength(1);
    expect(batch.convs).toEqual(['g1', 'n1', 'd1-2', 'n2']);
    // One layout per kind and field list (the two displays and the two acks share one), and no key name crosses.
    expect(batch.layouts.map((layout) => layout[0])).toEqual([
      'display',
      'conv-frame',
      'conv-frame',
      'ack',
      'phase',
      'members-sent',
      'presence-seen',
      'durable',
    ]);
    expect(batch.objects).not.toContain('sentAt');
    // The ack recorded by device 0 left its names out (1) and gave its conversation by number (2); the
    // display by another's number kept its names.
    expect(batch.codes[11]).toBe(3);
    expect(batch.codes[10]).toBe(0);
    expect(batch.names).toEqual([0, 'u1', 'u1-d1', 1, 'u2', 'u2-d1']);
  });

  it("keeps a notify's lastSeq (delivery-mode judges how soon a notify names a seq): not packed", () => {
    const notify: HistoryEvent = {
      k: 'conv-frame',
      at: 5,
      conv: 'g1',
      t: 'notify',
      node: 'n1',
      ...who,
      lastSeq: 9,
    };
    const { batch, got } = roundTrip(new HistoryBatchWriter(8), new HistoryBatchReader(), [[notify, 0]]);
    expect(got).toEqual([[notify, 0]]);
    expect(batch.shapes[0]).not.toBe(2);
  });

  it('names a device once; a later batch packs it by number alone', () => {
    const writer = new HistoryBatchWriter(8);
    const reader = new HistoryBatchReader();
    roundTrip(writer, reader, events.slice(0, 1));
    const later: [HistoryEvent, number][] = [[{ k: 'display', at: 30, via: 'resume', message, ...who }, 0]];
    const { batch, got } = roundTrip(writer, reader, later);
    expect(batch.names).toEqual([]);
    expect(batch.shapes[0]).toBe(1);
    expect(got).toEqual(later);
  });

  it('a batch holds only what was added since the last take', () => {
    const writer = new HistoryBatchWriter(16);
    writer.add(events[9]![0], 0);
    expect(writer.count).toBe(1);
    const { batch } = writer.take();
    expect(batch.count).toBe(1);
    expect(batch.devices).toHaveLength(1);
    expect(writer.count).toBe(0);
  });

  it("the clock's ticks come back between the events they came between, before, inside and after a batch", () => {
    const writer = new HistoryBatchWriter(16);
    const reader = new HistoryBatchReader();
    const seen: string[] = [];
    const read = () =>
      reader.read(
        structuredClone(writer.take().batch),
        (event) => seen.push(`event ${event.at}`),
        (nowMs, simEvents) => seen.push(`tick ${nowMs} ${simEvents}`),
      );
    writer.tick(1000, 7);
    writer.add(events[0]![0], 0);
    writer.add(events[3]![0], 0);
    writer.tick(2000, 9);
    writer.tick(3000, 12);
    writer.add(events[11]![0], 0);
    writer.tick(4000, 15);
    read();
    // A batch of ticks alone, then a later batch: the ticks of one batch do not cross again.
    writer.tick(5000, 20);
    read();
    writer.add(events[12]![0], -1);
    read();
    expect(seen).toEqual([
      'tick 1000 7',
      'event 10',
      'event 13',
      'tick 2000 9',
      'tick 3000 12',
      'event 19',
      'tick 4000 15',
      'tick 5000 20',
      'event 20',
    ]);
  });

  it('conversations and nodes in turn keep their numbers, an empty name among them', () => {
    const writer = new HistoryBatchWriter(32);
    const reader = new HistoryBatchReader();
    const frame = (at: number, conv: string, node: string): [HistoryEvent, number] => [
      { k: 'conv-frame', at, conv, t: 'msg', seqs: [1], node, ...who },
      0,
    ];
    const shown = (at: number, conv: string): [HistoryEvent, number] => [
      { k: 'display', at, via: 'push', message: { ...message, conv } as Message, ...who },
      0,
    ];
    // The first names looked up empty: a writer that remembered '' as looked up already would not number it.
    const sent = [
      frame(1, '', ''),
      shown(2, ''),
      frame(3, 'g1', 'n1'),
      shown(4, 'g1'),
      frame(5, '', 'n2'),
      frame(6, 'n1', 'g1'),
      shown(7, 'n2'),
      frame(8, 'g2', 'n1'),
    ];
    const { batch, got } = roundTrip(writer, reader, sent);
    expect(got).toEqual(sent);
    expect(batch.convs).toEqual(['', 'g1', 'n1', 'n2', 'g2']);
  });

  it("each device's conversations keep their numbers, devices interleaved, the same conversation or another each time", () => {
    const writer = new HistoryBatchWriter(64);
    const reader = new HistoryBatchReader();
    const them = { user: 'u2', device: 'u2-d1' };
    const frame = (at: number, conv: string, device: number): [HistoryEvent, number] => [
      { k: 'conv-frame', at, conv, t: 'msg', seqs: [at], node: 'n1', ...(device === 0 ? who : them) },
      device,
    ];
    const shown = (at: number, conv: string, device: number): [HistoryEvent, number] => [
      {
        k: 'display',
        at,
        via: 'push',
        message: { ...message, conv, seq: at },
        ...(device === 0 ? who : them),
      },
      device,
    ];
    // A device remembers the conversation it named last: another device's, or its own other one, in
    // between must not hand it a stale number.
    const sent = [
      frame(1, 'g1', 0),
      frame(2, 'g2', 1),
      shown(3, 'g1', 0),
      shown(4, 'g2', 1),
      frame(5, 'g2', 0),
      shown(6, 'g2', 0),
      frame(7, 'g1', 1),
      shown(8, 'g1', 0),
      shown(9, 'g1', 1),
      frame(10, 'g3', 0),
      shown(11, 'g2', 1),
    ];
    const { batch, got } = roundTrip(writer, reader, sent);
    expect(got).toEqual(sent);
    expect(batch.convs).toEqual(['g1', 'n1', 'g2', 'g3']);
    expect(Array.from(batch.conv.subarray(0, sent.length))).toEqual([0, 2, 0, 2, 2, 2, 0, 0, 0, 3, 2]);
  });

  it('a message shown again in a row goes by its seq; another message, or the same seq changed, in full', () => {
    const writer = new HistoryBatchWriter(64);
    const reader = new HistoryBatchReader();
    const next = { ...message, seq: 5, cmid: 'd4', body: 'again' } as Message;
    const forged = { ...message, body: 'forged' } as Message;
    const sent: [HistoryEvent, number][] = [
      [{ k: 'display', at: 1, via: 'push', message, ...who }, 0],
      [{ k: 'display', at: 2, via: 'push', message: { ...message }, user: 'u2', device: 'u2-d1' }, 1],
      [{ k: 'display', at: 3, via: 'push', message: next, ...who }, 0],
      [{ k: 'display', at: 4, via: 'sync', message: forged, user: 'u2', device: 'u2-d1' }, 1],
      [{ k: 'display', at: 5, via: 'resume', message: { ...forged }, ...who }, 0],
    ];
    const first = roundTrip(writer, reader, sent.slice(0, 2));
    expect(first.got).toEqual(sent.slice(0, 2));
    expect(first.batch.objects).toEqual(['u2', 'd3', 'hello']);
    // Across batches too: the reader keeps what it was last given per conversation.
    const { batch, got } = roundTrip(writer, reader, sent.slice(2));
    expect(got).toEqual(sent.slice(2));
    expect(batch.objects).toEqual(['u2', 'd4', 'again', 'u2', 'd3', 'forged']);
    expect(batch.convs).toEqual([]);
    for (const [event] of got)
      expect(Object.keys((event as { message: Message }).message)).toEqual(Object.keys(message));
  });

  it('a message with other fields, or its fields in another order, goes as it is', () => {
    const reordered = { seq: 4, conv: 'g1', from: 'u2', cmid: 'd3', body: 'hello', ts: 1200 } as Message;
    const more = { ...message, tp: 'trace' } as Message;
    const sent: [HistoryEvent, number][] = [
      [{ k: 'display', at: 1, via: 'push', message, ...who }, 0],
      [{ k: 'display', at: 2, via: 'push', message: reordered, ...who }, 0],
      [{ k: 'display', at: 3, via: 'push', message: more, ...who }, 0],
    ];
    const { batch, got } = roundTrip(new HistoryBatchWriter(8), new HistoryBatchReader(), sent);
    expect([...batch.shapes]).toEqual([1, 3, 3]);
    expect(got).toEqual(sent);
    expect(Object.keys((got[1]![0] as { message: Message }).message)).toEqual(Object.keys(reordered));
    expect((got[2]![0] as { message: Message }).message).toHaveProperty('tp', 'trace');
  });

  it('a layout crosses once: a later batch sends only the values', () => {
    const writer = new HistoryBatchWriter(8);
    const reader = new HistoryBatchReader();
    const ack = (at: number, seq: number): [HistoryEvent, number] => [
      { k: 'ack', at, conv: 'g1', cmid: `d${seq}`, seq, ts: at, sentAt: at - 1, ...who },
      0,
    ];
    const first = roundTrip(writer, reader, [ack(1, 1)]);
    expect(first.batch.layouts).toHaveLength(1);
    const later = [ack(2, 2), ack(3, 3)];
    const { batch, got } = roundTrip(writer, reader, later);
    expect(batch.layouts).toEqual([]);
    // The conversation by its number (g1 is 0), its name told once, in the first batch.
    expect(batch.objects).toEqual([0, 'd2', 2, 2, 1, 0, 'd3', 3, 3, 2]);
    expect(batch.convs).toEqual([]);
    expect(got).toEqual(later);
    for (const [event] of got) expect(Object.keys(event)).toEqual(Object.keys(later[0]![0]));
  });

  it("an event's conversation crosses by number when it is a string, and as it is otherwise", () => {
    const sent: [HistoryEvent, number][] = [
      [{ k: 'cursor-sent', at: 1, conv: 'g2', kind: 'read', seq: 3, ...who } as HistoryEvent, 0],
      [{ k: 'cursor-sent', at: 2, conv: 7, kind: 'read', seq: 3, ...who } as unknown as HistoryEvent, 0],
      [{ k: 'cursor-sent', at: 3, conv: 'g2', kind: 'read', seq: 4, ...who } as HistoryEvent, 0],
    ];
    const { batch, got } = roundTrip(new HistoryBatchWriter(8), new HistoryBatchReader(), sent);
    expect(got).toEqual(sent);
    expect([...batch.codes]).toEqual([3, 1, 3]);
    expect(batch.convs).toEqual(['g2']);
    expect(batch.objects).toEqual([0, 'read', 3, 7, 'read', 3, 0, 'read', 4]);
  });
});

describe('history batches: a display or a conv-frame given by its fields (the virtual client hands them so)', () => {
  const asObjects: [HistoryEvent, number][] = [
    [{ k: 'conv-frame', at: 10, conv: 'g1', t: 'msg', seqs: [4], node: 'n1', ...who }, 0],
    [{ k: 'display', at: 10, via: 'push', message, ...who }, 0],
    [
      { k: 'conv-frame', at: 11, conv: 'g1', t: 'msg', seqs: [4], node: 'n1', user: 'u2', device: 'u2-d1' },
      1,
    ],
    [{ k: 'display', at: 11, via: 'push', message, user: 'u2', device: 'u2-d1' }, 1],
    [{ k: 'conv-frame', at: 12, conv: 'g2', t: 'notify', node: '', ...who }, 0],
    [{ k: 'conv-frame', at: 13, conv: 'g1', t: 'receipt', seqs: [3], node: 'n2', ...who }, 0],
    [{ k: 'display', at: 14, via: 'own', message: { ...message, seq: 5 }, ...who }, 0],
  ];

  function byFields(writer: HistoryBatchWriter, sent: [HistoryEvent, number][]): void {
    for (const [event, device] of sent) {
      const taken =
        event.k === 'display'
          ? writer.display(device, event.at, event.via, event.message, event.user, event.device)
          : event.k === 'conv-frame' &&
            writer.convFrame(
              device,
              event.at,
              event.conv,
              event.t,
              event.seqs?.[0],
              event.node!,
              event.user,
              event.device,
            );
      expect(taken, JSON.stringify(event)).toBe(true);
    }
  }

  it('packs them exactly as the same events added as objects, and they come back the same', () => {
    const added = new HistoryBatchWriter(64);
    for (const [event, device] of asObjects) added.add(event, device);
    const given = new HistoryBatchWriter(64);
    byFields(given, asObjects);
    const a = added.take().batch;
    const b = given.take().batch;
    expect(b).toEqual(a);
    const got: [HistoryEvent, number][] = [];
    new HistoryBatchReader().read(structuredClone(b), (event, device) => got.push([event, device]));
    expect(got).toEqual(asObjects);
    for (let i = 0; i < got.length; i++)
      expect(Object.keys(got[i]![0]), `event ${i}`).toEqual(Object.keys(asObjects[i]![0]));
  });

  it("a push's msg frame given as the message comes back as the Message it carries, as the event's copy", () => {
    const writer = new HistoryBatchWriter(64);
    const frame = { t: 'msg', tp: '00-ab', ...message, seq: 8 } as unknown as Message;
    expect(writer.display(0, 1, 'push', frame, 'u1', 'u1-d1')).toBe(true);
    expect(writer.display(1, 2, 'push', frame, 'u2', 'u2-d1')).toBe(true);
    const got: HistoryEvent[] = [];
    new HistoryBatchReader().read(structuredClone(writer.take().batch), (event) => got.push(event));
    const carried = { conv: 'g1', seq: 8, from: 'u2', cmid: 'd3', body: 'hello', ts: 1200 };
    expect(got).toEqual([
      { k: 'display', at: 1, via: 'push', message: carried, ...who },
      { k: 'display', at: 2, via: 'push', message: carried, user: 'u2', device: 'u2-d1' },
    ]);
    for (const event of got)
      expect(Object.keys((event as HistoryEvent & { k: 'display' }).message)).toEqual(Object.keys(carried));
    // Added as an event object, a message holding other fields still goes whole (by its layout, not packed: 1).
    const added = new HistoryBatchWriter(64);
    added.add({ k: 'display', at: 1, via: 'push', message: frame, ...who }, 0);
    expect(added.take().batch.shapes[0]).not.toBe(1);
  });

  it('refuses, writing nothing, what cannot go packed: another name, via, frame type, seq or message shape', () => {
    const writer = new HistoryBatchWriter(64);
    expect(writer.display(0, 1, 'push', message, 'u1', 'u1-d1')).toBe(true);
    const count = writer.count;
    expect(writer.display(0, 2, 'push', message, 'u9', 'u9-d1')).toBe(false);
    expect(writer.display(-1, 2, 'push', message, 'u1', 'u1-d1')).toBe(false);
    expect(writer.display(0, 2, 'fetched' as 'push', message, 'u1', 'u1-d1')).toBe(false);
    const numbered = { ...message, body: 7 } as unknown as Message;
    expect(writer.display(0, 2, 'push', numbered, 'u1', 'u1-d1')).toBe(false);
    expect(writer.convFrame(0, 2, 'g1', 'msg', 4, 'n1', 'u9', 'u9-d1')).toBe(false);
    expect(writer.convFrame(0, 2, 'g1', 'presence-ish', 4, 'n1', 'u1', 'u1-d1')).toBe(false);
    expect(writer.convFrame(0, 2, 'g1', 'msg', 4.5, 'n1', 'u1', 'u1-d1')).toBe(false);
    expect(writer.count).toBe(count);
  });
});

describe('history batches: events by layout, rebuilt by a maker per layout', () => {
  it('any field name comes back as it went: quotes, digits, __proto__ as an own field', () => {
    const odd = JSON.parse(
      '{"k":"phase","at":1,"a\\"b\\\\c":1,"0":"zero","__proto__":{"x":1},"conv":"g1","user":"u1","device":"u1-d1"}',
    ) as HistoryEvent;
    const plain = {
      k: 'phase',
      at: 2,
      "it's": [1],
      '${x}': 'y',
      conv: 'g1',
      ...who,
    } as unknown as HistoryEvent;
    const sent: [HistoryEvent, number][] = [
      [odd, 0],
      [plain, 0],
      // The same layout with its names given and its conv not a string: another maker.
      [{ ...plain, conv: 3 } as unknown as HistoryEvent, -1],
      [plain, 0],
    ];
    const { got } = roundTrip(new HistoryBatchWriter(8), new HistoryBatchReader(), sent);
    expect(got).toEqual(sent);
    for (let i = 0; i < sent.length; i++) {
      expect(Object.keys(got[i]![0]), `event ${i}`).toEqual(Object.keys(sent[i]![0]));
      expect(Object.getPrototypeOf(got[i]![0]), `event ${i}`).toBe(Object.prototype);
    }
    expect(Object.getOwnPropertyDescriptor(got[0]![0], '__proto__')?.value).toEqual({ x: 1 });
  });
});
