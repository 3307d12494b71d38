// The final read of a live run, kept on disk rather than in the driver's heap (issue #6: a soak's memory
// stays flat whatever the run's length). Each message read is appended to a records file as JSON; when a
// conversation's read is done its index (16 bytes per seq: record offset and length) goes to an index
// file, and memory keeps only the conversation's lastSeq and where its index starts. The checkers see
// the same FinalState as before (storedMessage parses the record again on each call), so their verdicts
// do not change; a read in progress holds one conversation's index per reader. Files live in a private
// temporary directory that close() removes.

import { closeSync, mkdtempSync, openSync, readSync, rmSync, writeSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Message } from '../../reference-server/protocol/frames.ts';
import { grown } from '../kernel/typed-arrays.ts';
import type { ConversationSink } from './final-read.ts';
import { liveLimits } from './limits.ts';

const slotBytes = 16;

type Indexed = { lastSeq: number; indexAt: number; slots: number };

export class SpilledStore {
  private readonly dir: string;
  private readonly records: number;
  private readonly index: number;
  private recordsEnd = 0;
  private indexEnd = 0;
  private readonly indexed = new Map<string, Indexed>();
  private closed = false;
  /** One index page cached: checkers walk a conversation's seqs in order. */
  private cache: { indexAt: number; first: number; slots: DataView } | null = null;
  private readonly slot = new DataView(new ArrayBuffer(slotBytes));

  constructor(parent: string = tmpdir()) {
    this.dir = mkdtempSync(join(parent, 'chatsim-final-read-'));
    this.records = openSync(join(this.dir, 'records'), 'w+');
    this.index = openSync(join(this.dir, 'index'), 'w+');
  }

  /** A sink for one conversation's read; `done()` moves its index to disk (a conversation is read once). */
  conversation(conv: string): ConversationSink & { done(): void } {
    if (this.indexed.has(conv)) throw new Error(`${conv} was read into this store already`);
    let offsets = new Float64Array(64);
    let lengths = new Uint32Array(64);
    let slots = 0;
    const pending: Buffer[] = [];
    let pendingAt = this.recordsEnd;
    let pendingBytes = 0;
    const flush = (): void => {
      if (pendingBytes === 0) return;
      const bytes = pending.length === 1 ? pending[0]! : Buffer.concat(pending, pendingBytes);
      writeAll(this.records, bytes, pendingAt);
      pending.length = 0;
      pendingBytes = 0;
    };
    const sink = {
      lastSeq: 0,
      reads: 0,
      has: (seq: number): boolean => seq >= 1 && seq <= slots && lengths[seq - 1]! > 0,
      put: (message: Message): void => {
        const seq = message.seq;
        if (!Number.isSafeInteger(seq) || seq < 1 || sink.has(seq)) return;
        if (seq > offsets.length) {
          const size = Math.max(seq, offsets.length * 2);
          offsets = grown(offsets, size);
          lengths = grown(lengths, size);
        }
        const bytes = Buffer.from(JSON.stringify(message));
        if (pendingBytes > 0 && pendingAt + pendingBytes !== this.recordsEnd) flush();
        if (pendingBytes === 0) pendingAt = this.recordsEnd;
        offsets[seq - 1] = this.recordsEnd;
        lengths[seq - 1] = bytes.length;
        this.recordsEnd += bytes.length;
        pending.push(bytes);
        pendingBytes += bytes.length;
        if (seq > slots) slots = seq;
        if (pendingBytes >= liveLimits.spillFlushBytes) flush();
      },
      done: (): void => {
        flush();
        const page = Buffer.alloc(slots * slotBytes);
        for (let i = 0; i < slots; i++) {
          page.writeDoubleLE(offsets[i]!, i * slotBytes);
          page.writeUInt32LE(lengths[i]!, i * slotBytes + 8);
        }
        writeAll(this.index, page, this.indexEnd);
        this.indexed.set(conv, { lastSeq: sink.lastSeq, indexAt: this.indexEnd, slots });
        this.indexEnd += page.length;
      },
    };
    return sink;
  }

  get size(): number {
    return this.indexed.size;
  }

  conversations(): IterableIterator<string> {
    return this.indexed.keys();
  }

  lastSeq(conv: string): number {
    return this.indexed.get(conv)?.lastSeq ?? 0;
  }

  message(conv: string, seq: number): Message | undefined {
    const entry = this.indexed.get(conv);
    if (entry === undefined || !Number.isInteger(seq) || seq < 1 || seq > entry.slots) return undefined;
    const slot = this.slotOf(entry, seq - 1);
    const length = slot.getUint32(8, true);
    if (length === 0) return undefined;
    const bytes = Buffer.alloc(length);
    readAll(this.records, bytes, slot.getFloat64(0, true));
    return JSON.parse(bytes.toString('utf8')) as Message;
  }

  /** Removes the files; the store answers nothing after. */
  close(): void {
    if (this.closed) return;
    this.closed = true;
    this.indexed.clear();
    this.cache = null;
    closeSync(this.records);
    closeSync(this.index);
    rmSync(this.dir, { recursive: true, force: true });
  }

  private slotOf(entry: Indexed, i: number): DataView {
    const perPage = liveLimits.spillIndexPageSlots;
    const first = i - (i % perPage);
    const cache = this.cache;
    if (cache === null || cache.indexAt !== entry.indexAt || cache.first !== first) {
      const count = Math.min(perPage, entry.slots - first);
      const bytes = Buffer.alloc(count * slotBytes);
      readAll(this.index, bytes, entry.indexAt + first * slotBytes);
      this.cache = { indexAt: entry.indexAt, first, slots: new DataView(bytes.buffer, bytes.byteOffset) };
    }
    const at = (i - first) * slotBytes;
    const view = this.cache!.slots;
    this.slot.setFloat64(0, view.getFloat64(at, true), true);
    this.slot.setUint32(8, view.getUint32(at + 8, true), true);
    return this.slot;
  }
}

function writeAll(fd: number, bytes: Buffer, position: number): void {
  let done = 0;
  while (done < bytes.length) done += writeSync(fd, bytes, done, bytes.length - done, position + done);
}

function readAll(fd: number, bytes: Buffer, position: number): void {
  let done = 0;
  while (done < bytes.length) {
    const n = readSync(fd, bytes, done, bytes.length - done, position + done);
    if (n === 0) throw new Error(`the final read's file ended early at ${position + done}`);
    done += n;
  }
}
