// What a checker keeps of the messages it judged against a read during the run and then forgot
// (Checker.checkpoint): the final read must still show each of them as that read did, or a message
// acked, read back and then lost to a later crash would pass. Per (conv, block of 32 seqs) and per lane
// (what the checker judged: acked seqs, seqs whose body it knew, ...): which seqs it covers and an
// order-free digest of their hashes. About a bit and a half per message, where the per-message state it
// replaces was tens of bytes. A change is located to its block, a loss to its seq; a digest misses a
// change with odds of 2^-32 per block, as the checkers' 32-bit hashes of cmids and bodies do. A block
// that lost a seq cannot say whether its other seqs changed too: the loss is reported (durable-ack, for
// an acked seq), a second change in those 32 seqs may not be.

import type { Message } from '../../reference-server/protocol/frames.ts';
import { fmix32 } from '../kernel/prng.ts';
import { float64Column, uint32Column } from './column.ts';
import { SlotTable } from './slot-table.ts';
import { hash32, keyText } from './string-hash.ts';

const blockBits = 5;
const blockSeqs = 1 << blockBits;

/** What the final read shows against one block of a lane. */
export type ReadBackMismatch = {
  conv: number;
  /** The block's first and last seq. */
  lo: number;
  hi: number;
  /** When the run read these seqs (run clock, ms). */
  readAt: number;
  /** Seqs of the lane the final read no longer has. */
  missing: number[];
  /** The lane's other seqs hash otherwise now (undefined: not comparable, some are missing). */
  changed: boolean | undefined;
};

export class ReadBack {
  private readonly blocks = new SlotTable();
  private readonly masks: ReturnType<typeof uint32Column>[];
  private readonly digests: ReturnType<typeof uint32Column>[];
  private readonly readAt = float64Column();
  private folded = 0;

  constructor(lanes: number) {
    this.masks = Array.from({ length: lanes }, () => uint32Column());
    this.digests = Array.from({ length: lanes }, () => uint32Column());
  }

  /** Seqs folded in so far, over all lanes. */
  get count(): number {
    return this.folded;
  }

  /** (conv, seq) was judged against a read at `at` and dropped; `lane` remembers it with `hash`. */
  fold(conv: number, seq: number, lane: number, hash: number, at: number): void {
    const block = this.blocks.intern(conv, seq >>> blockBits);
    const bit = 1 << (seq & (blockSeqs - 1));
    const mask = this.masks[lane]!;
    if ((mask.get(block) & bit) !== 0) return;
    mask.set(block, (mask.get(block) | bit) >>> 0);
    this.digests[lane]!.set(block, (this.digests[lane]!.get(block) ^ seqHash(seq, hash)) >>> 0);
    if (at > this.readAt.get(block)) this.readAt.set(block, at);
    this.folded++;
  }

  has(conv: number, seq: number, lane: number): boolean {
    const block = this.blocks.find(conv, seq >>> blockBits);
    return block >= 0 && (this.masks[lane]!.get(block) & (1 << (seq & (blockSeqs - 1)))) !== 0;
  }

  /**
   * Compares every block of `lane` with the final read: `hashOf` gives a seq's hash there (undefined:
   * the final read has no such seq); `report` hears each block that does not match.
   */
  verify(
    lane: number,
    hashOf: (conv: number, seq: number) => number | undefined,
    report: (mismatch: ReadBackMismatch) => void,
  ): void {
    const masks = this.masks[lane]!;
    for (let block = 0; block < this.blocks.size; block++) {
      const mask = masks.get(block);
      if (mask === 0) continue;
      const conv = this.blocks.keyA(block);
      const lo = this.blocks.keyB(block) << blockBits;
      const missing: number[] = [];
      let digest = 0;
      for (let bit = 0; bit < blockSeqs; bit++) {
        if ((mask & (1 << bit)) === 0) continue;
        const hash = hashOf(conv, lo + bit);
        if (hash === undefined) missing.push(lo + bit);
        else digest = (digest ^ seqHash(lo + bit, hash)) >>> 0;
      }
      const changed = missing.length > 0 ? undefined : digest !== this.digests[lane]!.get(block);
      if (missing.length > 0 || changed === true)
        report({ conv, lo, hi: lo + blockSeqs - 1, readAt: this.readAt.get(block), missing, changed });
    }
  }
}

/** One seq's share of a block digest: its hash bound to its seq, so two seqs cannot swap unnoticed. */
function seqHash(seq: number, hash: number): number {
  return fmix32(Math.imul(seq, 0x9e3779b1) ^ fmix32(hash));
}

/** A message's sender and cmid, as one hash (what an ack names). */
export function identityHash(message: Message): number {
  return hash32(keyText(message.from, message.cmid));
}
