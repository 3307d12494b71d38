// Membership spans as text, the way the Redis and Cassandra stores keep them in one field per member:
// "from:to,from:to", `to` '-' while the span is open (a current member's text ends in ':-').

import type { MembershipSpan } from './message-store.ts';

export function parseSpans(text: string): MembershipSpan[] {
  return text.split(',').map((span) => {
    const [from, to] = span.split(':');
    return { from: Number(from), to: to === '-' ? null : Number(to) };
  });
}

export function isCurrentSpan(text: string | undefined): boolean {
  return text?.endsWith(':-') === true;
}
