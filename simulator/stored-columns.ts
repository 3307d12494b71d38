// The final store content as columns, for its crossing to the checker thread (checker-thread.ts): one
// string holding every message's cmid and body back to back, their ends, each message's sender as a
// number into the part's list of senders, and each message's seq and ts in typed arrays, instead of one
// object per message. At a million clients the store holds about
// 1.2 M messages: cloned as objects the thread rebuilt every one (an object and three strings each) and
// kept them all until the verdicts, at the run's end, while the world's heap was still whole. Here the
// thread keeps the columns and builds a message only when a checker asks for it (young garbage).
// A sender is one string on the thread, whichever part or message names it: the store-reading final
// judgements look every stored message's sender up by name (agreement, durable-ack, idempotency), and
// a string looked up before keeps its hash, where a slice of the text was a new string each time.
// A message of any other shape (a broken store's: another conversation's id, extra or missing fields)
// crosses as the object itself, so the checkers read exactly what the store answered.

import type { Message } from '../reference-server/protocol/frames.ts';
import { digestOf, type StoredDigest } from './checkers/stored-digest.ts';
import { PieceHash } from './checkers/string-hash.ts';

/** What the columns are read from: the store's answers in its final read. */
export type StoredSource = {
  lastSeq(conv: string): number;
  messageAt(conv: string, seq: number): Message | undefined;
};

/** Conversations of the store as columns (what crosses). */
export type StoredPart = {
  convs: string[];
  lastSeqs: Float64Array;
  /** Conversation i's messages are slots starts[i] .. starts[i + 1] - 1, slot = first + seq - 1. */
  starts: Int32Array;
  /** Per slot: absent, in the columns, or the next of `odd`. */
  shapes: Uint8Array;
  seqs: Float64Array;
  ts: Float64Array;
  /** Per slot of a plain message: its sender's index in `senders`. */
  senderAt: Int32Array;
  /** The part's senders, each once, in the order first stored. */
  senders: string[];
  /** Per slot, two: where its cmid and body end in `text` (each starts where the one before ended). */
  ends: Int32Array;
  text: string;
  /** Messages not of the plain shape, in slot order. */
  odd: Message[];
  /** Per slot of shape `odd`: its index in `odd`. */
  oddAt: Int32Array;
};

const absent = 0;
const plain = 1;
const odd = 2;

/** The fields of a plain message, in the order the store makes them. */
const plainKeys = ['conv', 'seq', 'from', 'cmid', 'body', 'ts'];

function isPlain(message: Message, conv: string): boolean {
  if (message.conv !== conv) return false;
  if (typeof message.seq !== 'number' || typeof message.ts !== 'number') return false;
  if (
    typeof message.from !== 'string' ||
    typeof message.cmid !== 'string' ||
    typeof message.body !== 'string'
  )
    return false;
  const keys = Object.keys(message);
  if (keys.length !== plainKeys.length) return false;
  for (let i = 0; i < keys.length; i++) if (keys[i] !== plainKeys[i]) return false;
  return true;
}

/**
 * Conversations of the store as one part of columns, read straight from the store: each one's seqs from
 * 1 to its lastSeq, and past lastSeq as long as the store still answers (a broken store may hold more
 * than it says). Nothing is built per message on the way: at a million clients the whole store was first
 * copied into an array per conversation, with the world still whole.
 */
export function encodeStored(convs: readonly string[], store: StoredSource): StoredPart {
  const lastSeqs = new Float64Array(convs.length);
  const starts = new Int32Array(convs.length + 1);
  let slots = 0;
  for (let i = 0; i < convs.length; i++) {
    const conv = convs[i]!;
    const lastSeq = store.lastSeq(conv);
    // Seqs 1..lastSeq (a broken store's lastSeq may be no whole number), then what it still answers.
    let seqs = lastSeq >= 1 ? Math.floor(lastSeq) : 0;
    while (store.messageAt(conv, seqs + 1) !== undefined) seqs++;
    lastSeqs[i] = lastSeq;
    starts[i] = slots;
    slots += seqs;
  }
  starts[convs.length] = slots;
  const part: StoredPart = {
    convs: [...convs],
    lastSeqs,
    starts,
    shapes: new Uint8Array(slots),
    seqs: new Float64Array(slots),
    ts: new Float64Array(slots),
    senderAt: new Int32Array(slots).fill(-1),
    senders: [],
    ends: new Int32Array(2 * slots),
    text: '',
    odd: [],
    oddAt: new Int32Array(slots).fill(-1),
  };
  const texts: string[] = [];
  const senderIndex = new Map<string, number>();
  let end = 0;
  for (let i = 0; i < convs.length; i++) {
    const conv = convs[i]!;
    for (let slot = starts[i]!, seq = 1; slot < starts[i + 1]!; slot++, seq++) {
      const message = store.messageAt(conv, seq);
      if (message === undefined) part.shapes[slot] = absent;
      else if (isPlain(message, conv)) {
        part.shapes[slot] = plain;
        part.seqs[slot] = message.seq;
        part.ts[slot] = message.ts;
        let sender = senderIndex.get(message.from);
        if (sender === undefined) {
          sender = part.senders.length;
          senderIndex.set(message.from, sender);
          part.senders.push(message.from);
        }
        part.senderAt[slot] = sender;
        texts.push(message.cmid, message.body);
        part.ends[2 * slot] = end += message.cmid.length;
        part.ends[2 * slot + 1] = end += message.body.length;
        continue;
      } else {
        part.shapes[slot] = odd;
        part.oddAt[slot] = part.odd.length;
        part.odd.push(message);
      }
      part.ends.fill(end, 2 * slot, 2 * slot + 2);
    }
  }
  part.text = texts.join('');
  return part;
}

/** What a part's typed arrays hold: moved, not copied, when it crosses. */
export function storedTransfer(part: StoredPart): ArrayBuffer[] {
  return [
    part.lastSeqs,
    part.starts,
    part.shapes,
    part.seqs,
    part.ts,
    part.senderAt,
    part.ends,
    part.oddAt,
  ].map((array) => array.buffer as ArrayBuffer);
}

/** Per slot of a part, five words of its digest (stored-digest.ts), in this order. */
const digestWords = 5;
const cmidWord = 0;
const bodyWord = 1;
const identityWord = 2;
const keyAWord = 3;
const keyBWord = 4;
/** Between the parts of an identity or idempotency key (keyText's separator). */
const keySeparator = '\u0000';

/**
 * The digests of a part's plain messages, hashed in place in its text: each message once, as the part
 * arrives (the thread would otherwise idle while the world encodes the next one), instead of once per
 * store-reading judgement at the end. A slot of another shape is digested from its message when asked.
 */
function digestPart(part: StoredPart): Uint32Array {
  const digests = new Uint32Array(digestWords * part.shapes.length);
  const pieces = new PieceHash();
  const { text, ends } = part;
  for (let i = 0; i < part.convs.length; i++) {
    const conv = part.convs[i]!;
    for (let slot = part.starts[i]!; slot < part.starts[i + 1]!; slot++) {
      if (part.shapes[slot] !== plain) continue;
      const from = part.senders[part.senderAt[slot]!]!;
      const start = slot === 0 ? 0 : ends[2 * slot - 1]!;
      const cmidEnd = ends[2 * slot]!;
      const at = digestWords * slot;
      digests[at + cmidWord] = pieces.clear().add(text, start, cmidEnd).hash32();
      digests[at + bodyWord] = pieces
        .clear()
        .add(text, cmidEnd, ends[2 * slot + 1])
        .hash32();
      digests[at + identityWord] = pieces
        .clear()
        .add(from)
        .add(keySeparator)
        .add(text, start, cmidEnd)
        .hash32();
      pieces.clear().add(from).add(keySeparator).add(conv).add(keySeparator).add(text, start, cmidEnd);
      digests[at + keyAWord] = pieces.hash32();
      digests[at + keyBWord] = pieces.hash32b();
    }
  }
  return digests;
}

/** The thread's side: the parts as they came, read by conversation and seq. */
export class StoredColumns {
  private readonly parts: StoredPart[] = [];
  /** Per part: its digests (digestPart). */
  private readonly digests: Uint32Array[] = [];
  /** conv -> part number * 2^21 + conversation index in it (parts hold at most 4,096 conversations each). */
  private readonly where = new Map<string, number>();
  /** Every sender of every part as one string (each part's clone made its own copies). */
  private readonly senders = new Map<string, string>();
  /**
   * The last conversation looked up and where it is: the final judgements walk the store a
   * conversation at a time (a message, then its lastSeq, then the next seq), with the same string.
   */
  private lastConv: string | undefined = undefined;
  private lastAt: number | undefined = undefined;
  /** The part slotOf found its slot in. */
  private foundPart = 0;

  add(part: StoredPart): void {
    const number = this.parts.length;
    if (part.convs.length >= 2 ** 21) throw new Error('a stored part holds at most 2^21 conversations');
    for (let i = 0; i < part.senders.length; i++) {
      const sender = part.senders[i]!;
      const known = this.senders.get(sender);
      if (known === undefined) this.senders.set(sender, sender);
      else part.senders[i] = known;
    }
    this.parts.push(part);
    this.digests.push(digestPart(part));
    for (let i = 0; i < part.convs.length; i++) this.where.set(part.convs[i]!, number * 2 ** 21 + i);
    this.lastConv = undefined;
  }

  lastSeq(conv: string): number {
    const at = this.whereOf(conv);
    if (at === undefined) return 0;
    return this.parts[Math.floor(at / 2 ** 21)]!.lastSeqs[at % 2 ** 21]!;
  }

  message(conv: string, seq: number): Message | undefined {
    const slot = this.slotOf(conv, seq);
    if (slot < 0) return undefined;
    const part = this.parts[this.foundPart]!;
    const shape = part.shapes[slot];
    if (shape === absent) return undefined;
    if (shape === odd) return part.odd[part.oddAt[slot]!];
    const start = slot === 0 ? 0 : part.ends[2 * slot - 1]!;
    const ends = part.ends;
    return {
      conv,
      seq: part.seqs[slot]!,
      from: part.senders[part.senderAt[slot]!]!,
      cmid: part.text.slice(start, ends[2 * slot]),
      body: part.text.slice(ends[2 * slot], ends[2 * slot + 1]),
      ts: part.ts[slot]!,
    };
  }

  /** The message at (conv, seq) as the store-reading judgements compare it (stored-digest.ts). */
  digest(conv: string, seq: number): StoredDigest | undefined {
    const slot = this.slotOf(conv, seq);
    if (slot < 0) return undefined;
    const part = this.parts[this.foundPart]!;
    const shape = part.shapes[slot];
    if (shape === absent) return undefined;
    if (shape === odd) return digestOf(part.odd[part.oddAt[slot]!]!, conv);
    const digests = this.digests[this.foundPart]!;
    const word = digestWords * slot;
    return {
      from: part.senders[part.senderAt[slot]!]!,
      cmid: digests[word + cmidWord]!,
      body: digests[word + bodyWord]!,
      identity: digests[word + identityWord]!,
      keyA: digests[word + keyAWord]!,
      keyB: digests[word + keyBWord]!,
    };
  }

  /** (conv, seq)'s slot in its part, which `foundPart` then names; -1 if no part has that seq. */
  private slotOf(conv: string, seq: number): number {
    const at = this.whereOf(conv);
    if (at === undefined || !Number.isInteger(seq) || seq < 1) return -1;
    this.foundPart = Math.floor(at / 2 ** 21);
    const part = this.parts[this.foundPart]!;
    const index = at % 2 ** 21;
    const slot = part.starts[index]! + seq - 1;
    return slot < part.starts[index + 1]! ? slot : -1;
  }

  private whereOf(conv: string): number | undefined {
    if (conv !== this.lastConv) {
      this.lastConv = conv;
      this.lastAt = this.where.get(conv);
    }
    return this.lastAt;
  }
}
