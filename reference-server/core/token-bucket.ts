// Token-bucket rate limiting on the caller's clock: `now` comes in, nothing is read. Used per user
// for sends and per connection for all frames. A node holds a bucket per connection and per sending
// user, a million of each at scale: the buckets of one rate are rows of two columns, not an object
// each (an object and two boxed doubles were about 90 bytes a bucket, and one more object per session).

const initialRows = 64;

export class TokenBuckets {
  private tokens = new Float64Array(initialRows);
  private refilledAt = new Float64Array(initialRows);
  private rows = 0;
  /** Rows released, reused last released first. */
  private readonly free: number[] = [];

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
  ) {}

  /** A full bucket as of `now`; returns its row. */
  add(now: number): number {
    let row = this.free.pop();
    if (row === undefined) {
      if (this.rows === this.tokens.length) this.grow();
      row = this.rows++;
    }
    this.tokens[row] = this.burst;
    this.refilledAt[row] = now;
    return row;
  }

  /** The row's bucket is no longer used: a later `add` may reuse the row. */
  release(row: number): void {
    this.free.push(row);
  }

  /** Takes one token from the row's bucket; returns 0 when allowed, else how many ms until one is available. */
  take(row: number, now: number): number {
    let tokens = this.tokens[row]!;
    const refilledAt = this.refilledAt[row]!;
    // At now === refilledAt the refill adds nothing: `now >= refilledAt` is an equivalent mutant (docs/benchmarks.md).
    if (now > refilledAt) tokens = Math.min(this.burst, tokens + ((now - refilledAt) * this.perSec) / 1000);
    // Also when the clock was set back: the refill counts from here, not from a reading that is now
    // ahead (an hour back would starve the user for an hour).
    this.refilledAt[row] = now;
    if (tokens >= 1) {
      this.tokens[row] = tokens - 1;
      return 0;
    }
    this.tokens[row] = tokens;
    return Math.max(1, Math.ceil(((1 - tokens) * 1000) / this.perSec));
  }

  private grow(): void {
    const tokens = new Float64Array(this.tokens.length * 2);
    tokens.set(this.tokens);
    this.tokens = tokens;
    const refilledAt = new Float64Array(this.refilledAt.length * 2);
    refilledAt.set(this.refilledAt);
    this.refilledAt = refilledAt;
  }
}
