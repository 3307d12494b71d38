// A running hash of everything a run does, so "same seed, same run, bit for bit" is checked, not
// hoped for. Two 32-bit FNV-style lanes (cheap in JS); checkpoints every `checkpointEvery` events
// let two runs of one seed name the first event where they diverge.

export class TraceHash {
  private h1 = 0x811c9dc5;
  private h2 = 0x2545f491;
  events = 0;
  readonly checkpoints: number[] = [];

  constructor(readonly checkpointEvery = 4096) {}

  mix(value: number): void {
    const v = value | 0;
    const w = ((value - v) * 4294967296) | 0; // fractional and high parts of non-32-bit numbers
    this.h1 = Math.imul(this.h1 ^ v, 0x01000193);
    this.h2 = Math.imul(this.h2 ^ (v + w), 0x5bd1e995);
    this.h2 ^= this.h2 >>> 15;
  }

  mixString(text: string): void {
    for (let i = 0; i < text.length; i++) this.mix(text.charCodeAt(i));
    this.mix(text.length);
  }

  /** A string folded to 32 bits first (FNV-1a), then mixed once: for bodies and ids on hot paths. */
  mixText(text: string): void {
    let h = 0x811c9dc5;
    for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
    this.mix(h);
    this.mix(text.length);
  }

  /** Marks the end of one event; records a checkpoint every `checkpointEvery` events. */
  endEvent(): void {
    this.events++;
    if (this.events % this.checkpointEvery === 0) this.checkpoints.push(this.value32());
  }

  value32(): number {
    return (this.h1 ^ Math.imul(this.h2, 0x9e3779b1)) >>> 0;
  }

  hex(): string {
    return (this.h1 >>> 0).toString(16).padStart(8, '0') + (this.h2 >>> 0).toString(16).padStart(8, '0');
  }
}

/** The first checkpoint where two runs differ: the divergence lies in the events before it. */
export function firstDivergence(
  a: readonly number[],
  b: readonly number[],
  checkpointEvery: number,
): number | null {
  const n = Math.min(a.length, b.length);
  for (let i = 0; i < n; i++) if (a[i] !== b[i]) return i * checkpointEvery;
  return a.length === b.length ? null : n * checkpointEvery;
}
