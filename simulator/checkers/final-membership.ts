// Readability judged against FinalState's membership spans, the run's truth about who could read
// which seq (protocol.md guarantee 6). FinalState may build a conversation's map on every call, so the
// last one asked for is kept: callers visit their cases grouped by conversation.

import type { MembershipSpan } from '../../reference-server/store/message-store.ts';
import type { FinalState } from '../history.ts';

const noSpans: readonly MembershipSpan[] = [];

export class FinalMembership {
  private cachedConv: string | undefined;
  private cached: ReadonlyMap<string, readonly MembershipSpan[]> = new Map();

  constructor(private readonly final: FinalState) {}

  /** conv -> the user's spans, in join order. */
  of(conv: string): ReadonlyMap<string, readonly MembershipSpan[]> {
    if (conv !== this.cachedConv) {
      this.cached = this.final.membership(conv);
      this.cachedConv = conv;
    }
    return this.cached;
  }

  spans(conv: string, user: string): readonly MembershipSpan[] {
    return this.of(conv).get(user) ?? noSpans;
  }

  /** Whether any seq in lo..hi (inclusive) is in one of the user's spans. */
  readableIn(conv: string, user: string, lo: number, hi: number): boolean {
    return this.spans(conv, user).some((span) => span.from <= hi && (span.to === null || span.to >= lo));
  }

  canRead(conv: string, user: string, seq: number): boolean {
    return this.readableIn(conv, user, seq, seq);
  }
}
