// A growable typed array indexed by a dense id (a slot of a SlotTable, an IdTable id): the checkers'
// per-entry state lives in columns of numbers rather than objects, a few bytes per entry at any scale.
// Invariant: an index never written reads as the column's fill value.

import { defaultCheckerLimits } from './limits.ts';

type TypedArray = Int32Array | Uint32Array | Float64Array | Uint8Array;
type TypedArrayKind = 'int32' | 'uint32' | 'float64' | 'uint8';

function allocate(kind: TypedArrayKind, length: number): TypedArray {
  switch (kind) {
    case 'int32':
      return new Int32Array(length);
    case 'uint32':
      return new Uint32Array(length);
    case 'float64':
      return new Float64Array(length);
    case 'uint8':
      return new Uint8Array(length);
  }
}

/**
 * What a full column (or a slot table's keys) grows by: an eighth, not double. A column of a million entries
 * grown by doubling held up to twice that (a million clients' 1.2 M messages: 2.1 M entries), and during the
 * copy old and new both live; by an eighth a column holds at most 12.5% room (by a quarter, 25%), for eight
 * copies of each entry over its growth instead of four (typed arrays copy at memory speed).
 */
export const columnGrowth = 1.125;

export class Column {
  protected data: TypedArray;

  constructor(
    private readonly kind: TypedArrayKind,
    protected readonly fill = 0,
    capacity = defaultCheckerLimits.tableEntriesInitial,
    private readonly lengthMax = defaultCheckerLimits.tableEntriesMax,
  ) {
    this.data = allocate(kind, capacity);
    if (fill !== 0) this.data.fill(fill);
  }

  get(index: number): number {
    return index < this.data.length ? this.data[index]! : this.fill;
  }

  set(index: number, value: number): void {
    if (index >= this.data.length) this.grow(index + 1);
    this.data[index] = value;
  }

  /** Moves each entry to its new index after SlotTable.retain (`moves`: old -> new, -1 dropped); the freed tail reads as fill again. */
  compact(moves: Int32Array): void {
    let kept = 0;
    for (let old = 0; old < moves.length; old++) {
      const to = moves[old]!;
      if (to < 0) continue;
      if (old < this.data.length) this.data[to] = this.data[old]!;
      else if (to < this.data.length) this.data[to] = this.fill;
      kept = to + 1;
    }
    const end = Math.min(moves.length, this.data.length);
    if (kept < end) this.data.fill(this.fill, kept, end);
  }

  protected grow(needed: number): void {
    if (needed > this.lengthMax) {
      throw new Error(`checker column needs ${needed} entries, over tableEntriesMax ${this.lengthMax}`);
    }
    let length = Math.ceil(this.data.length * columnGrowth);
    while (length < needed) length = Math.ceil(length * columnGrowth);
    const next = allocate(this.kind, Math.min(length, this.lengthMax));
    next.set(this.data);
    if (this.fill !== 0) next.fill(this.fill, this.data.length);
    this.data = next;
  }
}

/*
 * One subclass per array kind, each with its own `get` and `set`: V8 keeps what an element read met per
 * function, so one `get` shared by every column met four array kinds and read them all through a
 * polymorphic access (column.ts:45 was 2.8% of a gate seed's CPU, docs/benchmarks.md, session 28); a
 * subclass's `get` only ever meets its own kind. The bodies are the base class's, on purpose.
 */
class Int32Column extends Column {
  override get(index: number): number {
    return index < this.data.length ? this.data[index]! : this.fill;
  }

  override set(index: number, value: number): void {
    if (index >= this.data.length) this.grow(index + 1);
    this.data[index] = value;
  }
}

class Uint32Column extends Column {
  override get(index: number): number {
    return index < this.data.length ? this.data[index]! : this.fill;
  }

  override set(index: number, value: number): void {
    if (index >= this.data.length) this.grow(index + 1);
    this.data[index] = value;
  }
}

class Float64Column extends Column {
  override get(index: number): number {
    return index < this.data.length ? this.data[index]! : this.fill;
  }

  override set(index: number, value: number): void {
    if (index >= this.data.length) this.grow(index + 1);
    this.data[index] = value;
  }
}

class Uint8Column extends Column {
  override get(index: number): number {
    return index < this.data.length ? this.data[index]! : this.fill;
  }

  override set(index: number, value: number): void {
    if (index >= this.data.length) this.grow(index + 1);
    this.data[index] = value;
  }
}

/** A column of 32-bit signed integers; `fill` is what unwritten entries read as. */
export const int32Column = (fill = 0): Column => new Int32Column('int32', fill);
export const uint32Column = (fill = 0): Column => new Uint32Column('uint32', fill);
export const float64Column = (fill = 0): Column => new Float64Column('float64', fill);
export const uint8Column = (fill = 0): Column => new Uint8Column('uint8', fill);
