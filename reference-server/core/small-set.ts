// A set that is its one value while it holds one, a plain array while small and a `Set` once it grows:
// most of the core's per-user and per-connection sets (a connection's watched users, a user's watchers,
// a user's conversations) hold one entry, where a `Set` costs about 160 bytes of hash table, an array
// of one 56 and the value itself nothing more (about 14 MiB at 100,000 users, docs/benchmarks.md).
// Invariant: iteration order is a `Set`'s (insertion order; a value deleted and added again goes last),
// whichever form it has, so frames fan out in the same order either way. Values are strings or numbers,
// so the one-value form is told apart from the others by not being an object.

export type SmallSet<T extends string | number> = T | T[] | Set<T>;

/** Past this many entries the array becomes a `Set` (linear scans stop paying). */
const smallSetArrayMax = 8;

const none: readonly never[] = Object.freeze([]);

/** `set` with `value` added: the same container when it held `value` or is a `Set`, else a new one (assign it back). */
export function smallSetAdd<T extends string | number>(set: SmallSet<T> | null, value: T): SmallSet<T> {
  if (set === null) return value;
  if (typeof set !== 'object') return set === value ? set : [set, value];
  if (!Array.isArray(set)) return set.add(value);
  if (set.includes(value)) return set;
  // A new array one longer, not a push: push grows a full array to 17 slots at least, and most of
  // these sets never pass two entries.
  if (set.length < smallSetArrayMax) return set.concat(value);
  const grown = new Set(set);
  grown.add(value);
  return grown;
}

export function smallSetHas<T extends string | number>(set: SmallSet<T> | null, value: T): boolean {
  if (set === null) return false;
  if (typeof set !== 'object') return set === value;
  return Array.isArray(set) ? set.includes(value) : set.has(value);
}

/** `set` without `value` (an array or `Set` changed in place; the one value gone: null): assign it back. */
export function smallSetDelete<T extends string | number>(
  set: SmallSet<T> | null,
  value: T,
): SmallSet<T> | null {
  if (set === null) return null;
  if (typeof set !== 'object') return set === value ? null : set;
  if (!Array.isArray(set)) {
    set.delete(value);
    return set;
  }
  const at = set.indexOf(value);
  if (at >= 0) set.splice(at, 1);
  return set;
}

export function smallSetSize<T extends string | number>(set: SmallSet<T> | null): number {
  if (set === null) return 0;
  if (typeof set !== 'object') return 1;
  return Array.isArray(set) ? set.length : set.size;
}

/** The values, in order, to iterate (never mutate it: it may be the set itself). */
export function smallSetValues<T extends string | number>(set: SmallSet<T> | null): Iterable<T> {
  if (set === null) return none;
  return typeof set !== 'object' ? [set] : set;
}
