// A client that sends without pause until its connection dies, recording every ack: the workload of the
// crash tests. It keeps a bounded window of sends in flight, honours `rate_limited` by retrying the same
// cmid after retryAfterMs, and hands back what was acked and what was still unanswered at the end.

import type { AckFrame } from '../reference-server/protocol/frames.ts';
import { ChatClient } from './chat-client.ts';
import { testLimits } from './limits.ts';

export type PendingSend = { conv: string; cmid: string; body: string };
export type AckedSend = PendingSend & { from: string; seq: number; ts: number };
export type WriterResult = { acked: AckedSend[]; unanswered: PendingSend[]; errors: string[] };

export type WriterOptions = {
  wsUrl: string;
  token: string;
  user: string;
  convs: readonly string[];
  /** cmids are `${prefix}-${n}`, so every round and writer has its own. */
  cmidPrefix: string;
  /** Sends to repeat first, with their original cmid and body (idempotent retries after a crash). */
  retry?: readonly PendingSend[];
  windowSize?: number;
};

export class ContinuousWriter {
  private readonly acked: AckedSend[] = [];
  private readonly errors: string[] = [];
  private readonly inFlight = new Set<PendingSend>();
  private readonly toRetry: PendingSend[];
  private sent = 0;
  private stopped = false;
  readonly done: Promise<WriterResult>;

  private constructor(
    private readonly client: ChatClient,
    private readonly options: WriterOptions,
  ) {
    this.toRetry = [...(options.retry ?? [])];
    this.done = this.run();
  }

  /** Connects, says hello, and starts sending; resolves once the welcome arrived. */
  static async start(options: WriterOptions): Promise<ContinuousWriter> {
    const client = await ChatClient.connect(options.wsUrl, `writer ${options.user}`);
    await client.hello(options.token);
    return new ContinuousWriter(client, options);
  }

  /** Stops sending new messages; what is in flight may still be acked until the connection goes. */
  stop(): void {
    this.stopped = true;
  }

  get ackedCount(): number {
    return this.acked.length;
  }

  private async run(): Promise<WriterResult> {
    const windowSize = this.options.windowSize ?? testLimits.writerWindowMax;
    const lanes = Array.from({ length: windowSize }, () => this.lane());
    await Promise.all(lanes);
    const unanswered = [...this.inFlight, ...this.toRetry];
    return { acked: this.acked, unanswered, errors: this.errors };
  }

  /** One of `windowSize` loops, each with at most one send in flight. */
  private async lane(): Promise<void> {
    while (!this.stopped && this.client.isOpen && this.sent < testLimits.writerSendsMax) {
      const send = this.toRetry.shift() ?? this.fresh();
      this.inFlight.add(send);
      let answer: Awaited<ReturnType<ChatClient['sendMessage']>>;
      try {
        answer = await this.client.sendMessage(send.conv, send.cmid, send.body);
      } catch {
        return; // the connection died with this send unanswered: it stays in `inFlight`
      }
      this.inFlight.delete(send);
      if (answer.t === 'ack') this.record(send, answer);
      else if (answer.code === 'rate_limited' || answer.code === 'unavailable') {
        this.toRetry.push(send);
        await new Promise((resolve) => setTimeout(resolve, Math.max(answer.retryAfterMs ?? 0, 1)));
      } else this.errors.push(`${send.conv}/${send.cmid}: ${answer.code} ${answer.message}`);
    }
  }

  private fresh(): PendingSend {
    const n = this.sent++;
    const conv = this.options.convs[n % this.options.convs.length]!;
    const cmid = `${this.options.cmidPrefix}-${n}`;
    return { conv, cmid, body: `${this.options.user} says ${cmid} ✓ ${'.'.repeat(n % 50)}` };
  }

  private record(send: PendingSend, ack: AckFrame): void {
    this.acked.push({ ...send, from: this.options.user, seq: ack.seq, ts: ack.ts });
  }
}
