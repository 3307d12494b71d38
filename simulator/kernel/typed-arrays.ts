// Growing a column of numbers held as a typed array: a longer array of the same type with the old
// entries copied (the rest read 0). One place for what the agenda, the calendar queue and the live
// spilled store each wrote out (the client keeps its own copy: its sans-I/O boundary imports no kernel).

type NumberColumn = Float64Array | Int32Array | Uint32Array | Uint8Array;

/** A copy of `array`, `length` long (`length` at least `array.length`). */
export function grown<T extends NumberColumn>(array: T, length: number): T {
  const next = new (array.constructor as new (length: number) => T)(length);
  next.set(array);
  return next;
}
