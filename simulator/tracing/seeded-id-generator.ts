// Trace and span ids drawn from the run's seed instead of Math.random, so a seeded simulation writes
// the same spans every time. Its own stream: tracing draws nothing the world draws from.

import type { IdGenerator } from '@opentelemetry/sdk-trace-base';
import { SeedStreams } from '../kernel/prng.ts';

export class SeededIdGenerator implements IdGenerator {
  private readonly prng;

  constructor(seed: number) {
    this.prng = new SeedStreams(seed).stream('otel-ids');
  }

  generateTraceId(): string {
    return this.hex(4);
  }

  generateSpanId(): string {
    return this.hex(2);
  }

  /** `words` 32-bit words as hex; never all zeros (an invalid id in W3C trace context). */
  private hex(words: number): string {
    for (;;) {
      let id = '';
      for (let i = 0; i < words; i++) id += this.prng.nextU32().toString(16).padStart(8, '0');
      if (!/^0+$/.test(id)) return id;
    }
  }
}
