// The history as it crosses to the checker thread (checker-thread.ts): copying an event object costs
// the structured clone a key string and a tag per field, and two kinds (`display` and `conv-frame`)
// are two thirds of a big run's events. Those two go packed: their time, device, conversation, seq and
// small codes in typed arrays (moved, not copied), each device's names and each conversation's name
// once per run, and a displayed message's own fields (sender, cmid, body) only the first time in a row
// its conversation shows it: the next devices that display the same message (a group's fan-out) send
// its seq alone, and the reader hands them the message it rebuilt. Every other event goes by its layout
// (its kind and field names in order, sent once per run): its time in a column, its recording device's
// names left out when the device number says them, its conversation by number (a string value of its
// `conv` field: the thread then holds one string per conversation, which the checkers' lookups by name
// hash once, where each event's own copy was hashed again), its other values in one list, with no key names.
// Anything that fits none of this (a message with other fields or another field order, a layout past
// layoutsMax) goes as it is. The reader rebuilds each event with the same fields and values, in the
// same order as recorded. The run's clock ticks (the metrics recorder's samples) go between the events
// they came between.

import type { Message } from '../reference-server/protocol/frames.ts';
import type { HistoryEvent, Via } from './history.ts';

export type HistoryBatch = {
  count: number;
  /** Per event: 0 as is (in `objects`), 1 a packed display, 2 a packed conv-frame, 3 by its layout. */
  shapes: Uint8Array;
  /** Per event: the recording client's device number, or -1. */
  devices: Int32Array;
  /** Per packed event: its time. */
  at: Float64Array;
  /** Per packed event: display, its via and whether its message follows; conv-frame, its t and which optional fields it has. */
  codes: Uint8Array;
  /** Per packed event: its conversation's number (see `convs`); per event by layout, the layout's number. */
  conv: Int32Array;
  /** Per packed event: the displayed message's seq, or a conv-frame's only seq. */
  seq: Int32Array;
  /** Per packed display whose message follows: its ts; per packed conv-frame with a node: the node's number (-1: undefined). */
  extra: Float64Array;
  /** Events as they are, and packed events' other fields, in event order. */
  objects: unknown[];
  /** Devices named for the first time in this batch: device number, user, device, ... */
  names: (number | string)[];
  /** Conversations and nodes named for the first time in this batch, in the order of their numbers. */
  convs: string[];
  /** Layouts met for the first time in this batch, in the order of their numbers: field names in order. */
  layouts: string[][];
  /**
   * The run's clock ticks between its events (the metrics recorder's samples): for each, the number of
   * the batch's events before it, the virtual time and the world's event count.
   */
  ticks: number[];
};

const asIs = 0;
const display = 1;
const convFrame = 2;
const byLayout = 3;
/** An event by layout whose `user` and `device` are its device number's names (left out of `objects`). */
const namesLeftOut = 1;
/** An event by layout whose `conv` is a string, given in `objects` as its conversation's number. */
const convByNumber = 2;
/** Distinct layouts at most (a run has a few dozen): past it, events go as they are. */
const layoutsMax = 4096;

type Layout = { id: number; keys: string[]; hasNames: boolean; hasConv: boolean };

/** A name last looked up and its number (undefined: none yet; any string, '' too, is looked up). */
type LastNumbered = { name: string | undefined; id: number };

const vias: readonly Via[] = ['push', 'resume', 'sync', 'own'];
/** A display's code: its via (low 2 bits) and whether its message's own fields follow. */
const messageFollows = 1 << 2;
/** conv-frame `t`s packed (low 4 bits of the code); others go as they are. */
const frameTypes: readonly string[] = ['msg', 'batch', 'notify', 'receipt', 'typing'];
const hasSeqs = 1 << 4;
const hasNode = 1 << 5;
const hasOf = 1 << 6;
/** With hasSeqs: the seqs are one seq, in the `seq` column. */
const oneSeq = 1 << 7;
/** A Message's fields, in the order every message the simulator builds has them. */
const messageKeys = ['conv', 'seq', 'from', 'cmid', 'body', 'ts'] as const;

/** Whether the message has exactly a Message's fields in messageKeys' order, of the types packing keeps. */
function packable(message: Message): boolean {
  let i = 0;
  for (const key in message) if (key !== messageKeys[i++]) return false;
  return i === messageKeys.length && packableFields(message);
}

/** Whether a Message's fields (of this message or of the frame that carries it) are of the types packing keeps. */
function packableFields(message: Message): boolean {
  return (
    typeof message.conv === 'string' &&
    (message.seq | 0) === message.seq &&
    typeof message.from === 'string' &&
    typeof message.cmid === 'string' &&
    typeof message.body === 'string' &&
    typeof message.ts === 'number'
  );
}

/** Whether the event's own fields are exactly `keys`, in that order. */
function sameKeys(event: HistoryEvent, keys: readonly string[]): boolean {
  let i = 0;
  for (const key in event) if (key !== keys[i++]) return false;
  return i === keys.length;
}

function sameMessage(a: Message, b: Message): boolean {
  return (
    a === b ||
    (a.seq === b.seq && a.from === b.from && a.cmid === b.cmid && a.body === b.body && Object.is(a.ts, b.ts))
  );
}

/**
 * Pads `array` with holes' stand-in (undefined) up to index `last` - 1, so the write at `last` that
 * follows lands at its end or inside: an array written far past its end (device numbers come in any
 * order) turns into a slow dictionary, and a million devices' names were looked up in one.
 */
function growTo<T>(array: (T | undefined)[], last: number): void {
  while (array.length < last) array.push(undefined);
}

export class HistoryBatchWriter {
  private readonly batch: HistoryBatch;
  /**
   * Per device number seen so far, a row of four: its user at 4n and its device at 4n + 1 (what the
   * reader has been told), then the conversation it last named and that conversation's number, side by
   * side so a push's check of the names and lookup of its conversation cost one cache miss, not a miss
   * and a cold probe of `convIds` (a device's frames are mostly about its one conversation: at a million
   * devices the probe was 1.5% of the world's thread).
   */
  private readonly namesOf: (string | number | undefined)[] = [];
  /** Each conversation's (and node's) number, as told to the reader. */
  private readonly convIds = new Map<string, number>();
  /**
   * The last conversation looked up and its number, and the last node's: a push is a conv-frame and a
   * display of the same conversation in a row, each frame names its node, and a run has a few nodes.
   * Three lookups of the Map per push became about one.
   */
  private readonly lastConv: LastNumbered = { name: undefined, id: -1 };
  private readonly lastNode: LastNumbered = { name: undefined, id: -1 };
  /** By conversation number: the message the reader was last given in full for it. */
  private readonly lastMessage: (Message | undefined)[] = [];
  /** By event kind: the layouts met so far. */
  private readonly layoutsOf = new Map<string, Layout[]>();
  private layoutCount = 0;
  /** How many of `batch.objects` (kept from batch to batch, see `put`) this batch holds. */
  private objectCount = 0;

  constructor(private readonly capacity: number) {
    this.batch = this.fresh();
  }

  get count(): number {
    return this.batch.count;
  }

  add(event: HistoryEvent, device: number): void {
    if (event.k === 'display') {
      if (
        packable(event.message) &&
        this.display(device, event.at, event.via, event.message, event.user, event.device)
      )
        return;
    } else if (event.k === 'conv-frame' && this.named(event.user, event.device, device)) {
      const t = frameTypes.indexOf(event.t);
      const node = 'node' in event ? event.node : undefined;
      // A batch's page (`lastSeq`, `more`) and a notify's `lastSeq` are rare beside pushes and receipts:
      // such frames go as they are.
      const plain = t >= 0 && !('more' in event) && !('lastSeq' in event) && typeof event.conv === 'string';
      if (plain && (node === undefined || typeof node === 'string')) {
        const at = this.convFrameRow(device, event.at, event.conv);
        const batch = this.batch;
        let code = t;
        if ('seqs' in event) {
          code |= hasSeqs;
          const seqs = event.seqs;
          if (seqs !== undefined && seqs.length === 1 && (seqs[0]! | 0) === seqs[0]) {
            code |= oneSeq;
            batch.seq[at] = seqs[0]!;
          } else this.put(seqs);
        }
        if ('node' in event) {
          code |= hasNode;
          batch.extra[at] = node === undefined ? -1 : this.nodeId(node);
        }
        if ('of' in event) {
          code |= hasOf;
          this.put(event.of);
        }
        batch.codes[at] = code;
        return;
      }
    }
    const batch = this.batch;
    const at = batch.count++;
    batch.devices[at] = device;
    const layout = typeof event.at === 'number' ? this.layoutOf(event) : undefined;
    if (layout === undefined) {
      batch.shapes[at] = asIs;
      this.put(event);
      return;
    }
    batch.shapes[at] = byLayout;
    batch.at[at] = event.at;
    batch.conv[at] = layout.id;
    const omit = layout.hasNames && 'device' in event && this.named(event.user, event.device, device);
    const values = event as unknown as Record<string, unknown>;
    const conv = layout.hasConv ? values.conv : undefined;
    const convNumber = typeof conv === 'string' ? this.convId(conv) : -1;
    batch.codes[at] = (omit ? namesLeftOut : 0) | (convNumber >= 0 ? convByNumber : 0);
    for (const key of layout.keys) {
      if (key === 'k' || key === 'at' || (omit && (key === 'user' || key === 'device'))) continue;
      this.put(key === 'conv' && convNumber >= 0 ? convNumber : values[key]);
    }
  }

  /**
   * A `display` event given by its fields (`add` gives a display event's): packed, or false with nothing
   * written when it cannot be (a device number that does not name the user and device, another via, a
   * message field of another type). The event's message is `message`'s Message fields in Message's
   * order: `message` may be the `msg` frame that carried it. The virtual client hands them over so,
   * without the event object and the message's copy.
   */
  display(device: number, at: number, via: Via, message: Message, user: string, deviceName: string): boolean {
    if (!this.named(user, deviceName, device)) return false;
    const viaCode = vias.indexOf(via);
    if (viaCode < 0 || !packableFields(message)) return false;
    const batch = this.batch;
    const row = batch.count++;
    const conv = this.deviceConvId(device, message.conv);
    batch.devices[row] = device;
    batch.shapes[row] = display;
    batch.at[row] = at;
    batch.conv[row] = conv;
    batch.seq[row] = message.seq;
    const lastMessage = this.lastMessage;
    const last = lastMessage[conv];
    if (last !== undefined && sameMessage(message, last)) batch.codes[row] = viaCode;
    else {
      growTo(lastMessage, conv);
      lastMessage[conv] = message;
      batch.codes[row] = viaCode | messageFollows;
      batch.extra[row] = message.ts;
      this.put(message.from);
      this.put(message.cmid);
      this.put(message.body);
    }
    return true;
  }

  /**
   * A `conv-frame` event of the virtual client's common shape given by its fields: `seq` its one seq
   * (undefined: no `seqs`), with its `node` and no `of` or page; the event it stands for is
   * `{ k, at, conv, t, seqs: [seq], node, user, device }`. False, with nothing written, when it cannot
   * go packed (see `display`); `add` packs the same events given as objects.
   */
  convFrame(
    device: number,
    at: number,
    conv: string,
    t: string,
    seq: number | undefined,
    node: string,
    user: string,
    deviceName: string,
  ): boolean {
    if (!this.named(user, deviceName, device)) return false;
    const type = frameTypes.indexOf(t);
    if (type < 0 || (seq !== undefined && (seq | 0) !== seq)) return false;
    const batch = this.batch;
    const row = this.convFrameRow(device, at, conv);
    batch.extra[row] = this.nodeId(node);
    if (seq === undefined) batch.codes[row] = type | hasNode;
    else {
      batch.seq[row] = seq;
      batch.codes[row] = type | hasSeqs | oneSeq | hasNode;
    }
    return true;
  }

  /** The next row, a packed conv-frame's (its device named): its device, time and conversation written, its code not. */
  private convFrameRow(device: number, at: number, conv: string): number {
    const batch = this.batch;
    const row = batch.count++;
    batch.devices[row] = device;
    batch.shapes[row] = convFrame;
    batch.at[row] = at;
    batch.conv[row] = this.deviceConvId(device, conv);
    return row;
  }

  /** The event's layout (told to the reader the first time), or undefined past layoutsMax. */
  private layoutOf(event: HistoryEvent): Layout | undefined {
    let layouts = this.layoutsOf.get(event.k);
    if (layouts === undefined) {
      layouts = [];
      this.layoutsOf.set(event.k, layouts);
    }
    for (const layout of layouts) if (sameKeys(event, layout.keys)) return layout;
    if (this.layoutCount >= layoutsMax) return undefined;
    const keys: string[] = [];
    for (const key in event) keys.push(key);
    const layout = {
      id: this.layoutCount++,
      keys,
      hasNames: keys.includes('user') && keys.includes('device'),
      hasConv: keys.includes('conv'),
    };
    layouts.push(layout);
    // The kind goes with the layout: its value is the first thing the reader needs.
    this.batch.layouts.push([event.k, ...keys]);
    return layout;
  }

  /**
   * The next of the batch's objects. The writer keeps one array and writes over it batch after batch
   * (take copies out what a batch holds): an array grown by push from empty for each batch allocated
   * about three times what it ended holding, the writer's largest allocation after a push's events.
   */
  private put(value: unknown): void {
    this.batch.objects[this.objectCount++] = value;
  }

  /** The run's clock at this point of the history (virtual ms, the world's events so far). */
  tick(nowMs: number, events: number): void {
    this.batch.ticks.push(this.batch.count, nowMs, events);
  }

  /** The batch so far (copies of its columns, to be moved, not copied again); the writer starts afresh. */
  take(): { batch: HistoryBatch; transfer: ArrayBuffer[] } {
    const full = this.batch;
    const { count } = full;
    const batch = {
      ...full,
      shapes: full.shapes.slice(0, count),
      devices: full.devices.slice(0, count),
      at: full.at.slice(0, count),
      codes: full.codes.slice(0, count),
      conv: full.conv.slice(0, count),
      seq: full.seq.slice(0, count),
      extra: full.extra.slice(0, count),
      objects: full.objects.slice(0, this.objectCount),
    };
    // The columns and the objects are copied out above, so the writer keeps writing into the same ones.
    full.count = 0;
    this.objectCount = 0;
    full.names = [];
    full.convs = [];
    full.layouts = [];
    full.ticks = [];
    return {
      batch,
      transfer: [
        batch.shapes.buffer,
        batch.devices.buffer,
        batch.at.buffer,
        batch.codes.buffer,
        batch.conv.buffer,
        batch.seq.buffer,
        batch.extra.buffer,
      ] as ArrayBuffer[],
    };
  }

  /** Whether the reader was told that this device number names this user (and device). */
  told(device: number, user: string, deviceName?: string): boolean {
    const at = 4 * device;
    return (
      device >= 0 &&
      this.namesOf[at] === user &&
      (deviceName === undefined || this.namesOf[at + 1] === deviceName)
    );
  }

  /** Whether the device number names this user and device (told to the reader the first time). */
  private named(user: string, deviceName: string, device: number): boolean {
    if (device < 0) return false;
    const names = this.namesOf;
    const at = 4 * device;
    const known = names[at];
    if (known === undefined) {
      growTo(names, at);
      names[at] = user;
      names[at + 1] = deviceName;
      names[at + 2] = undefined;
      names[at + 3] = -1;
      this.batch.names.push(device, user, deviceName);
      return true;
    }
    return known === user && names[at + 1] === deviceName;
  }

  /** The conversation's number, for a device `named` has accepted: its row's when it named the same one last. */
  private deviceConvId(device: number, name: string): number {
    const names = this.namesOf;
    const at = 4 * device + 2;
    if (names[at] === name) return names[at + 1] as number;
    const id = this.convId(name);
    names[at] = name;
    names[at + 1] = id;
    return id;
  }

  /** The conversation's number (told to the reader the first time). */
  private convId(name: string): number {
    return this.numbered(this.lastConv, name);
  }

  /** The node's number: numbered with the conversations, remembered apart from them. */
  private nodeId(name: string): number {
    return this.numbered(this.lastNode, name);
  }

  /** The name's number: `last`'s when it is the name last looked up there, else the Map's. */
  private numbered(last: LastNumbered, name: string): number {
    if (name !== last.name) {
      last.name = name;
      last.id = this.numberOf(name);
    }
    return last.id;
  }

  /** The conversation's (or node's) number, told to the reader the first time. */
  private numberOf(name: string): number {
    let id = this.convIds.get(name);
    if (id === undefined) {
      id = this.convIds.size;
      this.convIds.set(name, id);
      this.batch.convs.push(name);
    }
    return id;
  }

  private fresh(): HistoryBatch {
    return {
      count: 0,
      shapes: new Uint8Array(this.capacity),
      devices: new Int32Array(this.capacity),
      at: new Float64Array(this.capacity),
      codes: new Uint8Array(this.capacity),
      conv: new Int32Array(this.capacity),
      seq: new Int32Array(this.capacity),
      extra: new Float64Array(this.capacity),
      objects: [],
      names: [],
      convs: [],
      layouts: [],
      ticks: [],
    };
  }
}

/**
 * Rebuilds an event sent by its layout: `make(at, namesOf, nameAt, objects, next, convOf)` gives the
 * event, its fields in the layout's order; it read `values` values of `objects` from `next` on.
 */
type LayoutBuilder = {
  make: (
    at: number,
    namesOf: readonly string[],
    nameAt: number,
    objects: readonly unknown[],
    next: number,
    convOf: readonly string[],
  ) => HistoryEvent;
  values: number;
};

/**
 * The maker of a layout's events (`layout`: the kind, then the field names in order) for one code:
 * compiled from an object literal, so every event of a layout gets one shape at once. A field name
 * goes in quoted by JSON.stringify. An own field named `__proto__` (a parsed frame's, say) stays an own
 * field, as the event held it in-process: the field-by-field rebuild's store set the prototype instead.
 */
function layoutBuilder(layout: readonly string[], code: number): LayoutBuilder {
  const omitted = (code & namesLeftOut) !== 0;
  const convNumbered = (code & convByNumber) !== 0;
  const fields: string[] = [];
  let values = 0;
  for (let f = 1; f < layout.length; f++) {
    const key = layout[f]!;
    let value: string;
    if (key === 'k') value = JSON.stringify(layout[0]);
    else if (key === 'at') value = 'at';
    else if (omitted && key === 'user') value = 'namesOf[nameAt]';
    else if (omitted && key === 'device') value = 'namesOf[nameAt + 1]';
    else if (convNumbered && key === 'conv') value = `convOf[objects[next + ${values++}]]`;
    else value = `objects[next + ${values++}]`;
    // `__proto__: v` in a literal would set the prototype: computed, it is an own field, as it was.
    fields.push(key === '__proto__' ? `['__proto__']: ${value}` : `${JSON.stringify(key)}: ${value}`);
  }
  const make = new Function(
    'at',
    'namesOf',
    'nameAt',
    'objects',
    'next',
    'convOf',
    `return { ${fields.join(', ')} };`,
  ) as LayoutBuilder['make'];
  return { make, values };
}

export class HistoryBatchReader {
  /** Each device number's user at 2n and device at 2n + 1 (as the writer's namesOf). */
  private readonly namesOf: string[] = [];
  private readonly convOf: string[] = [];
  /** By conversation number: the message last given in full (the writer's lastMessage). */
  private readonly lastMessage: Message[] = [];
  /** By layout number: the event kind, then the field names in order. */
  private readonly layouts: string[][] = [];

  /**
   * By layout number * 4 + its code's flags (names left out, conv by number): the event's maker, made
   * once per layout and code. Events by layout were rebuilt field by field (a keyed store per field
   * into an object growing its shape one field at a time; the reader was 6.9% of the checker thread at
   * 100k clients); the maker is one object literal with the layout's fields in order.
   */
  private readonly builders: (LayoutBuilder | undefined)[] = [];

  /** The user a device number was told to name. */
  userOf(device: number): string {
    return this.namesOf[2 * device]!;
  }

  /** The device name a device number was told to name. */
  deviceNameOf(device: number): string {
    return this.namesOf[2 * device + 1]!;
  }

  private builderOf(layoutId: number, code: number): LayoutBuilder {
    const at = 4 * layoutId + (code & (namesLeftOut | convByNumber));
    let builder = this.builders[at];
    if (builder === undefined) {
      builder = layoutBuilder(this.layouts[layoutId]!, code);
      growTo(this.builders, at);
      this.builders[at] = builder;
    }
    return builder;
  }

  /**
   * Calls `take` with each event of the batch, rebuilt, in order, and its device number; and `tick` with
   * each of the clock's ticks, between the events it came between.
   */
  read(
    batch: HistoryBatch,
    take: (event: HistoryEvent, device: number) => void,
    tick?: (nowMs: number, events: number) => void,
  ): void {
    const { names, shapes, devices, at, codes, objects, ticks } = batch;
    const namesOf = this.namesOf;
    for (let i = 0; i < names.length; i += 3) {
      const slot = 2 * (names[i] as number);
      growTo(namesOf, slot);
      namesOf[slot] = names[i + 1] as string;
      namesOf[slot + 1] = names[i + 2] as string;
    }
    for (const name of batch.convs) this.convOf.push(name);
    for (const layout of batch.layouts) this.layouts.push(layout);
    let next = 0;
    let nextTick = 0;
    for (let i = 0; i < batch.count; i++) {
      for (; nextTick < ticks.length && ticks[nextTick] === i; nextTick += 3)
        tick?.(ticks[nextTick + 1]!, ticks[nextTick + 2]!);
      const device = devices[i]!;
      const shape = shapes[i];
      if (shape === asIs) {
        take(objects[next++] as HistoryEvent, device);
        continue;
      }
      const code = codes[i]!;
      if (shape === byLayout) {
        const build = this.builderOf(batch.conv[i]!, code);
        take(build.make(at[i]!, namesOf, 2 * device, objects, next, this.convOf), device);
        next += build.values;
        continue;
      }
      const user = namesOf[2 * device]!;
      const deviceName = namesOf[2 * device + 1]!;
      const convId = batch.conv[i]!;
      if (shape === display) {
        let message: Message;
        if (code & messageFollows) {
          message = {
            conv: this.convOf[convId]!,
            seq: batch.seq[i]!,
            from: objects[next] as string,
            cmid: objects[next + 1] as string,
            body: objects[next + 2] as string,
            ts: batch.extra[i]!,
          };
          next += 3;
          growTo(this.lastMessage, convId);
          this.lastMessage[convId] = message;
        } else message = this.lastMessage[convId]!;
        take({ k: 'display', at: at[i]!, via: vias[code & 3]!, message, user, device: deviceName }, device);
        continue;
      }
      const conv = this.convOf[convId]!;
      const t = frameTypes[code & 15]!;
      const seqs =
        code & hasSeqs ? (code & oneSeq ? [batch.seq[i]!] : (objects[next++] as number[])) : undefined;
      const nodeId = batch.extra[i]!;
      const node = code & hasNode && nodeId >= 0 ? this.convOf[nodeId] : undefined;
      // The fields in the order the client records them.
      const event: HistoryEvent & { k: 'conv-frame' } =
        code & hasSeqs
          ? code & hasNode
            ? { k: 'conv-frame', at: at[i]!, conv, t, seqs, node, user, device: deviceName }
            : { k: 'conv-frame', at: at[i]!, conv, t, seqs, user, device: deviceName }
          : code & hasNode
            ? { k: 'conv-frame', at: at[i]!, conv, t, node, user, device: deviceName }
            : { k: 'conv-frame', at: at[i]!, conv, t, user, device: deviceName };
      if (code & hasOf) event.of = objects[next++] as string | undefined;
      take(event, device);
    }
    for (; nextTick < ticks.length; nextTick += 3) tick?.(ticks[nextTick + 1]!, ticks[nextTick + 2]!);
  }
}
