// A set that is a plain array while small and a `Set` once it grows: most of the core's per-user and
// per-connection sets (a connection's watched users, a user's watchers, a user's conversations) hold
// one or two entries, where a `Set` costs about 160 bytes of hash table and an array of one 24.
// Invariant: iteration order is a `Set`'s (insertion order; a value deleted and added again goes last),
// whichever form it has, so frames fan out in the same order either way.

export type SmallSet<T> = T[] | Set<T>;

/** Past this many entries the array becomes a `Set` (linear scans stop paying). */
const smallSetArrayMax = 8;

/** `set` with `value` added: the same container when it held `value` or is a `Set`, else a new one (assign it back). */
export function smallSetAdd<T>(set: SmallSet<T> | null, value: T): SmallSet<T> {
  if (set === null) return [value];
  if (!Array.isArray(set)) return set.add(value);
  if (set.includes(value)) return set;
  // A new array one longer, not a push: push grows a full array to 17 slots at least, and most of
  // these sets never pass two entries.
  if (set.length < smallSetArrayMax) return set.concat(value);
  const grown = new Set(set);
  grown.add(value);
  return grown;
}

export function smallSetHas<T>(set: SmallSet<T> | null, value: T): boolean {
  if (set === null) return false;
  return Array.isArray(set) ? set.includes(value) : set.has(value);
}

/** Removes `value` (in place); does nothing when absent. */
export function smallSetDelete<T>(set: SmallSet<T> | null, value: T): void {
  if (set === null) return;
  if (!Array.isArray(set)) {
    set.delete(value);
    return;
  }
  const at = set.indexOf(value);
  if (at >= 0) set.splice(at, 1);
}

export function smallSetSize<T>(set: SmallSet<T> | null): number {
  if (set === null) return 0;
  return Array.isArray(set) ? set.length : set.size;
}
