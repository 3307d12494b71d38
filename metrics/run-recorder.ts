// The harness's own metrics, computed from the history stream alone, so a simulated run and a live
// run (which feed the same HistoryEvents) produce the same series. Latency is measured from the
// *scheduled* send time (the `send` event), so a slow server cannot hide behind a waiting generator.
// Hot path: a display (the bulk of a run's events) costs one Map lookup by conversation and a few
// typed-array writes; nothing is allocated for it. Sends, acks and durables allocate one key string.
// A simulated run with its checkers on a second thread keeps the recorder there (simulator/
// checker-thread.ts): a copy built from `crossing()` observes the history as it crosses, writing into
// the same shared numbers, and `adopt` takes what it kept besides them at the end.

import type { CheckResult, HistoryEvent } from '../simulator/history.ts';
import {
  boundsResolving,
  type Family,
  FamilyLayout,
  type PhaseName,
  phaseNames,
  slotOf,
} from './harness-families.ts';
import { recorderLimits } from './limits.ts';

export type RunRecorderOptions = {
  scenario: string;
  runId: string;
  /** Devices per member: with the member count, how many recipient displays complete a message's fan-out. */
  devicesPerUser: number;
  /** SLO thresholds (ms) the latency histograms must resolve: each becomes a bucket bound. */
  thresholdsMs?: readonly number[];
  /** Properties the checkers judge (labels of the violations counter). */
  properties: readonly string[];
  /** Keep a snapshot every `sampleEveryMs` for the OpenMetrics file and the report (default on). */
  keepSnapshots?: boolean;
  sampleEveryMs?: number;
};

/** A copy of every number at one moment (`at`: run ms, virtual in simulation). */
export type Snapshot = { at: number; phase: number; values: Float64Array };

export type HistogramTotals = { boundsMs: readonly number[]; counts: number[]; sum: number; count: number };

/** The bucket that holds quantile q: its lower and upper bound (ms); null when empty. */
export function quantileBucket(h: HistogramTotals, q: number): { lowerMs: number; upperMs: number } | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    seen += h.counts[i]!;
    if (seen >= rank && h.counts[i]! > 0)
      return {
        lowerMs: i === 0 ? 0 : h.boundsMs[i - 1]!,
        upperMs: i < h.boundsMs.length ? h.boundsMs[i]! : Number.POSITIVE_INFINITY,
      };
  }
  return null;
}

/** Quantile q (ms) by linear interpolation inside its bucket, as Prometheus's histogram_quantile does. */
export function quantileMs(h: HistogramTotals, q: number): number | null {
  if (h.count === 0) return null;
  const rank = q * h.count;
  let seen = 0;
  for (let i = 0; i < h.counts.length; i++) {
    const inBucket = h.counts[i]!;
    if (seen + inBucket >= rank && inBucket > 0) {
      const lower = i === 0 ? 0 : h.boundsMs[i - 1]!;
      if (i >= h.boundsMs.length) return lower;
      return lower + ((h.boundsMs[i]! - lower) * (rank - seen)) / inBucket;
    }
    seen += inBucket;
  }
  return null;
}

export type FaultWindow = { type: string; startMs: number; endMs: number | null };

/** What builds a recorder's copy on another thread: its options and its numbers, shared. */
export type RecorderCrossing = { options: RunRecorderOptions; values: SharedArrayBuffer };

/** What a copy kept besides the shared numbers, handed back at the end of its run (`adopt`). */
export type RecorderState = {
  snapshots: Snapshot[];
  faults: FaultWindow[];
  phase: number;
  phaseStartMs: number[];
  nowMs: number;
  lastSampleAt: number;
  lastEvents: number;
  lastCpuMicros: number;
};

const viaNames = ['push', 'resume', 'sync'] as const;
// Per message, in a conversation's slot array: when its send was scheduled, when its ack was seen,
// its first and last recipient display, recipient displays so far, recipient displays expected.
const sentAtField = 0;
const ackAtField = 1;
const firstField = 2;
const lastField = 3;
const displaysField = 4;
const expectedField = 5;
const stride = 6;
const unset = -1;

type ConvTrack = { members: number; slots: Float64Array | null };

export class RunRecorder {
  readonly layout: FamilyLayout;
  readonly values: Float64Array;
  snapshots: Snapshot[] = [];
  faults: FaultWindow[] = [];
  phase = 0;
  private phaseStartMs: number[] = [];
  private readonly convs = new Map<string, ConvTrack>();
  /** Membership requests awaiting their answer: conv and the member count they change. */
  private readonly membersPending = new Map<number, { conv: string; delta: number }>();
  /** Scheduled send time by sender, conversation and cmid, until the message's seq is known. */
  private readonly pending = new Map<string, number>();
  private readonly f: Record<string, Family>;
  private lastSampleAt = Number.NEGATIVE_INFINITY;
  private lastEvents = 0;
  private lastCpuMicros: number;
  private readonly sampleEveryMs: number;
  private readonly properties: Map<string, number>;
  nowMs = 0;

  /** `shared`: numbers to write into (another thread's recorder's, from its `crossing()`). */
  constructor(
    readonly options: RunRecorderOptions,
    shared?: SharedArrayBuffer,
  ) {
    this.layout = new FamilyLayout(boundsResolving(options.thresholdsMs ?? []));
    const add = this.layout.add.bind(this.layout);
    const h = (name: string, help: string): Family => add({ name, help, kind: 'histogram' });
    const c = (name: string, help: string, label?: Family['label']): Family =>
      add(label ? { name, help, kind: 'counter', label } : { name, help, kind: 'counter' });
    this.f = {
      delivery: h(
        'chatsim_harness_delivery_latency_seconds',
        "From a message's scheduled send to its display on one recipient device",
      ),
      fanout: h(
        'chatsim_harness_fanout_lag_seconds',
        "Per message: from its first recipient's display to its last",
      ),
      fanoutFromAck: h(
        'chatsim_harness_fanout_from_ack_seconds',
        "Per recipient: from the sender seeing the ack to the recipient's display (0 when the push won)",
      ),
      ack: h('chatsim_harness_ack_latency_seconds', 'From the scheduled send to the ack'),
      connect: h('chatsim_harness_connect_latency_seconds', 'From a connection attempt to its welcome'),
      sends: c('chatsim_harness_sends', 'Messages the workload sent (first attempt; retries reuse the cmid)'),
      acks: c('chatsim_harness_acks', 'Sends acknowledged'),
      failed: c('chatsim_harness_failed_sends', 'Sends the client gave up on'),
      displays: c('chatsim_harness_displays', 'Messages displayed on a recipient device, by how they came', {
        name: 'via',
        values: viaNames,
      }),
      sessions: c('chatsim_harness_sessions', 'Sessions opened (welcome received)'),
      reconnects: c('chatsim_harness_reconnects', "Sessions opened after a device's first"),
      sessionsLost: c('chatsim_harness_sessions_lost', 'Open sessions that ended'),
      resyncs: c('chatsim_harness_resyncs', 'sync requests clients sent to pull a gap or a notify'),
      violations: c('chatsim_harness_violations', 'Violations found, by property', {
        name: 'property',
        values: options.properties,
      }),
      cpu: c('chatsim_harness_cpu_seconds', 'CPU the harness process used (generator, simulator, checkers)'),
      events: c('chatsim_harness_sim_events', 'Simulator events processed (0 in live runs)'),
      connected: add({
        name: 'chatsim_harness_connected_clients',
        help: 'Devices with an open session',
        kind: 'gauge',
      }),
    };
    // Shared, so a copy on the checker thread can keep them while this one's readers (the progress
    // line) see them move.
    this.values = new Float64Array(
      shared ?? new SharedArrayBuffer(this.layout.size * Float64Array.BYTES_PER_ELEMENT),
    );
    if (this.values.length !== this.layout.size) throw new Error("a recorder's numbers in another layout");
    this.properties = new Map(options.properties.map((p, i) => [p, i]));
    this.sampleEveryMs = options.sampleEveryMs ?? recorderLimits.sampleEveryMsDefault;
    const cpu = process.cpuUsage();
    this.lastCpuMicros = cpu.user + cpu.system;
    this.phaseStartMs[0] = 0;
  }

  get phaseName(): PhaseName {
    return phaseNames[this.phase]!;
  }

  /** When each phase began (run ms); undefined for phases not reached. */
  phaseStart(phase: PhaseName): number | undefined {
    return this.phaseStartMs[phaseNames.indexOf(phase)];
  }

  // ---- the stream ---------------------------------------------------------------------------

  observe(event: HistoryEvent): void {
    switch (event.k) {
      case 'display':
        if (event.via !== 'own')
          this.display(event.at, event.via, event.message.conv, event.message.seq, event);
        return;
      case 'send':
        this.pending.set(keyOf(event.user, event.conv, event.cmid), event.at);
        this.count(this.f.sends!, 0);
        return;
      case 'durable':
        this.sequenced(event.message.from, event.message.conv, event.message.cmid, event.message.seq, -1);
        return;
      case 'ack':
        this.sequenced(event.user, event.conv, event.cmid, event.seq, event.at);
        this.count(this.f.acks!, 0);
        return;
      case 'failed':
        this.pending.delete(keyOf(event.user, event.conv, event.cmid));
        this.count(this.f.failed!, 0);
        return;
      case 'session':
        this.count(this.f.sessions!, 0);
        if (!event.first) this.count(this.f.reconnects!, 0);
        this.histogram(this.f.connect!, event.connectMs);
        this.values[slotOf(this.f.connected!, 0, 0)]!++;
        return;
      case 'session-lost':
        this.count(this.f.sessionsLost!, 0);
        this.values[slotOf(this.f.connected!, 0, 0)]!--;
        return;
      case 'sync-sent':
        this.count(this.f.resyncs!, 0);
        return;
      case 'conv':
        this.convs.set(event.conv, { members: event.members.length, slots: null });
        return;
      case 'members-sent':
        this.membersPending.set(event.id, {
          conv: event.conv,
          delta: event.add.length - event.remove.length,
        });
        return;
      case 'members-answered': {
        const pending = this.membersPending.get(event.id);
        this.membersPending.delete(event.id);
        const track =
          pending && event.status >= 200 && event.status < 300 ? this.convs.get(pending.conv) : undefined;
        if (track && pending) track.members += pending.delta;
        return;
      }
      case 'phase':
        this.enterPhase(phaseNames.indexOf(event.phase), event.at);
        return;
      case 'fault':
        this.fault(event.type, event.phase === 'start', event.at);
        return;
    }
  }

  /** Opens or closes a fault window (from the history's `fault` events). */
  fault(type: string, on: boolean, atMs: number): void {
    if (on) this.faults.push({ type, startMs: atMs, endMs: null });
    else {
      const open = this.faults.findLast((f) => f.type === type && f.endMs === null);
      if (open) open.endMs = atMs;
    }
  }

  /**
   * Called about once a second (more often is fine: samples are taken every `sampleEveryMs`) with the
   * run's clock and, in simulation, the events processed so far.
   */
  tick(nowMs: number, events = 0): void {
    this.nowMs = nowMs;
    if (events > this.lastEvents) {
      this.values[slotOf(this.f.events!, 0, this.phase)]! += events - this.lastEvents;
      this.lastEvents = events;
    }
    if (nowMs - this.lastSampleAt < this.sampleEveryMs) return;
    this.sampleCpu();
    this.lastSampleAt = nowMs;
    if (this.options.keepSnapshots !== false && this.snapshots.length < recorderLimits.snapshotsMax)
      this.snapshots.push({ at: nowMs, phase: this.phase, values: this.values.slice() });
  }

  /** Fan-outs still open are judged as they stand, violations counted; a last snapshot is taken. */
  finish(verdicts: readonly CheckResult[], atMs: number, events = 0): void {
    this.closeFanouts();
    for (const verdict of verdicts) {
      if (verdict.verdict !== 'fail') continue;
      const index = this.properties.get(verdict.property);
      if (index === undefined) throw new Error(`violations of unknown property ${verdict.property}`);
      const counted = /^(\d+) violations?:/.exec(verdict.details);
      this.values[slotOf(this.f.violations!, index, this.phase)]! += counted ? Number(counted[1]) : 1;
    }
    // The closing sample replaces one taken at the same moment (a series' timestamps must increase).
    if (this.snapshots.at(-1)?.at === atMs) this.snapshots.pop();
    this.lastSampleAt = Number.NEGATIVE_INFINITY;
    this.tick(atMs, events);
  }

  // ---- kept on another thread ---------------------------------------------------------------

  /** What builds a copy of this recorder on another thread, writing into these same numbers. */
  crossing(): RecorderCrossing {
    return { options: this.options, values: this.values.buffer as SharedArrayBuffer };
  }

  /** While a copy observes the run: the run's clock, for the progress line (the numbers move by themselves). */
  follow(nowMs: number): void {
    this.nowMs = nowMs;
  }

  /** The copy's end of the stream: its open fan-outs judged (as `finish` does first), and what it kept. */
  handOver(): RecorderState {
    this.closeFanouts();
    return {
      snapshots: this.snapshots,
      faults: this.faults,
      phase: this.phase,
      phaseStartMs: this.phaseStartMs,
      nowMs: this.nowMs,
      lastSampleAt: this.lastSampleAt,
      lastEvents: this.lastEvents,
      lastCpuMicros: this.lastCpuMicros,
    };
  }

  /** Takes over what the copy kept (`handOver`): `finish` then closes the run as if this one had observed it. */
  adopt(state: RecorderState): void {
    this.snapshots = state.snapshots;
    this.faults = state.faults;
    this.phase = state.phase;
    this.phaseStartMs = state.phaseStartMs;
    this.nowMs = state.nowMs;
    this.lastSampleAt = state.lastSampleAt;
    this.lastEvents = state.lastEvents;
    this.lastCpuMicros = state.lastCpuMicros;
  }

  /** Fan-outs still open are judged as they stand (once: their tracks go). */
  private closeFanouts(): void {
    for (const track of this.convs.values()) {
      const slots = track.slots;
      if (slots === null) continue;
      for (let i = 0; i < slots.length; i += stride) {
        const displays = slots[i + displaysField]!;
        if (displays > 0 && displays < slots[i + expectedField]!)
          this.histogram(this.f.fanout!, slots[i + lastField]! - slots[i + firstField]!);
      }
      track.slots = null;
    }
  }

  // ---- totals the progress line and the report read -----------------------------------------

  /** Sum of a counter over every phase and label value. */
  total(key: string, values: Float64Array = this.values): number {
    const family = this.f[key]!;
    let sum = 0;
    const slots = (family.label?.values.length ?? 1) * (family.kind === 'gauge' ? 1 : phaseNames.length);
    for (let i = 0; i < slots; i++) sum += values[family.offset + i * family.width]!;
    return sum;
  }

  /** The connected gauge in a snapshot's values. */
  connectedIn(values: Float64Array): number {
    return values[slotOf(this.f.connected!, 0, 0)]!;
  }

  /** A histogram over every phase (or one phase): per-bucket counts (last: +Inf), sum (s) and count. */
  histogramTotals(key: string, phase?: number, values: Float64Array = this.values): HistogramTotals {
    const family = this.f[key]!;
    const n = family.bounds.length;
    const counts = new Array<number>(n + 1).fill(0);
    let sum = 0;
    let count = 0;
    for (let p = 0; p < phaseNames.length; p++) {
      if (phase !== undefined && p !== phase) continue;
      const base = slotOf(family, 0, p);
      for (let i = 0; i <= n; i++) counts[i]! += values[base + i]!;
      sum += values[base + n + 1]!;
      count += values[base + n + 2]!;
    }
    return { boundsMs: family.bounds, counts, sum, count };
  }

  get connected(): number {
    return this.values[slotOf(this.f.connected!, 0, 0)]!;
  }

  // ---- internals ----------------------------------------------------------------------------

  private enterPhase(phase: number, at: number): void {
    if (phase < 0 || phase === this.phase) return;
    this.sampleCpu();
    this.phase = phase;
    this.phaseStartMs[phase] = at;
  }

  private sampleCpu(): void {
    const cpu = process.cpuUsage();
    const micros = cpu.user + cpu.system;
    this.values[slotOf(this.f.cpu!, 0, this.phase)]! += (micros - this.lastCpuMicros) / 1e6;
    this.lastCpuMicros = micros;
  }

  private count(family: Family, labelIndex: number): void {
    this.values[slotOf(family, labelIndex, this.phase)]!++;
  }

  private histogram(family: Family, ms: number): void {
    const base = slotOf(family, 0, this.phase);
    const bounds = family.bounds;
    let i = 0;
    while (i < bounds.length && ms > bounds[i]!) i++;
    const values = this.values;
    values[base + i]!++;
    values[base + bounds.length + 1]! += ms / 1000;
    values[base + bounds.length + 2]!++;
  }

  /** The message's seq is known (store side in simulation, the sender's ack in both). */
  private sequenced(from: string, conv: string, cmid: string, seq: number, ackAt: number): void {
    const track = this.convs.get(conv);
    if (track === undefined) return;
    const i = this.slotIndex(track, seq);
    const slots = track.slots!;
    const key = keyOf(from, conv, cmid);
    if (slots[i + sentAtField] === unset) slots[i + sentAtField] = this.pending.get(key) ?? unset;
    this.expect(track, i);
    if (ackAt < 0) return;
    this.pending.delete(key);
    slots[i + ackAtField] = ackAt;
    const sentAt = slots[i + sentAtField]!;
    if (sentAt !== unset) this.histogram(this.f.ack!, ackAt - sentAt);
  }

  private display(
    at: number,
    via: 'push' | 'resume' | 'sync',
    conv: string,
    seq: number,
    event: { message: { from: string; cmid: string } },
  ): void {
    this.count(this.f.displays!, via === 'push' ? 0 : via === 'resume' ? 1 : 2);
    const track = this.convs.get(conv);
    if (track === undefined) return;
    const i = this.slotIndex(track, seq);
    const slots = track.slots!;
    let sentAt = slots[i + sentAtField]!;
    if (sentAt === unset) {
      // A push can reach a recipient before the ack reaches the sender (live runs see no `durable`).
      sentAt = this.pending.get(keyOf(event.message.from, conv, event.message.cmid)) ?? unset;
      slots[i + sentAtField] = sentAt;
    }
    if (sentAt !== unset) this.histogram(this.f.delivery!, at - sentAt);
    const ackAt = slots[i + ackAtField]!;
    this.histogram(this.f.fanoutFromAck!, ackAt === unset ? 0 : Math.max(0, at - ackAt));
    this.expect(track, i);
    const displays = ++slots[i + displaysField]!;
    if (displays === 1) slots[i + firstField] = at;
    slots[i + lastField] = at;
    if (displays === slots[i + expectedField]) this.histogram(this.f.fanout!, at - slots[i + firstField]!);
  }

  /** Recipient displays that complete the fan-out: every member's devices but the sender's own. */
  private expect(track: ConvTrack, i: number): void {
    const slots = track.slots!;
    if (slots[i + expectedField] === 0)
      slots[i + expectedField] = Math.max(1, track.members * this.options.devicesPerUser - 1);
  }

  /** The index of seq's slots in the conversation's array, grown (doubling) to hold it. */
  private slotIndex(track: ConvTrack, seq: number): number {
    const i = (seq - 1) * stride;
    let slots = track.slots;
    if (slots === null || i >= slots.length) {
      const capacity = Math.max(recorderLimits.slotsInitial, slots === null ? 0 : slots.length / stride);
      let size = capacity;
      while (size * stride <= i) size *= 2;
      const grown = new Float64Array(size * stride);
      if (slots !== null) grown.set(slots);
      for (let j = slots === null ? 0 : slots.length; j < grown.length; j += stride) {
        grown[j + sentAtField] = unset;
        grown[j + ackAtField] = unset;
      }
      track.slots = grown;
      slots = grown;
    }
    return i;
  }
}

function keyOf(user: string, conv: string, cmid: string): string {
  return `${user}\u0000${conv}\u0000${cmid}`;
}
