// One server node's life in the simulation: the real ChatNode core, its epoch (bumped by each crash,
// so events meant for a dead incarnation are void), and the faults a process suffers: crash and
// restart, pause and resume, a clock that runs off. What a crash does beyond the process (its sockets
// reset, its unsynced writes lost) the node asks of its host, which owns the network and storage.

import type { ChatNode } from '../../reference-server/core/chat-node.ts';
import type { Effect } from '../../reference-server/core/effects.ts';
import type { ConversationRecord } from '../../reference-server/store/message-store.ts';
import { type Agenda, EventKind, type SimEvent } from './agenda.ts';

/** What a node needs from the world around it. */
export type NodeHost = {
  readonly agenda: Agenda;
  newCore(index: number): ChatNode;
  carryOut(index: number, effects: readonly Effect[]): void;
  /** The process died: the network resets its sockets, the storage forgets what it had not synced. */
  crashed(index: number): void;
  /** A new process starts: `ready` gets the conversations once its store is open (recovered). */
  starting(index: number, ready: (records: readonly ConversationRecord[]) => void): void;
  /** The core is loaded and started (its bus may still be away). */
  booted(index: number): void;
};

export class SimNode {
  core: ChatNode;
  epoch = 0;
  up = true;
  /** Restarted, waiting for its store to open (an embedded log replays first); not serving yet. */
  starting = false;
  paused = false;
  clockOffsetMs = 0;
  /** Events that arrived while paused, run in order at the resume. */
  private held: SimEvent[] = [];

  constructor(
    readonly index: number,
    private readonly host: NodeHost,
  ) {
    this.core = host.newCore(index);
  }

  /** The node's own clock (offset by a clock-offset fault). */
  clock(now: number): number {
    return now + this.clockOffsetMs;
  }

  /** Runs a node event unless it is void (node down or a past epoch); holds it while paused. */
  run(event: SimEvent, now: number): void {
    if (!this.up || this.epoch !== event.instance) return;
    if (this.paused) {
      this.held.push(event);
      return;
    }
    const nodeNow = now + this.clockOffsetMs;
    const effects =
      event.kind === EventKind.nodeTick
        ? this.core.tick(nodeNow)
        : this.core.handle(event.data as never, nodeNow);
    this.host.carryOut(this.index, effects);
  }

  /** Loads the conversations and starts the core. */
  boot(now: number, records: readonly ConversationRecord[]): void {
    this.core.load(records);
    this.host.carryOut(this.index, this.core.start(now));
    this.host.booted(this.index);
  }

  /** The process dies, also while it starts (a crash during recovery). */
  crash(): void {
    if (!this.up && !this.starting) return;
    this.up = false;
    this.starting = false;
    this.paused = false;
    this.held = [];
    this.epoch++;
    this.host.crashed(this.index);
  }

  /** A fresh process on the same durable store; it serves once the store is open. */
  restart(): void {
    if (this.up || this.starting) return;
    this.starting = true;
    const epoch = this.epoch;
    this.host.starting(this.index, (records) => {
      if (this.epoch !== epoch || !this.starting) return;
      this.starting = false;
      this.core = this.host.newCore(this.index);
      this.up = true;
      this.boot(this.host.agenda.now, records);
    });
  }

  pause(): void {
    this.paused = true;
  }

  resume(): void {
    this.paused = false;
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
