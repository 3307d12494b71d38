// What kind of work one core step is, for costing it: the live server's cost meter times each step by
// kind (capacity calibration) and the simulator charges each step the calibrated service time of its
// kind. A `stored` answer does not say which operation it answers, so the classifier remembers the
// kind of every store effect it saw leave until its answer comes back (ids are the core's own).

import type { Effect, StoreOp } from './effects.ts';
import type { Input } from './inputs.ts';

/** The client frames costed each as a kind of its own. */
const frameKindList = ['hello', 'send', 'sync', 'delivered', 'read', 'typing', 'watch'] as const;

/** Every kind a step is costed as. */
export const inputKinds = [
  ...frameKindList,
  'frame-other',
  'open',
  'gone',
  'verified',
  'stored-append',
  'stored-read',
  'stored-create',
  'stored-members',
  'stored-cursor',
  'stored-records',
  'backpressure',
  'bus',
  'bus-lost',
  'bus-resumed',
  'presence-resync',
  'http',
  'drain',
  'tick',
  'start',
] as const;

export type InputKind = (typeof inputKinds)[number];

/** A core step: an input, or a timer tick, or the node's start. */
export type CoreStep = Input | 'tick' | 'start';

/** What a step's effects cost beyond its kind: per frame sent, per recipient, per store op, per publish. */
export const effectFeatures = ['frame', 'recipient', 'store', 'publish'] as const;
export type EffectFeature = (typeof effectFeatures)[number];

const frameKinds: ReadonlySet<string> = new Set(frameKindList);
/** The frame type of a raw text frame, without parsing it (the `t` member the protocol puts first). */
const frameType = /"t"\s*:\s*"([a-z]+)"/;

export class InputClassifier {
  /** Store effects in flight: id -> the op kind its `stored` answer will be. */
  private readonly pending = new Map<number, StoreOp['kind']>();

  kindOf(step: CoreStep): InputKind {
    if (step === 'tick' || step === 'start') return step;
    switch (step.type) {
      case 'text': {
        const t = frameType.exec(step.text)?.[1];
        return t !== undefined && frameKinds.has(t) ? (t as InputKind) : 'frame-other';
      }
      case 'frame': {
        const t = (step.value as { t?: unknown } | null)?.t;
        return typeof t === 'string' && frameKinds.has(t) ? (t as InputKind) : 'frame-other';
      }
      case 'binary':
        return 'frame-other';
      case 'stored': {
        const op = this.pending.get(step.id);
        this.pending.delete(step.id);
        return op === undefined ? 'stored-append' : `stored-${op}`;
      }
      default:
        return step.type;
    }
  }

  /** Reads a step's effects: remembers store ops in flight; adds the effect features into `into`. */
  effects(effects: readonly Effect[], into: number[]): void {
    for (const effect of effects) {
      switch (effect.type) {
        case 'send':
          into[0]! += 1;
          into[1]! += effect.to.length;
          break;
        case 'store':
          this.pending.set(effect.id, effect.op.kind);
          into[2]! += 1;
          break;
        case 'publish':
          into[3]! += 1;
          break;
      }
    }
  }

  /** A crash forgets what was in flight (the new incarnation's ids start again). */
  reset(): void {
    this.pending.clear();
  }
}
