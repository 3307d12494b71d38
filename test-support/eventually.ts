// Polls a check until it passes, for state a test can only observe from outside (an HTTP read, a
// server counter) after an asynchronous step. Bounded by attempts, not by a deadline the test asserts.

import { testLimits } from './limits.ts';

/** Runs `check` until it returns without throwing; rethrows its last error after the attempts run out. */
export async function eventually<T>(
  check: () => T | Promise<T>,
  attempts: number = testLimits.eventuallyAttemptsMax,
  intervalMs: number = testLimits.eventuallyIntervalMs,
): Promise<T> {
  let lastError: unknown;
  for (let attempt = 0; attempt < attempts; attempt++) {
    try {
      return await check();
    } catch (error) {
      lastError = error;
      await new Promise((resolve) => setTimeout(resolve, intervalMs));
    }
  }
  throw lastError;
}
