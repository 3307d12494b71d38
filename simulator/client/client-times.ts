// A client's connection times (when it last heard the server, sent its hello, may reconnect, ...) as
// rows of one Float64Array that many clients share. V8 keeps every double-valued field of an object in
// a box of its own (a 16-byte heap object to allocate and mark, plus the field's 8 bytes): six of
// them a client were about 144 bytes a client and six million objects at a million clients; a row
// here is 48 bytes and no object. A carrier that numbers its devices (`deviceIndex`) passes one table
// in its services; a client without one keeps a table of one row.

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

const width = 6;

export class ClientTimes {
  /** Row r's times at [r * 6, r * 6 + 6); replaced when the table grows, so read it through the table. */
  values: Float64Array;
  /** Which rows a client holds: a row serves one client (two sharing one would overwrite each other). */
  private taken: Uint8Array;

  constructor(rows = 1) {
    this.values = new Float64Array(Math.max(1, rows) * width);
    this.taken = new Uint8Array(Math.max(1, rows));
  }

  /** Takes `row` for one client (every time 0) and returns its first index in `values`. */
  claim(row: number): number {
    if (!Number.isInteger(row) || row < 0)
      throw new Error(`a client-time row must be a whole number, got ${row}`);
    if (row >= this.taken.length) this.grow(row + 1);
    if (this.taken[row] !== 0) throw new Error(`client-time row ${row} is held by another client`);
    this.taken[row] = 1;
    return row * width;
  }

  /** By a quarter at least, like the checkers' columns: a million rows grown by doubling hold up to twice that. */
  private grow(needed: number): void {
    const rows = Math.max(needed, Math.ceil(this.taken.length * 1.25));
    const values = new Float64Array(rows * width);
    values.set(this.values);
    this.values = values;
    const taken = new Uint8Array(rows);
    taken.set(this.taken);
    this.taken = taken;
  }
}
