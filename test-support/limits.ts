// Bounds of the test tooling: how long a test waits for the server and how much it records. Kept here
// so a slow CI machine is tuned in one place, and so no test helper buffers or waits without a limit.

export const testLimits = {
  /** Default wait for one expected frame. Generous: a shared 2-core machine stalls at times. */
  frameTimeoutMs: 5000,
  /** Default wait for a socket to open or close. */
  socketTimeoutMs: 5000,
  /** Frames a test client records before it refuses more (a runaway server would otherwise eat memory). */
  recordedFramesMax: 200_000,
  /** Frames listed in a timeout message, newest last; the rest are counted. */
  framesShownMax: 20,
  /** Characters of one frame shown in a timeout message. */
  frameShownCharsMax: 300,
  /** Pages `HttpApi.allMessages` reads before it gives up on a server that never ends a conversation. */
  httpPagesMax: 10_000,
  /** Attempts of `eventually` before it gives up, and the pause between them (100 x 50 ms = 5 s). */
  eventuallyAttemptsMax: 100,
  eventuallyIntervalMs: 50,
  /** Sends a ContinuousWriter keeps in flight at once, and sends it makes at most in its life. */
  writerWindowMax: 8,
  writerSendsMax: 100_000,
  /** Wait for a spawned server to print its address and answer /readyz. */
  childStartTimeoutMs: 20_000,
  /** Wait for a spawned server to exit after a signal. */
  childExitTimeoutMs: 15_000,
  /** Poll interval of /readyz while a spawned server starts. */
  readyPollMs: 50,
  /** Output lines of a spawned server kept for the failure message. */
  childLogLinesMax: 200,
} as const;
