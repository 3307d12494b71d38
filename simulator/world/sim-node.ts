// One server node's life in the simulation: the real ChatNode core, its epoch (bumped by each crash,
// so events meant for a dead incarnation are void), and the faults a process suffers: crash and
// restart, pause and resume, a clock that runs off, and a graceful stop (drain, then a clean exit).
// What a crash or a stop does beyond the process (its sockets reset, its unsynced writes lost, or its
// store closed cleanly) the node asks of its host, which owns the network and storage.
// With a cost model (cost-model.ts) the node is a single-threaded server in virtual time: one step at
// a time, in arrival order; a step runs when the node is free and its effects leave when its service
// time is over (busy-until clock), so a node offered more work than it can serve builds a queue.
// Without one, every step takes no time, as before (and the same trace).

import type { ChatNode } from '../../reference-server/core/chat-node.ts';
import type { Effect } from '../../reference-server/core/effects.ts';
import type { InputKind } from '../../reference-server/core/input-kind.ts';
import type { Input } from '../../reference-server/core/inputs.ts';
import { UncostedStepError } from '../../reference-server/runtime/cost-meter.ts';
import type { ConversationRecord } from '../../reference-server/store/message-store.ts';
import { type Agenda, EventKind, type SimEvent } from './agenda.ts';
import { type CostModel, StepCoster } from './cost-model.ts';
import type { HostCpu } from './host-cpu.ts';

/** What a node needs from the world around it. */
export type NodeHost = {
  readonly agenda: Agenda;
  newCore(index: number): ChatNode;
  carryOut(index: number, effects: readonly Effect[]): void;
  /** Sees each input the core is about to handle (simulated tracing); absent, nothing is called. */
  handling?: (index: number, input: Input) => void;
  /** The process died: the network resets its sockets, the storage forgets what it had not synced. */
  crashed(index: number): void;
  /** The process exited cleanly: its last sockets close, its store is closed (nothing is lost). */
  stopped(index: number): void;
  /**
   * A new process starts: `ready` gets the conversations once its store is open (recovered);
   * `abandoned` is true once that process died or stopped before it served.
   */
  starting(
    index: number,
    ready: (records: readonly ConversationRecord[]) => void,
    abandoned: () => boolean,
  ): void;
  /** The core is loaded and started (its bus may still be away). */
  booted(index: number): void;
  /** The process was frozen (SIGSTOP) or thawed: it heartbeats to nobody meanwhile. */
  frozen?: (index: number, frozen: boolean) => void;
  /** Steps cost service time (null: they take none). */
  readonly costModel: CostModel | null;
  /** The cores the nodes share with the other processes of the measured box (null: a core each). */
  readonly hostCpu?: HostCpu | null;
};

export class SimNode {
  core: ChatNode;
  epoch = 0;
  up = true;
  /** Restarted, waiting for its store to open (an embedded log replays first); not serving yet. */
  starting = false;
  paused = false;
  /** A graceful stop is under way: the load balancer sends new connections to other nodes. */
  draining = false;
  clockOffsetMs = 0;
  /** Runs once the core reports `drained` (no connection and no store operation left). */
  private onDrained: (() => void) | null = null;
  /** Events that arrived while paused, run in order at the resume. */
  private held: SimEvent[] = [];
  /** With a cost model: what a step costs, when the node is free again, and what waits for it. */
  private readonly coster: StepCoster | null;
  private busyUntil = 0;
  private waiting: SimEvent[] = [];
  private waitingHead = 0;
  private nextScheduled = false;
  /** Effects of steps whose service ended while the node was paused: they leave at the resume. */
  private heldEffects: Effect[][] = [];
  /** Virtual ms the node spent serving steps (its utilization: busyMs / elapsed). */
  busyMs = 0;
  /** Most steps ever waiting for the node at once. */
  queuePeak = 0;
  /** With a cost model: steps charged, and those of a kind the model has no cost for (by kind). */
  costedSteps = 0;
  readonly uncostedSteps = new Map<string, number>();

  constructor(
    readonly index: number,
    private readonly host: NodeHost,
  ) {
    this.core = host.newCore(index);
    this.coster = host.costModel === null ? null : new StepCoster(host.costModel);
  }

  /** The node's own clock (offset by a clock-offset fault). */
  clock(now: number): number {
    return now + this.clockOffsetMs;
  }

  /** Runs a node event unless it is void (node down or a past epoch); holds it while paused. */
  run(event: SimEvent, now: number): void {
    if (!this.up || this.epoch !== event.instance) return;
    if (this.paused) {
      this.held.push(kept(event));
      return;
    }
    if (this.coster !== null) {
      if (now < this.busyUntil || this.waitingHead < this.waiting.length) this.wait(event);
      else this.serve(event, now);
      return;
    }
    const nodeNow = now + this.clockOffsetMs;
    if (event.kind !== EventKind.nodeTick) this.host.handling?.(this.index, event.data as Input);
    const effects =
      event.kind === EventKind.nodeTick ? this.core.tick(nodeNow) : this.handle(event.data as Input, nodeNow);
    this.host.carryOut(this.index, effects);
  }

  /**
   * The core handles one input. An HTTP request whose step throws is answered 500, as the live HTTP
   * API's catch answers it (http-api.ts; the step's other effects are lost there too), so the run goes
   * on and the checkers judge the answer (protocol.md's HTTP errors are 400-503 by name, a 500 none of
   * them: an admin create whose `members` was not a list threw, mutant 1759 of the seed-6 sample).
   * Any other input's throw still crashes the run: a programmer error with no HTTP layer to answer it.
   */
  private handle(input: Input, nodeNow: number): Effect[] {
    if (input.type !== 'http') return this.core.handle(input, nodeNow);
    try {
      return this.core.handle(input, nodeNow);
    } catch (error) {
      if (!(error instanceof Error)) throw error;
      const message = `the server failed to answer: ${error.message}`;
      return [{ type: 'reply', req: input.req, status: 500, body: { code: 'internal', message } }];
    }
  }

  /** Runs one step now and charges its service time: its effects leave when the service is over. */
  private serve(event: SimEvent, now: number): void {
    const coster = this.coster!;
    const nodeNow = now + this.clockOffsetMs;
    const tick = event.kind === EventKind.nodeTick;
    let kind: InputKind;
    try {
      kind = coster.kindOf(tick ? 'tick' : (event.data as Input));
    } catch (error) {
      // The server's classifier threw on the step (live, the cost meter's step would throw as well):
      // counted for the costed-steps verdict as a step of no kind, so the run is judged, not crashed.
      if (!(error instanceof Error)) throw error;
      kind = `threw ${error.name}` as InputKind;
    }
    if (!tick) this.host.handling?.(this.index, event.data as Input);
    const effects = tick ? this.core.tick(nodeNow) : this.handle(event.data as Input, nodeNow);
    this.charge(kind, effects, now);
  }

  /** Charges a step of `kind` its service time: the node is busy until then, and its effects leave then. */
  private charge(kind: InputKind, effects: readonly Effect[], now: number): void {
    let serviceMs: number;
    try {
      serviceMs = this.serviceMs(kind, effects, now);
      this.costedSteps++;
    } catch (error) {
      if (!(error instanceof UncostedStepError)) throw error;
      // The server's own classifier named no costed kind for the step (live, `serve --cost-meter`
      // throws on it and drops the node's queued inputs): counted for the costed-steps verdict, and
      // served in no time, so the run goes on to be judged instead of crashing.
      this.uncostedSteps.set(kind, (this.uncostedSteps.get(kind) ?? 0) + 1);
      serviceMs = 0;
    }
    this.busyUntil = now + serviceMs;
    this.busyMs += serviceMs;
    if (serviceMs <= 0) {
      this.host.carryOut(this.index, effects);
      return;
    }
    const epoch = this.epoch;
    const out = effects.slice();
    this.host.agenda.at(this.busyUntil, () => {
      if (this.epoch !== epoch || !this.up) return;
      if (this.paused) this.heldEffects.push(out);
      else this.host.carryOut(this.index, out);
    });
  }

  /** A step's service time: its cost on this node's core (or its share of the measured box's). */
  private serviceMs(kind: InputKind, effects: readonly Effect[], now: number): number {
    const coster = this.coster!;
    const hostCpu = this.host.hostCpu ?? null;
    if (hostCpu === null) return coster.serviceMs(kind, effects);
    if (kind === 'send') hostCpu.message(now);
    const serviceMs = coster.cpuUs(kind, effects) / 1000 / hostCpu.speed(this.index, now);
    hostCpu.served(this.index, now + serviceMs);
    return serviceMs;
  }

  /** Queues a step behind the busy node; one callback at a time serves the queue in order. */
  private wait(event: SimEvent): void {
    this.waiting.push(kept(event));
    this.queuePeak = Math.max(this.queuePeak, this.waiting.length - this.waitingHead);
    if (!this.nextScheduled) this.serveNextAtFree();
  }

  private serveNextAtFree(): void {
    this.nextScheduled = true;
    const epoch = this.epoch;
    this.host.agenda.at(this.busyUntil, () => {
      if (this.epoch !== epoch) return;
      this.nextScheduled = false;
      if (this.paused) {
        // Paused in between: what waited is held with what arrives meanwhile, in order.
        this.held.push(...this.waiting.slice(this.waitingHead));
        this.clearWaiting();
        return;
      }
      const event = this.waiting[this.waitingHead++]!;
      if (this.waitingHead === this.waiting.length) this.clearWaiting();
      this.serve(event, this.host.agenda.now);
      if (this.waitingHead < this.waiting.length) this.serveNextAtFree();
    });
  }

  private clearWaiting(): void {
    this.waiting = [];
    this.waitingHead = 0;
  }

  /** Loads the conversations and starts the core. */
  boot(now: number, records: readonly ConversationRecord[]): void {
    this.core.load(records);
    const effects = this.core.start(now);
    // The start is a step like any other: the live server's cost meter times it ('start').
    if (this.coster === null) this.host.carryOut(this.index, effects);
    else this.charge(this.coster.kindOf('start'), effects, now);
    this.host.booted(this.index);
  }

  /** The process dies, also while it starts (a crash during recovery). */
  crash(): void {
    if (!this.up && !this.starting) return;
    this.down();
    this.host.crashed(this.index);
  }

  /**
   * A graceful stop begins (SIGTERM to a server): the core sends every client `drain` and closes it
   * with 1012; `drained` runs once the core reports no connection and no store operation left.
   */
  drain(reconnectInMs: number, drained: () => void): void {
    if (!this.up || this.draining) return;
    this.draining = true;
    this.onDrained = drained;
    const agenda = this.host.agenda;
    agenda.schedule(agenda.now, EventKind.nodeInput, this.index, this.epoch, {
      type: 'drain',
      reconnectInMs,
    });
  }

  /** The core reported `drained`. */
  drained(): void {
    const drained = this.onDrained;
    this.onDrained = null;
    drained?.();
  }

  /** The process exits cleanly (after its drain): the store is closed, not crashed. */
  stop(): void {
    if (!this.up) return;
    this.down();
    this.host.stopped(this.index);
  }

  private down(): void {
    this.up = false;
    this.starting = false;
    this.paused = false;
    this.draining = false;
    this.onDrained = null;
    this.held = [];
    this.clearWaiting();
    this.heldEffects = [];
    this.nextScheduled = false;
    this.busyUntil = 0;
    this.host.hostCpu?.reset(this.index);
    this.coster?.reset();
    this.epoch++;
  }

  /**
   * A fresh process on the same durable store; it serves once the store is open, then `serving` runs.
   * `starting` runs once its records are read, just before the core starts (and asks what it asks then).
   */
  restart(serving?: () => void, starting?: () => void): void {
    if (this.up || this.starting) return;
    this.starting = true;
    const epoch = this.epoch;
    const abandoned = (): boolean => this.epoch !== epoch || !this.starting;
    this.host.starting(
      this.index,
      (records) => {
        if (abandoned()) return;
        this.starting = false;
        this.core = this.host.newCore(this.index);
        this.up = true;
        starting?.();
        this.boot(this.host.agenda.now, records);
        serving?.();
      },
      abandoned,
    );
  }

  pause(): void {
    if (!this.paused) this.host.frozen?.(this.index, true);
    this.paused = true;
  }

  resume(): void {
    if (this.paused) this.host.frozen?.(this.index, false);
    this.paused = false;
    const heldEffects = this.heldEffects;
    this.heldEffects = [];
    for (const effects of heldEffects) this.host.carryOut(this.index, effects);
    const held = this.held;
    this.held = [];
    const agenda = this.host.agenda;
    for (const event of held)
      agenda.schedule(agenda.now, event.kind, event.target, event.instance, event.data);
  }

  setClockOffset(offsetMs: number): void {
    this.clockOffsetMs = offsetMs;
  }
}

/** A copy of an event to hold: the agenda refills the one it hands out for the next event. */
function kept(event: SimEvent): SimEvent {
  return { kind: event.kind, target: event.target, instance: event.instance, data: event.data, at: event.at };
}
