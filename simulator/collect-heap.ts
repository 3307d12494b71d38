// One full collection of the calling thread's heap, on demand: what the world's thread does once it has
// released the world (World.release), before the final state crosses to the checker thread. The world's
// thread then allocates little, so no full collection came: its dead clients, cores, events and their
// typed-array columns (outside V8's heap, freed only with the objects that own them) stayed in the RSS
// while the final state crossed and the checker thread judged, and the crossing's own allocations grew
// the world's committed heap further instead of reusing the room the dead left. That stack was the run's
// peak (docs/benchmarks.md: speed19, speed20). Not a compacting collection: compaction copies what is
// live to new pages before the old ones go back, and that copy became the peak (speed19). Outside the
// simulation: it cannot move the trace hash.

import { setFlagsFromString } from 'node:v8';
import { runInNewContext } from 'node:vm';

let collect: (() => void) | null = null;
let collections = 0;

/** How many collections this thread asked for here (a run with the checkers on their thread: one). */
export function heapCollections(): number {
  return collections;
}

/** One full (mark-sweep) collection of this thread's heap, now; no `--expose-gc` needed. */
export function collectHeap(): void {
  if (collect === null) {
    // A context made after the flag is set gets V8's `gc`; the flag exposes it nowhere else.
    setFlagsFromString('--expose-gc');
    collect = runInNewContext('gc') as () => void;
  }
  collect();
  collections++;
}
