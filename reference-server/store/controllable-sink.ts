// Test support: a SegmentSink that forwards to another sink (or just records, when there is none)
// and lets a test hold syncs back or make the next write or sync fail, to watch what waits on them.

import type { SegmentSink } from './segment-file.ts';

export class ControllableSink implements SegmentSink {
  private readonly inner: SegmentSink | null;
  private gate: Promise<void> | null = null;
  private openGate: (() => void) | null = null;
  private syncFailure: Error | null = null;
  private writeFailure: Error | null = null;
  /** Bytes written per sync, in order: what each group commit covered. */
  readonly writes: { segment: number; position: number; bytes: number }[] = [];
  syncs = 0;
  private segment = 0;

  constructor(inner: SegmentSink | null = null) {
    this.inner = inner;
  }

  /** Syncs started from now on wait until `release()`. */
  hold(): void {
    if (this.gate !== null) return;
    this.gate = new Promise((resolve) => {
      this.openGate = resolve;
    });
  }

  release(): void {
    this.openGate?.();
    this.gate = null;
    this.openGate = null;
  }

  failNextSync(error: Error): void {
    this.syncFailure = error;
  }

  failNextWrite(error: Error): void {
    this.writeFailure = error;
  }

  async open(segment: number): Promise<void> {
    this.segment = segment;
    await this.inner?.open(segment);
  }

  async write(data: Buffer, position: number): Promise<void> {
    const failure = this.writeFailure;
    this.writeFailure = null;
    if (failure !== null) throw failure;
    this.writes.push({ segment: this.segment, position, bytes: data.length });
    await this.inner?.write(data, position);
  }

  async sync(): Promise<void> {
    await this.gate;
    const failure = this.syncFailure;
    this.syncFailure = null;
    if (failure !== null) throw failure;
    this.syncs++;
    await this.inner?.sync();
  }

  async close(): Promise<void> {
    await this.inner?.close();
  }
}
