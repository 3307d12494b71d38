// Seeded randomness for the simulator: xoshiro128** (fast, 32-bit, good statistics) seeded through
// splitmix32 from (root seed, stream name, index), so each subsystem and each client has its own
// independent stream and adding a client changes nobody else's draws.

export class Prng {
  private a: number;
  private b: number;
  private c: number;
  private d: number;

  constructor(seed: number) {
    let s = seed >>> 0;
    // splitmix32: a Weyl sequence through murmur3's finaliser.
    const next = (): number => {
      s = (s + 0x9e3779b9) >>> 0;
      return fmix32(s);
    };
    this.a = next();
    this.b = next();
    this.c = next();
    this.d = next();
    if ((this.a | this.b | this.c | this.d) === 0) this.d = 1;
  }

  /** Writes the stream's state (four words) at `into[at..at+3]`, for PrngTable to draw on from there. */
  copyState(into: Uint32Array, at: number): void {
    into[at] = this.a;
    into[at + 1] = this.b;
    into[at + 2] = this.c;
    into[at + 3] = this.d;
  }

  /** A uniform 32-bit unsigned integer. */
  nextU32(): number {
    const result = Math.imul(rotl(Math.imul(this.b, 5), 7), 9) >>> 0;
    const t = this.b << 9;
    this.c ^= this.a;
    this.d ^= this.b;
    this.b ^= this.c;
    this.a ^= this.d;
    this.c ^= t;
    this.d = rotl(this.d, 11);
    return result;
  }

  /** Uniform in [0, 1). */
  float(): number {
    return this.nextU32() / 4294967296;
  }

  /** Uniform integer in [0, n). */
  int(n: number): number {
    return Math.floor(this.float() * n);
  }

  /** Uniform in [min, max). */
  range(min: number, max: number): number {
    return min + this.float() * (max - min);
  }

  chance(p: number): boolean {
    return this.float() < p;
  }

  /** Exponentially distributed with the given mean (for Poisson arrivals). */
  exponential(mean: number): number {
    return -Math.log(1 - this.float()) * mean;
  }

  pick<T>(items: readonly T[]): T {
    return items[this.int(items.length)]!;
  }
}

function rotl(x: number, k: number): number {
  return (x << k) | (x >>> (32 - k));
}

/** 32-bit FNV-1a of a string, then avalanche-mixed: names streams. */
export function hashString(text: string): number {
  let h = 0x811c9dc5;
  for (let i = 0; i < text.length; i++) h = Math.imul(h ^ text.charCodeAt(i), 0x01000193);
  return fmix32(h);
}

export function fmix32(value: number): number {
  let h = value >>> 0;
  h = Math.imul(h ^ (h >>> 16), 0x85ebca6b);
  h = Math.imul(h ^ (h >>> 13), 0xc2b2ae35);
  return (h ^ (h >>> 16)) >>> 0;
}

/** The root of a run's randomness: every stream is a pure function of (seed, name, index). */
export class SeedStreams {
  constructor(readonly seed: number) {}

  stream(name: string, index = 0): Prng {
    const lo = this.seed >>> 0;
    const hi = Math.floor(this.seed / 4294967296) >>> 0;
    return new Prng(fmix32(fmix32(lo ^ hashString(name)) ^ fmix32(hi + Math.imul(index + 1, 0x9e3779b1))));
  }
}
