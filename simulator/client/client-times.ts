// A client's connection times (when it last heard the server, sent its hello, may reconnect, ...) as
// rows of one Float64Array that many clients share. V8 keeps every double-valued field of an object in
// a box of its own (a 16-byte heap object to allocate and mark, plus the field's 8 bytes): six of
// them a client were about 144 bytes a client and six million objects at a million clients; a row
// here is 48 bytes and no object. Its six counters (welcomes, displays, ...) follow in the same row as
// 32-bit integers (24 bytes, in the cache line its times are in: a display reads its client's row
// anyway). A carrier that numbers its devices (`deviceIndex`) passes one table in its services; a
// client without one keeps a table of one row.

/** The columns of a row, in order. */
export const clientTime = {
  reconnectAt: 0,
  drainReconnectAt: 1,
  connectStartedAt: 2,
  lastHeardAt: 3,
  helloSentAt: 4,
  /** The earliest outstanding `idle` timer. */
  idleTimerAt: 5,
} as const;

/**
 * A client's counters: `counts[2 * at + clientCount.x]` for the row whose times start at `values[at]`
 * (the 24 bytes after its six doubles). Six integer fields were 48 bytes of every client object.
 */
export const clientCount = {
  welcomes: 12,
  reconnects: 13,
  idleCloses: 14,
  displayed: 15,
  duplicates: 16,
  errors: 17,
} as const;

/** A row's width in doubles: six times, then room for the six 32-bit counters (72 bytes). */
export const clientRowWidth = 9;
const width = clientRowWidth;

export class ClientTimes {
  /** Row r's times at [r * 9, r * 9 + 6); replaced when the table grows, so read it through the table. */
  values: Float64Array;
  /** The same memory as 32-bit integers: row r's counters at 2 * r * 9 + clientCount.x; replaced with `values`. */
  counts: Int32Array;
  /** Which rows a client holds: a row serves one client (two sharing one would overwrite each other). */
  private taken: Uint8Array;

  constructor(rows = 1) {
    this.values = new Float64Array(Math.max(1, rows) * width);
    this.counts = new Int32Array(this.values.buffer);
    this.taken = new Uint8Array(Math.max(1, rows));
  }

  /** Takes `row` for one client (every time and count 0) and returns its first index in `values`. */
  claim(row: number): number {
    if (!Number.isInteger(row) || row < 0)
      throw new Error(`a client-time row must be a whole number, got ${row}`);
    if (row >= this.taken.length) this.grow(row + 1);
    if (this.taken[row] !== 0) throw new Error(`client-time row ${row} is held by another client`);
    this.taken[row] = 1;
    return row * width;
  }

  /** By a quarter at least (the checkers' columns: by an eighth): a million rows grown by doubling hold up to twice that. */
  private grow(needed: number): void {
    const rows = Math.max(needed, Math.ceil(this.taken.length * 1.25));
    const values = new Float64Array(rows * width);
    // Byte for byte: the counters' halves of a row are no doubles.
    new Uint8Array(values.buffer).set(new Uint8Array(this.values.buffer));
    this.values = values;
    this.counts = new Int32Array(values.buffer);
    const taken = new Uint8Array(rows);
    taken.set(this.taken);
    this.taken = taken;
  }
}
