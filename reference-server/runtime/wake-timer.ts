// Turns the core's `wake` effects into one real timer. Only the earliest requested time matters: the
// core re-announces its next deadline after every tick that reaches the announced one, so later
// requests need no timer of their own. A due tick runs after the event loop has read the input that is
// already waiting (setImmediate follows the poll phase; a timer callback precedes it): after the loop
// was blocked, a hello that arrived in time is read before its timeout is judged, not cut as late.

export class WakeTimer {
  private timer: NodeJS.Timeout | undefined;
  private immediate: NodeJS.Immediate | undefined;
  private at = Number.POSITIVE_INFINITY;

  constructor(
    private readonly onDue: () => void,
    private readonly now: () => number = Date.now,
  ) {}

  request(at: number): void {
    if (at >= this.at) return;
    this.at = at;
    this.arm();
  }

  stop(): void {
    clearTimeout(this.timer);
    clearImmediate(this.immediate);
    this.timer = undefined;
    this.immediate = undefined;
    this.at = Number.POSITIVE_INFINITY;
  }

  private arm(): void {
    clearTimeout(this.timer);
    this.timer = setTimeout(() => this.fire(), Math.max(0, this.at - this.now()));
  }

  private fire(): void {
    // A timer may fire a little before the clock reaches `at`; ticking then would run nothing, and the
    // core would not announce the same deadline again.
    if (this.now() < this.at) {
      this.arm();
      return;
    }
    this.timer = undefined;
    this.at = Number.POSITIVE_INFINITY;
    this.immediate ??= setImmediate(() => {
      this.immediate = undefined;
      this.onDue();
    });
  }
}
