// Primed answers and the query log of the CQL test server, in the manner of DataStax's Simulacron:
// a test says "when this statement arrives (at this consistency, on this node), answer that" (rows,
// an `[applied]=false`, a read or write timeout, unavailable, a closed connection), and afterwards
// asserts which statements ran, where, at which consistency and serial consistency.

import type { CqlType, CqlValue } from './cql-wire.ts';

export type PrimedError =
  | {
      error: 'read_timeout';
      consistency?: string;
      received?: number;
      blockFor?: number;
      dataPresent?: boolean;
    }
  | { error: 'write_timeout'; consistency?: string; received?: number; blockFor?: number; writeType?: string }
  | { error: 'unavailable'; consistency?: string; required?: number; alive?: number }
  | { error: 'overloaded' | 'server_error' | 'invalid' | 'is_bootstrapping'; message?: string };

export type PrimedAnswer =
  | { rows: Record<string, CqlValue>[]; columns: Record<string, CqlType> }
  | { void: true }
  | { closeConnection: true }
  | PrimedError;

export type Prime = {
  when: {
    /** The statement text (compared with runs of whitespace collapsed) or a pattern. */
    query: string | RegExp;
    /** Fire only for these consistency levels ('QUORUM', 'SERIAL', ...). */
    consistency?: string[];
    /** Fire only on this node (index into contactPoints). */
    node?: number;
  };
  answer: PrimedAnswer & {
    /** Run the statement on the table model first, then answer as primed: a write that landed but
     * whose acknowledgement was lost, the ambiguous case a write timeout really is. */
    applyFirst?: boolean;
    delayMs?: number;
  };
  /** How many times it fires before it is spent (default: every time). */
  times?: number;
};

/** One statement the server received. */
export type RecordedQuery = {
  node: number;
  kind: 'query' | 'prepare' | 'execute' | 'batch';
  query: string;
  consistency: string;
  serialConsistency?: string;
  values: CqlValue[];
  /** Which prime answered it, if any (index in the order primes were added). */
  primed?: number;
};

export function normalizeQuery(query: string): string {
  return query.replace(/\s+/g, ' ').trim();
}

export class PrimeBook {
  private readonly primes: { prime: Prime; left: number; index: number }[] = [];
  private added = 0;

  add(prime: Prime): number {
    const index = this.added++;
    this.primes.push({ prime, left: prime.times ?? Number.POSITIVE_INFINITY, index });
    return index;
  }

  clear(): void {
    this.primes.length = 0;
  }

  /** The first live prime that matches, spending one of its uses. */
  take(query: string, consistency: string, node: number): { prime: Prime; index: number } | undefined {
    const text = normalizeQuery(query);
    for (const entry of this.primes) {
      const { when } = entry.prime;
      if (entry.left <= 0) continue;
      const matches =
        typeof when.query === 'string' ? normalizeQuery(when.query) === text : when.query.test(text);
      if (!matches) continue;
      if (when.consistency !== undefined && !when.consistency.includes(consistency)) continue;
      if (when.node !== undefined && when.node !== node) continue;
      entry.left--;
      return { prime: entry.prime, index: entry.index };
    }
    return undefined;
  }
}
