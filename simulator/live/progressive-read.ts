// Reads the black box as the run goes, so a long run's checkers need not keep every message for the
// final read (issue #6: "a live run can soak ... memory flat"). Every interval it reads, through
// protocol.md's HTTP message reads, each conversation's seqs that were acked at least one interval ago
// and not read before, and hands what it found to the checkers (Checker.checkpoint), which judge those
// seqs and drop their state for them. A read that fails is no verdict and loses nothing: the seqs it
// would have covered stay with the checkers and are judged against the final read, as without it.

import type { Message } from '../../reference-server/protocol/frames.ts';
import type { Checker, StoreRead } from '../history.ts';
import type { AdminApi } from './admin-api.ts';
import { memorySink, readConversation } from './final-read.ts';
import type { TokenCache } from './hs256.ts';
import { liveLimits } from './limits.ts';

export type ProgressiveReadContext = {
  api: AdminApi;
  tokens: TokenCache;
  /** conv -> every user who was ever a member, in the order they joined. */
  readers(): ReadonlyMap<string, readonly string[]>;
  /** conv -> the highest seq acked so far (as the history has it). */
  ackedUpTo: ReadonlyMap<string, number>;
  checkers: readonly Checker[];
  /** The run clock. */
  now(): number;
  log(line: string): void;
};

export type ProgressiveReadFacts = {
  /** Reads handed to the checkers, and the seqs they held. */
  checkpoints: number;
  seqs: number;
  requests: number;
  /** Conversation reads that failed (their seqs wait for the final read). */
  failures: number;
};

export class ProgressiveReads {
  /** conv -> the last seq a read covered. */
  private readonly readUpTo = new Map<string, number>();
  /** ackedUpTo as it stood at the previous tick: what the next tick reads. */
  private horizon = new Map<string, number>();
  private timer: NodeJS.Timeout | null = null;
  private reading: Promise<void> | null = null;
  private stopped = false;
  readonly facts: ProgressiveReadFacts = { checkpoints: 0, seqs: 0, requests: 0, failures: 0 };

  constructor(private readonly context: ProgressiveReadContext) {}

  start(everyMs: number = liveLimits.progressiveReadEveryMs): void {
    this.horizon = new Map(this.context.ackedUpTo);
    this.timer = setInterval(() => {
      if (this.reading === null) this.reading = this.tick().finally(() => (this.reading = null));
    }, everyMs);
  }

  /** No more reads; a read in flight is dropped, not handed to the checkers. */
  stop(): void {
    this.stopped = true;
    if (this.timer !== null) clearInterval(this.timer);
    this.timer = null;
  }

  /** One read of what the previous tick's horizon covers; then the horizon moves to now's acks. */
  async tick(): Promise<void> {
    const { api, tokens, checkers } = this.context;
    const at = this.context.now();
    const readers = this.context.readers();
    const targets = [...this.horizon].filter(([conv, upTo]) => upTo > (this.readUpTo.get(conv) ?? 0));
    this.horizon = new Map(this.context.ackedUpTo);
    const conversations = new Map<string, ReadonlyMap<number, Message>>();
    let seqs = 0;
    let failures = 0;
    let requests = 0;
    let next = 0;
    const worker = async (): Promise<void> => {
      while (next < targets.length && !this.stopped) {
        const [conv, upTo] = targets[next++]!;
        const from = (this.readUpTo.get(conv) ?? 0) + 1;
        const stored = memorySink();
        try {
          await readConversation(api, tokens, conv, readers.get(conv) ?? [], stored, from, upTo);
        } catch {
          failures++;
          continue;
        } finally {
          requests += stored.reads;
        }
        this.readUpTo.set(conv, upTo);
        conversations.set(conv, stored.messages);
        seqs += stored.messages.size;
      }
    };
    await Promise.all(Array.from({ length: liveLimits.progressiveReadConcurrency }, worker));
    if (this.stopped) return;
    this.facts.requests += requests;
    this.facts.failures += failures;
    if (failures > 0)
      this.context.log(
        `a read during the run failed for ${failures} conversation(s): their seqs wait for the final read`,
      );
    if (conversations.size === 0) return;
    const read: StoreRead = { at, conversations };
    for (const checker of checkers) checker.checkpoint?.(read);
    this.facts.checkpoints++;
    this.facts.seqs += seqs;
  }
}
