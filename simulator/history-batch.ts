// The history as it crosses to the checker thread (checker-thread.ts): copying an event object costs
// the structured clone a key string and a tag per field, and two kinds (`display` and `conv-frame`)
// are two thirds of a big run's events. Those two go packed: their time, device and small codes in
// typed arrays (moved, not copied), their object fields (the message, the conv, the seqs) in one list
// the clone copies once per batch (a message shown on ten devices is written once), and each device's
// names once per run. Every other event, and any that does not fit the packing, goes as it is. The
// reader rebuilds each event with the same fields and values, in the same order as recorded.

import type { Message } from '../reference-server/protocol/frames.ts';
import type { HistoryEvent, Via } from './history.ts';

export type HistoryBatch = {
  count: number;
  /** Per event: 0 as is (in `objects`), 1 a packed display, 2 a packed conv-frame. */
  shapes: Uint8Array;
  /** Per event: the recording client's device number, or -1. */
  devices: Int32Array;
  /** Per packed event: its time. */
  at: Float64Array;
  /** Per packed event: display, its via; conv-frame, its t and which optional fields it has. */
  codes: Uint8Array;
  /** Events as they are, and packed events' object fields, in event order. */
  objects: unknown[];
  /** Devices named for the first time in this batch: device number, user, device, ... */
  names: (number | string)[];
};

const asIs = 0;
const display = 1;
const convFrame = 2;

const vias: readonly Via[] = ['push', 'resume', 'sync', 'own'];
/** conv-frame `t`s packed (low 4 bits of the code); others go as they are. */
const frameTypes: readonly string[] = ['msg', 'batch', 'notify', 'receipt', 'typing'];
const hasSeqs = 1 << 4;
const hasNode = 1 << 5;
const hasOf = 1 << 6;

export class HistoryBatchWriter {
  private batch: HistoryBatch;
  /** Names of each device number seen so far (what the reader has been told). */
  private readonly userOf: string[] = [];
  private readonly deviceOf: string[] = [];

  constructor(private readonly capacity: number) {
    this.batch = this.fresh();
  }

  get count(): number {
    return this.batch.count;
  }

  add(event: HistoryEvent, device: number): void {
    const batch = this.batch;
    const at = batch.count++;
    batch.devices[at] = device;
    if (event.k === 'display' && this.named(event.user, event.device, device)) {
      const via = vias.indexOf(event.via);
      if (via >= 0) {
        batch.shapes[at] = display;
        batch.at[at] = event.at;
        batch.codes[at] = via;
        batch.objects.push(event.message);
        return;
      }
    } else if (event.k === 'conv-frame' && this.named(event.user, event.device, device)) {
      const t = frameTypes.indexOf(event.t);
      if (t >= 0) {
        batch.shapes[at] = convFrame;
        batch.at[at] = event.at;
        const objects = batch.objects;
        objects.push(event.conv);
        let code = t;
        if ('seqs' in event) {
          code |= hasSeqs;
          objects.push(event.seqs);
        }
        if ('node' in event) {
          code |= hasNode;
          objects.push(event.node);
        }
        if ('of' in event) {
          code |= hasOf;
          objects.push(event.of);
        }
        batch.codes[at] = code;
        return;
      }
    }
    batch.shapes[at] = asIs;
    batch.objects.push(event);
  }

  /** The batch so far (its typed arrays to be moved, not copied); the writer starts a new one. */
  take(): { batch: HistoryBatch; transfer: ArrayBuffer[] } {
    const full = this.batch;
    const { count } = full;
    const batch = {
      ...full,
      shapes: full.shapes.slice(0, count),
      devices: full.devices.slice(0, count),
      at: full.at.slice(0, count),
      codes: full.codes.slice(0, count),
    };
    this.batch = this.fresh();
    return {
      batch,
      transfer: [
        batch.shapes.buffer,
        batch.devices.buffer,
        batch.at.buffer,
        batch.codes.buffer,
      ] as ArrayBuffer[],
    };
  }

  /** Whether the device number names this user and device (told to the reader the first time). */
  private named(user: string, deviceName: string, device: number): boolean {
    if (device < 0) return false;
    const known = this.userOf[device];
    if (known === undefined) {
      this.userOf[device] = user;
      this.deviceOf[device] = deviceName;
      this.batch.names.push(device, user, deviceName);
      return true;
    }
    return known === user && this.deviceOf[device] === deviceName;
  }

  private fresh(): HistoryBatch {
    return {
      count: 0,
      shapes: new Uint8Array(this.capacity),
      devices: new Int32Array(this.capacity),
      at: new Float64Array(this.capacity),
      codes: new Uint8Array(this.capacity),
      objects: [],
      names: [],
    };
  }
}

export class HistoryBatchReader {
  private readonly userOf: string[] = [];
  private readonly deviceOf: string[] = [];

  /** Calls `take` with each event of the batch, rebuilt, in order, and its device number. */
  read(batch: HistoryBatch, take: (event: HistoryEvent, device: number) => void): void {
    const { names, shapes, devices, at, codes, objects } = batch;
    for (let i = 0; i < names.length; i += 3) {
      const device = names[i] as number;
      this.userOf[device] = names[i + 1] as string;
      this.deviceOf[device] = names[i + 2] as string;
    }
    let next = 0;
    for (let i = 0; i < batch.count; i++) {
      const device = devices[i]!;
      const shape = shapes[i];
      if (shape === asIs) {
        take(objects[next++] as HistoryEvent, device);
        continue;
      }
      const user = this.userOf[device]!;
      const deviceName = this.deviceOf[device]!;
      if (shape === display) {
        take(
          {
            k: 'display',
            at: at[i]!,
            via: vias[codes[i]!]!,
            message: objects[next++] as Message,
            user,
            device: deviceName,
          },
          device,
        );
        continue;
      }
      const code = codes[i]!;
      const conv = objects[next++] as string;
      const t = frameTypes[code & 15]!;
      const seqs = code & hasSeqs ? (objects[next++] as number[]) : undefined;
      const node = code & hasNode ? (objects[next++] as string | undefined) : undefined;
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
  }
}
