// Token-bucket rate limiting on the caller's clock: `now` comes in, nothing is read. Used per user
// for sends and per connection for all frames.

export class TokenBucket {
  private tokens: number;
  private refilledAt: number;

  constructor(
    private readonly perSec: number,
    private readonly burst: number,
    now: number,
  ) {
    this.tokens = burst;
    this.refilledAt = now;
  }

  /** Takes one token; returns 0 when allowed, else how many ms until one is available. */
  take(now: number): number {
    // At now === refilledAt the refill adds nothing: `now >= refilledAt` is an equivalent mutant (docs/benchmarks.md).
    if (now > this.refilledAt) {
      this.tokens = Math.min(this.burst, this.tokens + ((now - this.refilledAt) * this.perSec) / 1000);
    }
    // Also when the clock was set back: the refill counts from here, not from a reading that is now
    // ahead (an hour back would starve the user for an hour).
    this.refilledAt = now;
    if (this.tokens >= 1) {
      this.tokens -= 1;
      return 0;
    }
    return Math.max(1, Math.ceil(((1 - this.tokens) * 1000) / this.perSec));
  }
}
