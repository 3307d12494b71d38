// Feeds a ChatNode its inputs one at a time and hands each effect to the runtime part that carries it
// out. Invariant: `handle`/`tick` is never called while the effects of a previous call are still being
// carried out (the core reuses its effect array), so inputs produced meanwhile wait in a queue.

import type { ChatNode } from '../core/chat-node.ts';
import type { Effect } from '../core/effects.ts';
import type { CoreStep } from '../core/input-kind.ts';
import type { Input } from '../core/inputs.ts';
import { runtimeLimits } from './limits.ts';

type EffectOf<T extends Effect['type']> = Extract<Effect, { type: T }>;

/** Who carries out each kind of effect. Each must return promptly; async work feeds its answer later. */
export type EffectSinks = { [T in Effect['type']]: (effect: EffectOf<T>) => void };

/** The part of ChatNode the driver needs; tests drive it with a scripted node. */
export type CoreNode = Pick<ChatNode, 'handle' | 'tick'> & Partial<Pick<ChatNode, 'start'>>;

/**
 * Sees each core step, its effects, and how long the step took to run and carry out (ms): the cost
 * meter (cost-meter.ts) times steps for capacity calibration. Absent, the driver reads no clock for it.
 */
export type StepMeter = (step: CoreStep, effects: readonly Effect[], elapsedMs: number) => void;

const tickItem = Symbol('tick');
const startItem = Symbol('start');
type QueueItem = Input | typeof tickItem | typeof startItem;

export class NodeDriver {
  private sinks: EffectSinks | null = null;
  private readonly queue: QueueItem[] = [];
  private head = 0;
  private running = false;
  private stopped = false;

  constructor(
    private readonly node: CoreNode,
    private readonly now: () => number = Date.now,
    private readonly meter?: StepMeter,
  ) {}

  /** Set once, after the parts that carry effects out exist (they need `feed` themselves). */
  attach(sinks: EffectSinks): void {
    if (this.sinks) throw new Error('NodeDriver.attach called twice');
    this.sinks = sinks;
  }

  feed(input: Input): void {
    this.enqueue(input);
  }

  /** Runs the core's due timers. */
  tick(): void {
    this.enqueue(tickItem);
  }

  /** Lets the core announce itself to the fleet (`ChatNode.start`); once, after attach. */
  start(): void {
    this.enqueue(startItem);
  }

  /** After this, inputs are ignored: answers that arrive after a hard stop have nobody to go to. */
  stop(): void {
    this.stopped = true;
  }

  get isStopped(): boolean {
    return this.stopped;
  }

  private enqueue(item: QueueItem): void {
    if (this.stopped) return;
    if (this.queue.length - this.head >= runtimeLimits.inputQueueMax)
      throw new Error(
        `NodeDriver: more than ${runtimeLimits.inputQueueMax} inputs queued (a feedback loop?)`,
      );
    this.queue.push(item);
    if (!this.running) this.pump();
  }

  private pump(): void {
    const sinks = this.sinks;
    if (!sinks) throw new Error('NodeDriver: input fed before attach');
    this.running = true;
    try {
      while (this.head < this.queue.length && !this.stopped) {
        const item = this.queue[this.head++]!;
        const started = this.meter ? performance.now() : 0;
        const now = this.now();
        const effects =
          item === tickItem
            ? this.node.tick(now)
            : item === startItem
              ? (this.node.start?.(now) ?? [])
              : this.node.handle(item, now);
        for (const effect of effects) dispatch(sinks, effect);
        this.meter?.(
          item === tickItem ? 'tick' : item === startItem ? 'start' : item,
          effects,
          performance.now() - started,
        );
      }
    } finally {
      this.queue.length = 0;
      this.head = 0;
      this.running = false;
    }
  }
}

function dispatch(sinks: EffectSinks, effect: Effect): void {
  switch (effect.type) {
    case 'send':
      return sinks.send(effect);
    case 'close':
      return sinks.close(effect);
    case 'verify':
      return sinks.verify(effect);
    case 'store':
      return sinks.store(effect);
    case 'publish':
      return sinks.publish(effect);
    case 'reply':
      return sinks.reply(effect);
    case 'wake':
      return sinks.wake(effect);
    case 'drained':
      return sinks.drained(effect);
  }
}
