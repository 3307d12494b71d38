// The knee of a capacity sweep: the last step that held every SLO threshold and every check, and the
// first that did not, with what broke there. Pure, so the judgement a sweep prints is unit-tested.
// A step holds only when every repeat of it held: a capacity figure is one to plan on, so noise
// that breaks one repeat in two counts as broken (the spread across repeats is in the curve).

export type SweepPhase = 'connections' | 'rate';

/** What one run of one step measured. */
export type RepeatResult = {
  exitCode: number;
  /** Why this repeat did not hold (empty when it held): failed thresholds, failed checks, no settle. */
  broke: string[];
  sentPerSec: number;
  ackedPerSec: number;
  /** Messages shown on devices other than the sender's, per second (the fan-out the node carried). */
  displayedPerSec: number;
  failedSends: number;
  ackP99Ms: number;
  deliveryP99Ms: number;
  /** Mean share of one core the server process(es) used while the clients were connected (null: not measurable). */
  serverCpuShare: number | null;
  /** Resident memory the server gained per open connection (null: not measurable). */
  serverBytesPerConnection: number | null;
  serverConnectionsPeak: number | null;
  generatorCpuShareMax: number;
  generatorRssBytesMax: number;
  /** A generator used most of its core or was starved of one: latencies measured the generator as much as the server. */
  generatorLimited: boolean;
};

export type StepResult = {
  phase: SweepPhase;
  clients: number;
  /** msgs/s the workload schedules (open model: independent of how fast the server answers). */
  offeredMsgsPerSec: number;
  repeats: RepeatResult[];
  held: boolean;
};

export type Knee = {
  lastHeld: StepResult | null;
  firstBroken: StepResult | null;
  /** What broke at the first broken step (each distinct reason once, across its repeats). */
  limit: string[];
  /** One line: where the knee is and what broke. */
  describe: string;
  /**
   * The msgs/s knee at the connections that held, when the rate phase ran: the connections knee
   * (above) and this one are different limits, and a plan needs both.
   */
  rate?: Knee;
};

export function stepHeld(repeats: readonly RepeatResult[]): boolean {
  return repeats.length > 0 && repeats.every((r) => r.broke.length === 0);
}

/** Steps are in the order they ran: connections first, then messages/s at the last held client count. */
export function findKnee(steps: readonly StepResult[]): Knee {
  const firstBrokenIndex = steps.findIndex((s) => !s.held);
  const firstBroken = firstBrokenIndex === -1 ? null : steps[firstBrokenIndex]!;
  const held = (firstBroken === null ? steps : steps.slice(0, firstBrokenIndex)).filter((s) => s.held);
  // In the rate phase the broken step's neighbour is the last held step of that phase, if any.
  const samePhase = firstBroken === null ? held : held.filter((s) => s.phase === firstBroken.phase);
  const lastHeld = samePhase.at(-1) ?? held.at(-1) ?? null;
  const limit = firstBroken === null ? [] : [...new Set(firstBroken.repeats.flatMap((r) => r.broke))];
  const at = (s: StepResult) => `${s.clients} connections, ${round(s.offeredMsgsPerSec)} msgs/s offered`;
  let describe: string;
  if (firstBroken === null)
    describe =
      lastHeld === null
        ? 'no step ran'
        : `no knee found: every step held, up to ${at(lastHeld)}; step further to find it`;
  else if (lastHeld === null)
    describe = `the first step already broke (${at(firstBroken)}): ${limit.join('; ')}; start lower`;
  else describe = `knee between ${at(lastHeld)} (held) and ${at(firstBroken)} (broke: ${limit.join('; ')})`;
  const rateSteps = steps.filter((s) => s.phase === 'rate');
  const knee: Knee = { lastHeld, firstBroken, limit, describe };
  if (firstBroken?.phase === 'connections' && rateSteps.length > 0) {
    const rate = findKnee([
      ...held.filter((s) => s.clients === rateSteps[0]!.clients).slice(-1),
      ...rateSteps,
    ]);
    knee.rate = rate;
    knee.describe += `; messages/s at ${rateSteps[0]!.clients} connections: ${rate.describe}`;
  }
  return knee;
}

function round(n: number): number {
  return Math.round(n * 10) / 10;
}
