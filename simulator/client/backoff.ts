// Exponential backoff with optional full jitter (AWS "Exponential Backoff and Jitter"): the delay
// before retry `attempt` is uniform in [0, min(cap, base * 2^attempt)], or exactly that bound when
// jitter is off, which is what makes a reconnect storm a thundering herd.

/** The largest exponent used: 2^30 * base overflows any sane cap long before. */
const exponentMax = 30;

export function backoffBoundMs(attempt: number, baseMs: number, capMs: number): number {
  return Math.min(capMs, baseMs * 2 ** Math.min(Math.max(attempt, 0), exponentMax));
}

/** `random` is uniform in [0, 1); the result is within [0, capMs]. */
export function backoffDelayMs(
  attempt: number,
  baseMs: number,
  capMs: number,
  jitter: boolean,
  random: () => number,
): number {
  const bound = backoffBoundMs(attempt, baseMs, capMs);
  return jitter ? Math.floor(random() * (bound + 1)) : bound;
}
