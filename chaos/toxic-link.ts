// One direction of one proxied connection (Toxiproxy's ToxicLink): the source socket's chunks enter a
// hidden noop stub, pass the direction's toxics in order, and leave through a writer into the
// destination socket. Toxics added, updated or removed while the connection is open are spliced in
// and out of the running chain without dropping or reordering a byte: the affected stubs are
// interrupted (each hands on what it holds), rewired, and restarted.

import type { Socket } from 'node:net';
import { chaosLimits } from './limits.ts';
import { type LinkCounters, uncounted } from './proxy-metrics.ts';
import type { Toxic } from './toxic.ts';
import { EOF, type Inlet, type Item, now, ToxicStub } from './toxic-stub.ts';

/** The last stage: writes into the destination socket, waiting for 'drain' when the socket is full. */
class Writer implements Inlet {
  readonly queue: Item[] = [];
  upstream: { notify(): void } | null = null;
  private draining = false;
  dead = false;

  constructor(
    private readonly dest: Socket,
    private readonly onEof: () => void,
    private readonly counters: LinkCounters,
  ) {}

  put(item: Item): void {
    this.queue.push(item);
    this.pump();
  }

  hasRoom(): boolean {
    return this.dead || (!this.draining && this.queue.length < chaosLimits.writerQueueChunks);
  }

  /** The destination is gone: what remains is dropped, but EOF still ends the link. */
  destinationGone(): void {
    this.dead = true;
    this.draining = false;
    this.upstream?.notify();
    this.pump();
  }

  /** Counts and writes; false when the destination asks to wait for 'drain'. */
  private write(data: Buffer): boolean {
    this.counters.sent(data.length);
    return this.dest.write(data);
  }

  private pump(): void {
    while (!this.draining && this.queue.length > 0) {
      const item = this.queue.shift()!;
      if (item === EOF) {
        this.queue.length = 0;
        this.onEof();
      } else if (this.dead) {
        // Dropped: the destination is gone.
      } else if (!this.write(item.data)) {
        this.draining = true;
        this.dest.once('drain', () => {
          this.draining = false;
          // The stub may be waiting for room that an empty queue will not announce by itself.
          this.upstream?.notify();
          this.pump();
        });
      }
      this.upstream?.notify();
    }
  }
}

export class ToxicLink {
  /** stubs[i] runs chain[i]; stubs[0] is the hidden noop that the source feeds. */
  readonly stubs: ToxicStub[] = [];
  private readonly writer: Writer;
  private sourceDone = false;
  private paused = false;

  constructor(
    readonly direction: 'upstream' | 'downstream',
    private readonly chain: readonly Toxic[],
    private readonly source: Socket,
    dest: Socket,
    private readonly random: () => number,
    /** The link's EOF reached the writer: close the destination. */
    onEof: () => void,
    counters: LinkCounters = uncounted,
  ) {
    this.writer = new Writer(dest, onEof, counters);
    let output: Inlet = this.writer;
    for (let i = chain.length - 1; i >= 0; i--) {
      const stub = new ToxicStub(capacityOf(chain[i]!), output);
      output.upstream = stub;
      stub.state = chain[i]!.kind.newState?.();
      this.stubs.unshift(stub);
      output = stub;
    }
    const head = this.stubs[0]!;
    head.upstream = { notify: () => this.resumeIfRoom() };
    for (const [i, toxic] of chain.entries()) this.start(i, toxic);
    source.on('data', (data: Buffer) => {
      counters.received(data.length);
      head.put({ data, atMs: now() });
      if (!head.hasRoom() && !this.paused) {
        this.paused = true;
        source.pause();
      }
    });
  }

  /** The source sent FIN, failed, or was closed: EOF follows its last chunk down the chain. */
  sourceEnded(): void {
    if (this.sourceDone) return;
    this.sourceDone = true;
    this.stubs[0]!.put(EOF);
  }

  destinationGone(): void {
    this.writer.destinationGone();
  }

  /** The connection is gone: stop every toxic, deliver nothing more. */
  kill(): void {
    this.sourceDone = true;
    for (const stub of this.stubs) stub.kill();
  }

  async addToxic(toxic: Toxic): Promise<void> {
    const last = this.stubs.at(-1)!;
    const stub = new ToxicStub(capacityOf(toxic), last.output);
    this.stubs.push(stub);
    if (!(await last.interrupt())) {
      stub.closed = true;
      return;
    }
    stub.output.upstream = stub;
    last.output = stub;
    stub.upstream = last;
    stub.state = toxic.kind.newState?.();
    this.start(this.stubs.length - 1, toxic);
    this.start(this.stubs.length - 2, this.chain[this.stubs.length - 2]!);
  }

  async updateToxic(index: number, toxic: Toxic): Promise<void> {
    if (await this.stubs[index]!.interrupt()) this.start(index, toxic);
  }

  /** `chain` no longer holds the toxic; index is where it was. */
  async removeToxic(index: number, toxic: Toxic): Promise<void> {
    const stub = this.stubs[index]!;
    const previous = this.stubs[index - 1]!;
    if (!(await stub.interrupt())) {
      this.stubs.splice(index, 1);
      return;
    }
    toxic.kind.cleanup?.(stub);
    if (stub.closed) {
      // The cleanup ended the connection (timeout): the rest of the chain only carries EOF now.
      this.stubs.splice(index, 1);
      return;
    }
    const previousRunning = await previous.interrupt();
    // Whatever waits in the removed stub's input goes on ahead of anything `previous` sends later.
    for (const item of stub.queue.splice(0)) stub.output.put(item);
    previous.output = stub.output;
    stub.output.upstream = previous;
    this.stubs.splice(index, 1);
    stub.kill();
    if (previousRunning) this.start(index - 1, this.chain[index - 1]!);
  }

  private start(index: number, toxic: Toxic): void {
    const { kind, attributes, toxicity } = toxic;
    this.stubs[index]!.run((stub) => kind.pipe(stub, attributes, this.random), toxicity, this.random);
  }

  private resumeIfRoom(): void {
    if (this.paused && this.stubs[0]!.hasRoom()) {
      this.paused = false;
      this.source.resume();
    }
  }
}

function capacityOf(toxic: Toxic): number {
  return Math.max(chaosLimits.stubQueueChunks, toxic.kind.bufferChunks ?? 0);
}
